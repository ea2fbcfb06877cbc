// Add an SSH host: pick a Host of ~/.ssh/config (its keys and ProxyJump come along) or type host,
// user and port; an optional key file (a path typed here: browser mode has no picker that yields
// one); where the agent lives on the machine, for hosts where the defaults do not suit. Checked
// with the API's own schema as typed. Adding connects once: the host-key question, when the key is
// new, comes up in its own dialog; a refusal or a failure is shown on this form.
import { useEffect, useState } from 'react';
import { errorMessage } from '../../../../shared/errors.js';
import type { SshConfigHostView } from '../../../../shared/machines.js';
import { Field } from '../../components/Field';
import { FormDialog, useFieldForm } from '../../components/FormDialog';
import { useRequest } from '../../components/useRequest';
import { useT, type MessageKey } from '../../i18n';
import { useClient, useMachines } from '../../stores';
import { useToasts } from '../../stores/toasts';
import { emptySshForm, pickConfigHost, sshParams, type SshFormValues } from './ssh-form';

const SUPERVISORS = ['auto', 'systemd', 'background'] as const;
const supervisorLabels: Record<SshFormValues['supervisor'], MessageKey> = {
  auto: 'machines.addSsh.supervisor.auto',
  systemd: 'machines.addSsh.supervisor.systemd',
  background: 'machines.addSsh.supervisor.background',
};

type ConfigHosts = { status: 'loading' } | { status: 'ready'; hosts: SshConfigHostView[] } | { status: 'error'; error: string };

export function AddSshDialog({ onClose }: { onClose: () => void }) {
  const t = useT();
  const client = useClient();
  const load = useMachines((state) => state.load);
  const push = useToasts((state) => state.push);
  const { values, setValues, withError, control, submit } = useFieldForm(emptySshForm, sshParams);
  const [configHosts, setConfigHosts] = useState<ConfigHosts>({ status: 'loading' });
  const { busy, failure, run } = useRequest();

  useEffect(() => {
    let current = true;
    client.call('machines.sshConfigHosts', undefined).then(
      (hosts) => current && setConfigHosts({ status: 'ready', hosts }),
      (error: unknown) => current && setConfigHosts({ status: 'error', error: errorMessage(error) }),
    );
    return () => {
      current = false;
    };
  }, [client]);

  const hosts = configHosts.status === 'ready' ? configHosts.hosts : [];
  const picked = hosts.find((host) => host.alias === values.configHost);
  const fromConfig = values.configHost !== '';

  // A config Host's host, user and port are shown as the config resolves them, not edited here.
  const fromConfigControl = (field: 'host' | 'user' | 'port') => ({ ...control(field), readOnly: fromConfig });

  const add = async (): Promise<void> => {
    const params = submit();
    if (!params) return;
    await run(async () => {
      const added = await client.call('machines.add', params);
      push({ tone: 'ok', title: t('machines.addSsh.done', { name: added.name }) });
      void load();
      onClose();
    });
  };

  const configHint =
    configHosts.status === 'loading'
      ? t('machines.addSsh.configHost.loading')
      : configHosts.status === 'error'
        ? t('machines.addSsh.configHost.error', { message: configHosts.error })
        : hosts.length === 0
          ? t('machines.addSsh.configHost.none')
          : picked && (picked.identityFiles.length > 0 || picked.via.length > 0)
            ? [
                picked.identityFiles.length > 0 ? t('machines.addSsh.configHost.keys', { keys: picked.identityFiles.join(', ') }) : '',
                picked.via.length > 0 ? t('machines.addSsh.configHost.via', { via: picked.via.join(' → ') }) : '',
              ]
                .filter(Boolean)
                .join(' · ')
            : t('machines.addSsh.configHost.hint');

  return (
    <FormDialog
      id="machine-add-ssh"
      title={t('machines.addSsh.title')}
      description={t('machines.addSsh.description')}
      busy={busy}
      failure={failure === undefined ? undefined : t('machines.addSsh.failed', { message: failure })}
      submitLabel={busy ? t('machines.addSsh.running') : t('machines.add.submit')}
      onClose={onClose}
      onSubmit={() => void add()}
    >
      <Field label={t('machines.addSsh.configHost')} hint={configHint} className="form-wide" {...withError('configHost')}>
        <select
          name="configHost"
          value={values.configHost}
          disabled={configHosts.status !== 'ready' || hosts.length === 0}
          onChange={(event) => {
            const alias = event.target.value;
            setValues((current) =>
              alias === ''
                ? { ...current, configHost: '' }
                : pickConfigHost(
                    current,
                    hosts.find((host) => host.alias === alias),
                  ),
            );
          }}
        >
          <option value="">{t('machines.addSsh.configHost.typed')}</option>
          {hosts.map((host) => (
            <option key={host.alias} value={host.alias}>
              {host.alias}
            </option>
          ))}
        </select>
      </Field>
      <Field label={t('machines.add.name')} hint={t('machines.addSsh.name.hint')} className="form-wide" {...withError('name')}>
        <input {...control('name')} />
      </Field>
      <Field label={t('machines.addSsh.host')} hint={t('machines.addSsh.host.hint')} {...withError('host')}>
        <input className="mono" {...fromConfigControl('host')} />
      </Field>
      <Field label={t('machines.addSsh.user')} hint={t('machines.addSsh.user.hint')} {...withError('user')}>
        <input className="mono" {...fromConfigControl('user')} />
      </Field>
      <Field label={t('machines.addSsh.port')} {...withError('port')}>
        <input inputMode="numeric" {...fromConfigControl('port')} />
      </Field>
      <Field label={t('machines.addSsh.identityFile')} hint={t('machines.addSsh.identityFile.hint')} {...withError('identityFile')}>
        <input className="mono" placeholder="~/.ssh/id_ed25519" {...control('identityFile')} />
      </Field>
      <details className="form-wide form-advanced">
        <summary>{t('machines.addSsh.advanced')}</summary>
        <p className="note">{t('machines.addSsh.advanced.hint')}</p>
        <div className="form-grid">
          <Field label={t('machines.addSsh.installRoot')} {...withError('installRoot')}>
            <input className="mono" placeholder="/opt/onggi" {...control('installRoot')} />
          </Field>
          <Field label={t('machines.addSsh.runDir')} {...withError('runDir')}>
            <input className="mono" placeholder="/run/onggi" {...control('runDir')} />
          </Field>
          <Field label={t('machines.addSsh.stateDir')} {...withError('stateDir')}>
            <input className="mono" placeholder="/var/lib/onggi" {...control('stateDir')} />
          </Field>
          <Field label={t('machines.addSsh.supervisor')}>
            <select
              name="supervisor"
              value={values.supervisor}
              onChange={(event) => {
                const supervisor = SUPERVISORS.find((option) => option === event.target.value) ?? 'auto';
                setValues((current) => ({ ...current, supervisor }));
              }}
            >
              {SUPERVISORS.map((supervisor) => (
                <option key={supervisor} value={supervisor}>
                  {t(supervisorLabels[supervisor])}
                </option>
              ))}
            </select>
          </Field>
        </div>
      </details>
    </FormDialog>
  );
}
