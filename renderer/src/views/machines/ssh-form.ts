// The SSH add form, as data: either a Host of ~/.ssh/config (its host, user and port shown, the
// config's keys and ProxyJump used by the host) or a typed host, user and port; an optional key
// file; where the agent lives on the machine (advanced). Turned into the API's own params by the
// API's own schema, each schema error placed on the field it came from.
import { MachineAddSshParams, type SshConfigHostView } from '../../../../shared/machines.js';
import { checkWithSchema, type FieldError, type FormCheck } from '../../components/FormDialog';

export interface SshFormValues {
  name: string;
  /** The ~/.ssh/config Host alias picked, or '' to type the host. */
  configHost: string;
  host: string;
  user: string;
  port: string;
  identityFile: string;
  installRoot: string;
  runDir: string;
  stateDir: string;
  supervisor: 'auto' | 'systemd' | 'background';
}

export type SshField = Exclude<keyof SshFormValues, 'supervisor'>;

export const emptySshForm: SshFormValues = {
  name: '',
  configHost: '',
  host: '',
  user: '',
  port: '22',
  identityFile: '',
  installRoot: '',
  runDir: '',
  stateDir: '',
  supervisor: 'auto',
};

export type SshFieldErrors = Partial<Record<SshField, FieldError>>;

export type SshFormResult = FormCheck<SshField, MachineAddSshParams>;

const fieldOfParam: Record<string, SshField> = {
  name: 'name',
  host: 'host',
  user: 'user',
  port: 'port',
  identityFile: 'identityFile',
  fromSshConfig: 'configHost',
  installRoot: 'installRoot',
  runDir: 'runDir',
  stateDir: 'stateDir',
};

/** The form after picking a config Host: its resolved host, user and port fill the fields. */
export function pickConfigHost(values: SshFormValues, host: SshConfigHostView | undefined): SshFormValues {
  if (!host) return { ...values, configHost: '' };
  return {
    ...values,
    configHost: host.alias,
    host: host.hostName,
    user: host.user,
    port: String(host.port),
    name: values.name === '' ? host.alias.replace(/[^A-Za-z0-9_.-]/g, '-') : values.name,
  };
}

export function sshParams(values: SshFormValues): SshFormResult {
  const errors: SshFieldErrors = {};
  const trimmed = (field: SshField): string => values[field].trim();
  if (trimmed('name') === '') errors.name = { kind: 'required' };
  const fromConfig = trimmed('configHost') !== '';
  if (!fromConfig && trimmed('host') === '') errors.host = { kind: 'required' };
  const port = trimmed('port');
  const remote = {
    ...(trimmed('installRoot') ? { installRoot: trimmed('installRoot') } : {}),
    ...(trimmed('runDir') ? { runDir: trimmed('runDir') } : {}),
    ...(trimmed('stateDir') ? { stateDir: trimmed('stateDir') } : {}),
    ...(values.supervisor !== 'auto' ? { supervisor: values.supervisor } : {}),
  };
  const input = {
    provider: 'ssh',
    name: trimmed('name'),
    // From the config: the host resolves host, user, port, keys and jumps itself.
    ...(fromConfig
      ? { fromSshConfig: trimmed('configHost') }
      : {
          host: trimmed('host'),
          ...(trimmed('user') ? { user: trimmed('user') } : {}),
          // A number when it reads as one; else the text, which the schema refuses with its own words.
          ...(port ? { port: /^\d+$/.test(port) ? Number(port) : port } : {}),
        }),
    ...(trimmed('identityFile') ? { identityFile: trimmed('identityFile') } : {}),
    ...(Object.keys(remote).length > 0 ? { remote } : {}),
  };
  return checkWithSchema(MachineAddSshParams, input, errors, (path) => fieldOfParam[String(path[0] === 'remote' ? path[1] : path[0])]);
}
