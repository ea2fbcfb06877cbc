import { useEffect, useId, useRef, useState } from 'react';
import { errorMessage } from '../../../shared/errors.js';
import type { MachineSummary } from '../../../shared/host-api.js';
import { CLOCK_TOLERANCE_MS, type MachineClock } from '../../../shared/clock.js';
import type { MachineInfo } from '../../../shared/host-api.js';
import type { CgroupInfo } from '../../../shared/system-info.js';
import { Fact, FactGroup, Tile } from '../components/Facts';
import { Icon } from '../components/icons';
import { RefreshButton } from '../components/MachinePicker';
import { StateBadge } from '../components/StateBadge';
import { formatBytes, formatDateTime, formatDuration, formatNumber, useLanguage, useT, type MessageKey } from '../i18n';
import { useHost, useMachines } from '../stores';
import type { InfoEntry } from '../stores/machines';
import { useToasts } from '../stores/toasts';
import { AddSshDialog } from './machines/AddSshDialog';
import { AddVagrantDialog } from './machines/AddVagrantDialog';
import { AddEc2Dialog } from './machines/AddEc2Dialog';
import { Ec2Panel } from './machines/Ec2Panel';
import { ContainerDefaultsPanel } from './machines/ContainerDefaultsPanel';
import { DiskUsagePanel } from './machines/DiskUsagePanel';
import { SharedFoldersPanel } from './machines/SharedFoldersPanel';
import { ConnectButton, DeployBar, RemoveMachineButton, RetryCountdown } from './machines/MachineConnection';
import { ViewHeader } from './ViewHeader';

const providerLabels: Record<MachineSummary['provider'], MessageKey> = {
  local: 'provider.local',
  vagrant: 'provider.vagrant',
  ssh: 'provider.ssh',
  ec2: 'provider.ec2',
};

const cgroupModeLabels: Record<CgroupInfo['mode'], MessageKey> = {
  unified: 'cgroupMode.unified',
  hybrid: 'cgroupMode.hybrid',
  legacy: 'cgroupMode.legacy',
};

export function MachinesView() {
  const t = useT();
  const status = useMachines((state) => state.status);
  const error = useMachines((state) => state.error);
  const machines = useMachines((state) => state.machines);
  const load = useMachines((state) => state.load);
  const [adding, setAdding] = useState<'ssh' | 'vagrant' | 'ec2'>();
  return (
    <>
      <ViewHeader
        title={t('nav.machines')}
        description={t('view.machines.description')}
        actions={
          <>
            <RefreshButton onClick={() => void load()} loading={status === 'loading'} label={t('machines.refresh')} />
            <button type="button" className="button button--primary" onClick={() => setAdding('ssh')}>
              <Icon name="plus" size={16} />
              {t('machines.add.ssh')}
            </button>
            <button type="button" className="button button--primary" onClick={() => setAdding('vagrant')}>
              <Icon name="plus" size={16} />
              {t('machines.add.vagrant')}
            </button>
            <button type="button" className="button button--primary" onClick={() => setAdding('ec2')}>
              <Icon name="plus" size={16} />
              {t('machines.add.ec2')}
            </button>
          </>
        }
      />
      {adding === 'ssh' && <AddSshDialog onClose={() => setAdding(undefined)} />}
      {adding === 'vagrant' && <AddVagrantDialog onClose={() => setAdding(undefined)} />}
      {adding === 'ec2' && <AddEc2Dialog onClose={() => setAdding(undefined)} />}
      <div className="view-body">
        {status === 'error' && (
          <div className="callout callout--bad" role="alert">
            <Icon name="alert" />
            <p>{t('machines.listError', { message: error ?? '' })}</p>
            <button type="button" className="button button--small" onClick={() => void load()}>
              {t('machines.retry')}
            </button>
          </div>
        )}
        {machines.length === 0 && (status === 'loading' || status === 'idle') && <Loading text={t('machines.loading')} />}
        {machines.length === 0 && status === 'ready' && (
          <div className="empty">
            <Icon name="machines" size={32} />
            <h2>{t('machines.empty.title')}</h2>
            <p>{t('machines.empty.body')}</p>
          </div>
        )}
        {machines.map((machine) => (
          <MachineCard key={machine.name} machine={machine} />
        ))}
      </div>
    </>
  );
}

function Loading({ text }: { text: string }) {
  return (
    <div className="loading" role="status">
      <span className="spinner" aria-hidden="true" />
      {text}
    </div>
  );
}

