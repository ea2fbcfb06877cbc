// Korean. Keys mirror en.ts exactly; i18n.test.ts fails the build when one side lacks a key or a
// `{placeholder}`.
import type { Dictionary } from './en';

export const ko: Dictionary = {
  'app.name': '옹기',
  'app.tagline': '커널까지 보이는 컨테이너',
  'app.version': '버전 {version} · {platform}',

  'nav.label': '섹션',
  'nav.machines': '머신',
  'nav.containers': '컨테이너',
  'nav.images': '이미지',
  'nav.networks': '네트워크',
  'nav.terminals': '터미널',
  'nav.activity': '활동',

  'language.label': '언어',
  'language.en': 'English',
  'language.ko': '한국어',

  'connection.label': '옹기 연결 상태',
  'connection.connecting': '연결 중…',
  'connection.open': '연결됨',
  'connection.lost': '다시 연결 중…',
  'connection.lostBanner': '옹기와의 연결이 끊겼습니다. 자동으로 다시 연결하는 중이며, 보이는 정보가 최신이 아닐 수 있습니다.',
  'connection.reconnectNow': '지금 다시 연결',
  'connection.missingToken.title': '접속 링크가 필요합니다',
  'connection.missingToken.body':
    '`onggi serve`가 출력한 전체 주소를 ?token= 부분까지 포함해 여세요. 토큰은 이 컴퓨터의 다른 프로그램이 접속하지 못하게 막아 줍니다.',

  'view.machines.description': '컨테이너가 실행되는 곳과 그 커널이 보고하는 정보입니다.',
  'view.containers.description': '컨테이너를 실행·중지·검사하고 로그, 네임스페이스, cgroup 파일, 실시간 차트를 봅니다.',
  'view.images.description': '진행 상황을 보며 이미지를 받고, tarball을 가져오고, 필요 없는 이미지를 지웁니다.',
  'view.networks.description': '브리지 네트워크를 만들고 커널이 보고하는 실시간 토폴로지를 봅니다.',
  'view.terminals.description': '머신과 컨테이너 안의 셸을, 연결이 끊겨도 유지되는 탭으로 엽니다.',
  'view.activity.description': '에이전트가 대신 실행한 모든 명령과 그 결과, 소요 시간입니다.',

  'placeholder.badge': '준비 중',
  'placeholder.title': '컨테이너 런타임과 함께 제공됩니다',
  'placeholder.body':
    '이 화면은 아직 만들어지지 않았습니다. 다음 릴리스의 컨테이너 런타임과 함께 제공됩니다. 그동안 머신 화면에서 에이전트가 보는 정보를 확인할 수 있습니다.',
  'placeholder.goToMachines': '머신으로 이동',

  'machines.refresh': '새로 고침',
  'machines.loading': '머신을 찾는 중…',
  'machines.empty.title': '아직 머신이 없습니다',
  'machines.empty.body': '추가한 머신이 여기에 표시됩니다.',
  'machines.listError': '머신 목록을 가져오지 못했습니다: {message}',
  'machines.retry': '다시 시도',

  'provider.local': '이 컴퓨터',
  'provider.vagrant': 'Vagrant VM',
  'provider.ssh': 'SSH 호스트',

  'state.label': '상태',
  'state.stopped': '중지됨',
  'state.starting': '시작 중',
  'state.connecting': '연결 중',
  'state.deploying': '에이전트 배포 중',
  'state.ready': '준비됨',
  'state.lost': '연결 끊김',
  'state.error': '오류',

  'machine.problem': '머신에서 문제가 발생했습니다',
  'machine.stale': '마지막으로 확인한 값',
  'machine.refreshInfo': '{machine} 새로 고침',
  'machine.info.loading': '시스템 정보를 읽는 중…',
  'machine.info.error': '시스템 정보를 읽지 못했습니다: {message}',
  'machine.info.waiting': '머신이 준비되면 시스템 정보가 표시됩니다.',

  'info.resources': '자원',
  'info.system': '시스템',
  'info.kernel': '커널',
  'info.cgroups': 'Cgroup',
  'info.agent': '에이전트',

  'info.cpus': 'CPU',
  'info.memory': '메모리',
  'info.uptime': '가동 시간',
  'info.hostname': '호스트 이름',
  'info.distro': '배포판',
  'info.machine': '머신 종류',
  'info.arch': '아키텍처',
  'info.kernelRelease': '커널 릴리스',
  'info.kernelVersion': '커널 버전',
  'info.cgroupVersion': 'cgroup 버전',
  'info.cgroupMode': 'cgroup 모드',
  'info.cgroupRootFs': '루트 파일 시스템',
  'info.cgroupControllers': '컨트롤러',
  'info.controller': '{name}: cgroup v{version}, {mountPoint}',
  'info.noControllers': '없음',
  'info.agentVersion': '에이전트 버전',
  'info.agentBuild': '빌드 ID',
  'info.agentPid': '프로세스 ID',
  'info.agentStarted': '시작 시각',

  'cgroupMode.unified': '통합 (v2 전용)',
  'cgroupMode.hybrid': '혼합 (v1 + v2)',
  'cgroupMode.legacy': '레거시 (v1 전용)',

  'duration.days': '{count}일',
  'duration.hours': '{count}시간',
  'duration.minutes': '{count}분',
  'duration.seconds': '{count}초',
};
