// The first screen when there is no machine yet (macOS, Windows, or Linux where this computer
// cannot be one): what Onggi needs, what the host found on this computer (Vagrant and a hypervisor,
// with where and which version), the exact commands that install what is missing, and the two ways
// on — a Vagrant VM (once Vagrant and a hypervisor are here) or an SSH host. The add dialogs are
// the Machines view's own.
import { useCallback, useEffect, useRef, useState } from 'react';
import { errorMessage } from '../../../../shared/errors.js';
import type { FoundTool, HostSetupReport, HypervisorFinding, InstallStep, InstallTarget } from '../../../../shared/host-setup.js';
import { Icon } from '../../components/icons';
import { RefreshButton } from '../../components/MachinePicker';
import { useT, type MessageKey } from '../../i18n';
import { copyText } from '../../lib/clipboard';
import { useClient } from '../../stores';
import { useToasts } from '../../stores/toasts';
import { AddSshDialog } from '../machines/AddSshDialog';
import { AddVagrantDialog } from '../machines/AddVagrantDialog';
import { ViewHeader } from '../ViewHeader';

type Check =
  | { status: 'loading'; report?: HostSetupReport }
  | { status: 'ready'; report: HostSetupReport }
  | { status: 'error'; error: string; report?: HostSetupReport };

/** `setup.check`, run on mount and again on Re-check; the last report stays shown while a new one runs. */
function useSetupCheck(): { check: Check; recheck: () => void } {
  const client = useClient();
  const [check, setCheck] = useState<Check>({ status: 'loading' });
  // Only the newest check may answer (a slow one must not overwrite a later Re-check's).
  const latest = useRef(0);
  const run = useCallback(() => {
    const request = ++latest.current;
    client.call('setup.check', undefined).then(
      (report) => request === latest.current && setCheck({ status: 'ready', report }),
      (error: unknown) =>
        request === latest.current &&
        setCheck((previous) => ({ status: 'error', error: errorMessage(error), ...(previous.report ? { report: previous.report } : {}) })),
    );
  }, [client]);
  useEffect(() => {
    run();
    const requests = latest;
    return () => {
      requests.current++; // unmounted: drop whatever answers
    };
  }, [run]);
  const recheck = useCallback(() => {
    setCheck((previous) => ({ status: 'loading', ...(previous.report ? { report: previous.report } : {}) }));
    run();
  }, [run]);
  return { check, recheck };
}

/** Product names: the same in every language. VMware's desktop product is Fusion on a Mac, Workstation elsewhere. */
function productName(target: InstallTarget, os: HostSetupReport['os']): string {
  switch (target) {
    case 'vagrant':
      return 'Vagrant';
    case 'virtualbox':
      return 'VirtualBox';
    case 'vmware':
      return os === 'darwin' ? 'VMware Fusion' : 'VMware Workstation';
    case 'parallels':
      return 'Parallels Desktop';
    case 'hyperv':
      return 'Hyper-V';
    case 'libvirt':
      return 'libvirt (KVM)';
  }
}

const introKeys: Record<HostSetupReport['os'], MessageKey> = {
  darwin: 'welcome.intro.darwin',
  win32: 'welcome.intro.win32',
  linux: 'welcome.intro.linux',
};

const vmTitleKeys: Record<HostSetupReport['os'], MessageKey> = {
  darwin: 'welcome.vm.title.darwin',
  win32: 'welcome.vm.title.win32',
  linux: 'welcome.vm.title.linux',
};

const managerMissingKeys: Partial<Record<NonNullable<InstallStep['command']>['manager'], MessageKey>> = {
  brew: 'welcome.install.noBrew',
  winget: 'welcome.install.noWinget',
};

export function WelcomeView() {
  const t = useT();
  const { check, recheck } = useSetupCheck();
  const [adding, setAdding] = useState<'ssh' | 'vagrant'>();
  const report = check.report;
  return (
    <>
      <ViewHeader
        title={t('welcome.title')}
        description={report ? t(introKeys[report.os]) : t('welcome.intro')}
        actions={<RefreshButton onClick={recheck} loading={check.status === 'loading'} label={t('welcome.recheck')} />}
      />
      {adding === 'ssh' && <AddSshDialog onClose={() => setAdding(undefined)} />}
      {adding === 'vagrant' && (
        <AddVagrantDialog
          onClose={() => setAdding(undefined)}
          {...(report?.suggestedProvider ? { provider: report.suggestedProvider } : {})}
        />
      )}
      <div className="view-body welcome">
        {check.status === 'error' && (
          <div className="callout callout--bad" role="alert">
            <Icon name="alert" />
            <p>{t('welcome.checkFailed', { message: check.error })}</p>
          </div>
        )}
        <div className="welcome-ways">
          <section className="card welcome-way" aria-labelledby="welcome-vm" aria-busy={check.status === 'loading'}>
            <header className="welcome-way-header">
              <span className="machine-icon">
                <Icon name="machines" size={22} />
              </span>
              <div>
                <h2 id="welcome-vm">{report ? t(vmTitleKeys[report.os]) : t('welcome.vm.title.linux')}</h2>
                <p className="muted">{t('welcome.vm.body')}</p>
              </div>
            </header>
            {report ? (
              <VagrantSetup report={report} />
            ) : check.status === 'loading' ? (
              <div className="loading" role="status">
                <span className="spinner" aria-hidden="true" />
                {t('welcome.checking')}
              </div>
            ) : null}
            <div className="welcome-way-actions">
              <button
                type="button"
                className={report?.vagrantReady ? 'button button--primary' : 'button'}
                disabled={!report?.vagrantReady}
                onClick={() => setAdding('vagrant')}
              >
                <Icon name="plus" size={16} />
                {t('machines.add.vagrant')}
              </button>
              {report && !report.vagrantReady && <span className="muted">{t('welcome.vm.notReady')}</span>}
            </div>
          </section>

          <section className="card welcome-way" aria-labelledby="welcome-ssh">
            <header className="welcome-way-header">
              <span className="machine-icon">
                <Icon name="terminals" size={22} />
              </span>
              <div>
                <h2 id="welcome-ssh">{t('welcome.ssh.title')}</h2>
                <p className="muted">{t('welcome.ssh.body')}</p>
              </div>
            </header>
            <div className="welcome-way-actions">
              <button type="button" className="button button--primary" onClick={() => setAdding('ssh')}>
                <Icon name="plus" size={16} />
                {t('machines.add.ssh')}
              </button>
            </div>
          </section>
        </div>
      </div>
    </>
  );
}

