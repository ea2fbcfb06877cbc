// English: the reference dictionary. Every string the window shows comes from here (or from its
// Korean twin); `{name}` marks a value filled in at run time and must appear in every language.
export const en = {
  'app.name': 'Onggi',
  'app.tagline': 'Containers, down to the kernel',
  'app.version': 'Version {version} · {platform}',

  'nav.label': 'Sections',
  'nav.machines': 'Machines',
  'nav.containers': 'Containers',
  'nav.images': 'Images',
  'nav.networks': 'Networks',
  'nav.terminals': 'Terminals',
  'nav.activity': 'Activity',

  'language.label': 'Language',
  'language.en': 'English',
  'language.ko': '한국어',

  'connection.label': 'Connection to Onggi',
  'connection.connecting': 'Connecting…',
  'connection.open': 'Connected',
  'connection.lost': 'Reconnecting…',
  'connection.lostBanner': 'The connection to Onggi was lost. Reconnecting on its own; what you see may be out of date.',
  'connection.reconnectNow': 'Reconnect now',
  'connection.missingToken.title': 'This page needs its access link',
  'connection.missingToken.body':
    'Open the full address that `onggi serve` printed, including the ?token= part. The token keeps other programs on this computer out.',

  'view.machines.description': 'Where your containers run, and what their kernel reports.',
  'view.containers.description': 'Run, stop and inspect containers, with their logs, namespaces, cgroup files and live charts.',
  'view.images.description': 'Pull images with progress, import tarballs, and remove what you no longer need.',
  'view.networks.description': 'Create bridge networks and watch the live topology the kernel reports.',
  'view.terminals.description': 'Shells on machines and inside containers, in tabs that survive a dropped link.',
  'view.activity.description': 'Every command the agent runs on your behalf, with its result and duration.',

  'placeholder.badge': 'Coming soon',
  'placeholder.title': 'Arrives with the container runtime',
  'placeholder.body':
    'This view is not built yet. It comes with the container runtime in an upcoming release. Meanwhile, Machines shows what the agent sees.',
  'placeholder.goToMachines': 'Go to Machines',

  'machines.refresh': 'Refresh',
  'machines.loading': 'Looking for machines…',
  'machines.empty.title': 'No machines yet',
  'machines.empty.body': 'Machines you add appear here.',
  'machines.listError': 'Could not list machines: {message}',
  'machines.retry': 'Try again',

  'provider.local': 'This computer',
  'provider.vagrant': 'Vagrant VM',
  'provider.ssh': 'SSH host',

  'state.label': 'State',
  'state.stopped': 'Stopped',
  'state.starting': 'Starting',
  'state.connecting': 'Connecting',
  'state.deploying': 'Deploying agent',
  'state.ready': 'Ready',
  'state.lost': 'Connection lost',
  'state.error': 'Error',

  'machine.problem': 'The machine reported a problem',
  'machine.stale': 'Last known',
  'machine.refreshInfo': 'Refresh {machine}',
  'machine.info.loading': 'Reading system information…',
  'machine.info.error': 'Could not read system information: {message}',
  'machine.info.waiting': 'System information appears once the machine is ready.',

  'info.resources': 'Resources',
  'info.system': 'System',
  'info.kernel': 'Kernel',
  'info.cgroups': 'Cgroups',
  'info.agent': 'Agent',

  'info.cpus': 'CPUs',
  'info.memory': 'Memory',
  'info.uptime': 'Uptime',
  'info.hostname': 'Hostname',
  'info.distro': 'Distribution',
  'info.machine': 'Machine type',
  'info.arch': 'Architecture',
  'info.kernelRelease': 'Kernel release',
  'info.kernelVersion': 'Kernel version',
  'info.cgroupVersion': 'Cgroup version',
  'info.cgroupMode': 'Cgroup mode',
  'info.cgroupRootFs': 'Root file system',
  'info.cgroupControllers': 'Controllers',
  'info.controller': '{name}: cgroup v{version} at {mountPoint}',
  'info.noControllers': 'None',
  'info.agentVersion': 'Agent version',
  'info.agentBuild': 'Build ID',
  'info.agentPid': 'Process ID',
  'info.agentStarted': 'Started',

  'cgroupMode.unified': 'Unified (v2 only)',
  'cgroupMode.hybrid': 'Hybrid (v1 + v2)',
  'cgroupMode.legacy': 'Legacy (v1 only)',

  'duration.days': '{count} d',
  'duration.hours': '{count} h',
  'duration.minutes': '{count} min',
  'duration.seconds': '{count} s',
} as const satisfies Record<string, string>;

export type MessageKey = keyof typeof en;
export type Dictionary = Record<MessageKey, string>;