export function MachineCard({ machine }: { machine: MachineSummary }) {
  const t = useT();
  const headingId = useId();
  const entry: InfoEntry | undefined = useMachines((state) => state.info[machine.name]);
  const loadInfo = useMachines((state) => state.loadInfo);
  const connection = useHost((state) => state.connection);
  const data = entry?.data;
  // What was read before the link to the window or to the machine dropped is not current.
  const stale = data !== undefined && (connection !== 'open' || entry?.status === 'error' || machine.state === 'lost');
  const problem = machine.state === 'error' || machine.state === 'lost' ? machine.error : undefined;
  const infoError = entry?.status === 'error' && entry.error !== problem ? entry.error : undefined;
  return (
    <section className="machine card" aria-labelledby={headingId} aria-busy={entry?.status === 'loading'}>
      <header className="machine-header">
        <span className="machine-icon">
          <Icon name="machines" size={22} />
        </span>
        <div className="machine-title">
          <h2 id={headingId}>{machine.name}</h2>
          <span className="machine-provider">{t(providerLabels[machine.provider])}</span>
        </div>
        <div className="machine-meta">
          {stale && <span className="tag tag--warn">{t('machine.stale')}</span>}
          <StateBadge state={machine.state} />
          <RetryCountdown machine={machine} />
          {(machine.provider === 'vagrant' || machine.provider === 'ec2') && <StartStopControls machine={machine} />}
          {(machine.provider === 'ssh' || machine.provider === 'ec2') && <ConnectButton machine={machine} />}
          {machine.provider !== 'local' && <RemoveMachineButton machine={machine} />}
          <button
            type="button"
            className="icon-button"
            onClick={() => void loadInfo(machine.name)}
            disabled={entry?.status === 'loading'}
            aria-label={t('machine.refreshInfo', { machine: machine.name })}
            title={t('machine.refreshInfo', { machine: machine.name })}
          >
            <Icon name="refresh" size={16} className={entry?.status === 'loading' ? 'spin' : undefined} />
          </button>
        </div>
      </header>

      {problem !== undefined && (
        <div className="callout callout--bad" role="alert">
          <Icon name="alert" />
          <div>
            <p className="callout-title">{t('machine.problem')}</p>
            <p className="callout-detail">{problem}</p>
          </div>
        </div>
      )}
      {infoError !== undefined && (
        <div className="callout callout--bad" role="alert">
          <Icon name="alert" />
          <p>{t('machine.info.error', { message: infoError })}</p>
        </div>
      )}

      <DeployBar machine={machine} />
      {machine.provider === 'vagrant' && <VagrantLog machine={machine.name} />}
      {machine.provider === 'ec2' && <Ec2Panel machine={machine} />}

      {data ? (
        <SystemInfoPanel info={data} stale={stale} />
      ) : entry?.status === 'loading' ? (
        <Loading text={t('machine.info.loading')} />
      ) : entry === undefined ? (
        <p className="muted machine-waiting">{t('machine.info.waiting')}</p>
      ) : null}
      {machine.state === 'ready' && <DiskUsagePanel machine={machine.name} />}
      {machine.state === 'ready' && <ContainerDefaultsPanel machine={machine.name} />}
      {/* every machine reached over SSH shares desktop folders; the local one sees them as they are */}
      {machine.provider !== 'local' && <SharedFoldersPanel machine={machine.name} />}
    </section>
  );
}

/** Start and stop for a Vagrant machine (`vagrant up`/`halt`) or an EC2 instance; a failure becomes a toast. */
function StartStopControls({ machine }: { machine: MachineSummary }) {
  const t = useT();
  const phase = useMachines((state) => state.lifecycle[machine.name]);
  const start = useMachines((state) => state.start);
  const stop = useMachines((state) => state.stop);
  const push = useToasts((state) => state.push);
  const run = async (action: 'start' | 'stop'): Promise<void> => {
    try {
      await (action === 'start' ? start : stop)(machine.name);
    } catch (error) {
      const title = t(action === 'start' ? 'machine.startFailed' : 'machine.stopFailed', { machine: machine.name });
      push({ tone: 'bad', title, detail: errorMessage(error) });
    }
  };
  const running = machine.state === 'ready' || machine.state === 'connecting' || machine.state === 'deploying';
  return (
    <>
      <button
        type="button"
        className="button button--small"
        onClick={() => void run('start')}
        disabled={phase !== undefined || running}
        aria-label={t('machine.start', { machine: machine.name })}
      >
        <Icon name="play" size={14} />
        {phase === 'starting' ? t('machine.starting') : t('machine.startShort')}
      </button>
      <button
        type="button"
        className="button button--small"
        onClick={() => void run('stop')}
        disabled={phase !== undefined}
        aria-label={t('machine.stop', { machine: machine.name })}
      >
        <Icon name="stop" size={14} />
        {phase === 'stopping' ? t('machine.stopping') : t('machine.stopShort')}
      </button>
    </>
  );
}