function VagrantSetup({ report }: { report: HostSetupReport }) {
  const t = useT();
  return (
    <>
      <ul className="welcome-checklist" aria-label={t('welcome.found.label')}>
        <ToolRow name="Vagrant" found={report.vagrant.found} />
        {report.hypervisors.map((hypervisor) => (
          <ToolRow key={hypervisor.id} name={productName(hypervisor.id, report.os)} found={hypervisor.found} hypervisor={hypervisor} />
        ))}
      </ul>
      {report.vagrantReady ? (
        <p className="welcome-ready">
          <Icon name="check" size={16} />
          {t('welcome.ready', { provider: report.suggestedProvider ?? '' })}
        </p>
      ) : (
        <div className="welcome-install">
          <h3>{t('welcome.install.title')}</h3>
          <ol>
            {report.install.map((step, index) => (
              <InstallStepItem key={index} step={step} os={report.os} />
            ))}
          </ol>
          <p className="muted">{t('welcome.install.then')}</p>
        </div>
      )}
    </>
  );
}

function ToolRow({ name, found, hypervisor }: { name: string; found: FoundTool | undefined; hypervisor?: HypervisorFinding }) {
  const t = useT();
  const tooOld = hypervisor?.unusable;
  const tone = !found ? 'idle' : tooOld ? 'warn' : 'ok';
  const status = !found
    ? t('welcome.tool.missing')
    : tooOld
      ? t('welcome.tool.tooOld', { minimum: tooOld.minimumVersion })
      : t('welcome.tool.found');
  return (
    <li className="welcome-tool">
      <span className="welcome-tool-name">
        {name}
        {found?.version && <span className="muted"> {found.version}</span>}
      </span>
      <span className={`badge badge--${tone}`}>
        <span className="badge-dot" aria-hidden="true" />
        {status}
      </span>
      {found && (
        <span className="welcome-tool-path mono" title={found.path}>
          {found.path}
        </span>
      )}
      {found && !tooOld && hypervisor?.pluginCommand && (
        <span className="welcome-tool-note muted">
          {t('welcome.tool.plugin')} <code className="mono">{hypervisor.pluginCommand}</code>
        </span>
      )}
    </li>
  );
}

function InstallStepItem({ step, os }: { step: InstallStep; os: HostSetupReport['os'] }) {
  const t = useT();
  const push = useToasts((state) => state.push);
  const names = step.installs.map(({ target }) => productName(target, os)).join(' + ');
  const command = step.command;
  const copy = (): void => {
    if (!command) return;
    copyText(command.text).then(
      () => push({ tone: 'ok', title: t('welcome.install.copied') }),
      (error: unknown) => push({ tone: 'bad', title: t('welcome.install.copyFailed'), detail: errorMessage(error) }),
    );
  };
  const missingManager = command && !command.managerFound ? managerMissingKeys[command.manager] : undefined;
  // Hyper-V is switched on, not downloaded: its page says how.
  const feature = step.installs.every(({ target }) => target === 'hyperv');
  const pagesLabel = feature ? 'welcome.install.guide' : command ? 'welcome.install.orDownload' : 'welcome.install.download';
  return (
    <li className="welcome-step">
      <p className="welcome-step-title">{t(feature ? 'welcome.install.turnOn' : 'welcome.install.step', { names })}</p>
      {command && (
        <>
          {command.admin && <p className="muted">{t('welcome.install.admin')}</p>}
          <div className="welcome-command">
            <code className="mono">{command.text}</code>
            <button
              type="button"
              className="icon-button"
              onClick={copy}
              aria-label={t('welcome.install.copy', { command: command.text })}
              title={t('welcome.install.copyShort')}
            >
              <Icon name="copy" size={16} />
            </button>
          </div>
          {missingManager && <p className="muted">{t(missingManager)}</p>}
        </>
      )}
      <p className="welcome-step-pages muted">
        {t(pagesLabel)}{' '}
        {step.installs.map(({ target, url }, index) => (
          <span key={target}>
            {index > 0 && ' · '}
            <a href={url} target="_blank" rel="noreferrer">
              {productName(target, os)}
            </a>
          </span>
        ))}
      </p>
    </li>
  );
}