/** The streamed `vagrant up`/`halt` output of the latest start or stop, kept scrolled to the end. */
export function VagrantLog({ machine }: { machine: string }) {
  const t = useT();
  const lines = useMachines((state) => state.vagrantLog[machine]);
  const box = useRef<HTMLPreElement>(null);
  useEffect(() => {
    const element = box.current;
    if (element) element.scrollTop = element.scrollHeight;
  }, [lines]);
  if (!lines || lines.length === 0) return null;
  return (
    <pre ref={box} className="vagrant-log mono" role="log" aria-label={t('machine.vagrantLog', { machine })} tabIndex={0}>
      {lines.map((line, index) => (
        <span key={index} className={`vagrant-log-line vagrant-log-line--${line.kind === 'error' ? 'error' : 'output'}`}>
          {line.text}
          {'\n'}
        </span>
      ))}
    </pre>
  );
}

/**
 * The machine's clock, when it matters: off by more than a second (left alone: an SSH host keeps
 * its own time), or stepped back by Onggi after a sleep. A clock in line says nothing.
 */
export function ClockNote({ clock }: { clock: MachineClock }) {
  const t = useT();
  const seconds = (ms: number): string => (Math.abs(ms) / 1000).toFixed(1);
  const off = Math.abs(clock.offsetMs) > CLOCK_TOLERANCE_MS;
  if (!off && !clock.corrected) return null;
  const direction = (ms: number): string => t(ms < 0 ? 'clock.behind' : 'clock.ahead');
  return (
    <p className={off ? 'clock-note clock-note--off' : 'clock-note'} role={off ? 'alert' : 'status'}>
      {off
        ? t(clock.policy === 'correct' ? 'clock.offUncorrected' : 'clock.offReported', {
            seconds: seconds(clock.offsetMs),
            direction: direction(clock.offsetMs),
          })
        : t('clock.corrected', {
            seconds: seconds(clock.corrected?.offsetBeforeMs ?? 0),
            time: new Date(clock.corrected?.at ?? 0).toLocaleTimeString(),
          })}
      {clock.error ? ` ${clock.error}` : ''}
    </p>
  );
}

export function SystemInfoPanel({ info, stale }: { info: MachineInfo; stale?: boolean }) {
  const t = useT();
  const language = useLanguage();
  return (
    <div className={stale ? 'system-info is-stale' : 'system-info'}>
      {info.clock ? <ClockNote clock={info.clock} /> : null}
      <dl className="tiles">
        <Tile term={t('info.cpus')} icon="cpu">
          {formatNumber(language, info.cpus)}
        </Tile>
        <Tile term={t('info.memory')} icon="memory" title={`${formatNumber(language, info.memoryBytes)} B`}>
          {formatBytes(language, info.memoryBytes)}
        </Tile>
        <Tile term={t('info.uptime')} icon="clock">
          {formatDuration(language, info.uptimeSeconds)}
        </Tile>
        <Tile term={t('info.arch')} icon="arch">
          {info.arch}
        </Tile>
      </dl>
      <div className="fact-groups">
        <FactGroup title={t('info.system')} icon="system">
          <Fact term={t('info.hostname')} mono>
            {info.hostname}
          </Fact>
          <Fact term={t('info.distro')}>{info.distro.prettyName}</Fact>
          <Fact term={t('info.machine')} mono>
            {info.machine}
          </Fact>
        </FactGroup>
        <FactGroup title={t('info.kernel')} icon="kernel">
          <Fact term={t('info.kernelRelease')} mono>
            {info.kernelRelease}
          </Fact>
          <Fact term={t('info.kernelVersion')} mono>
            {info.kernelVersion}
          </Fact>
        </FactGroup>
        <FactGroup title={t('info.cgroups')} icon="cgroups">
          <Fact term={t('info.cgroupVersion')}>{info.cgroup.version}</Fact>
          <Fact term={t('info.cgroupMode')}>{t(cgroupModeLabels[info.cgroup.mode])}</Fact>
          <Fact term={t('info.cgroupRootFs')} mono>
            {info.cgroup.rootFsType}
          </Fact>
          <Fact term={t('info.cgroupControllers')}>
            {info.cgroup.controllers.length === 0 ? (
              t('info.noControllers')
            ) : (
              <ul className="chips">
                {info.cgroup.controllers.map((controller) => (
                  <li
                    key={`${controller.name}@${controller.mountPoint}`}
                    className={`chip chip--v${controller.version}`}
                    title={t('info.controller', { name: controller.name, version: controller.version, mountPoint: controller.mountPoint })}
                  >
                    {controller.name}
                    <span className="chip-version">v{controller.version}</span>
                  </li>
                ))}
              </ul>
            )}
          </Fact>
        </FactGroup>
        <FactGroup title={t('info.agent')} icon="agent">
          <Fact term={t('info.agentVersion')} mono>
            {info.agent.version}
          </Fact>
          <Fact term={t('info.agentBuild')} mono title={info.agent.buildId}>
            {info.agent.buildId.slice(0, 12)}
          </Fact>
          <Fact term={t('info.agentPid')} mono>
            {info.agent.pid}
          </Fact>
          <Fact term={t('info.agentStarted')}>{formatDateTime(language, info.agent.startedAt)}</Fact>
        </FactGroup>
      </div>
    </div>
  );
}
