// Volumes: the machine's named and anonymous volumes (`onggi volume ls`), which containers use
// each and its size; create one (the name checked as you type by the API's own schema) and remove
// one (the agent refuses while a container uses it, and the toast says which).
import { useCallback, useRef, useState, type FormEvent } from 'react';
import { errorMessage } from '../../../../shared/errors.js';
import { VolumeName, type VolumeSummary } from '../../../../shared/volumes.js';
import { Field } from '../../components/Field';
import { Icon } from '../../components/icons';
import { MachineNotReady, useMachineLoad } from '../../components/MachinePicker';
import { ConfirmDialog } from '../../components/Modal';
import { formatBytes, useLanguage, useT } from '../../i18n';
import { useClient } from '../../stores';
import { useToasts } from '../../stores/toasts';
import { MachineViewHeader } from '../MachineViewHeader';

function CreateVolume({ machine, onCreated }: { machine: string; onCreated: () => void }) {
  const t = useT();
  const client = useClient();
  const push = useToasts((state) => state.push);
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  const check = VolumeName.safeParse(name);
  const error = name !== '' && !check.success ? check.error.issues[0]?.message : undefined;

  const submit = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    if (error) return;
    setBusy(true);
    try {
      // An empty name asks the agent for a random one, as `onggi volume create` does.
      const created = await client.call('volumes.create', { machine, ...(name ? { name } : {}) });
      push({ tone: 'ok', title: t('volumes.created', { name: created.name }) });
      setName('');
      onCreated();
    } catch (failure) {
      push({ tone: 'bad', title: t('volumes.createFailed', { name }), detail: errorMessage(failure) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="card network-create" onSubmit={(event) => void submit(event)} aria-label={t('volumes.create')}>
      <h2 className="subhead">{t('volumes.create')}</h2>
      <Field label={t('volumes.name')} hint={t('volumes.name.hint')} {...(error ? { error } : {})}>
        <input value={name} onChange={(event) => setName(event.target.value)} autoComplete="off" spellCheck={false} />
      </Field>
      <button type="submit" className="button button--primary" disabled={busy}>
        <Icon name="plus" size={16} />
        {busy ? t('volumes.creating') : t('volumes.createButton')}
      </button>
    </form>
  );
}

export function VolumesView() {
  const t = useT();
  const language = useLanguage();
  const client = useClient();
  const push = useToasts((state) => state.push);
  const [volumes, setVolumes] = useState<VolumeSummary[]>([]);
  const [error, setError] = useState<string>();
  const [loading, setLoading] = useState(true);
  const [confirm, setConfirm] = useState<VolumeSummary>();
  const request = useRef(0);
  const load = useCallback(
    async (machine: string) => {
      const mine = ++request.current;
      setLoading(true);
      try {
        const list = await client.call('volumes.list', { machine, size: true });
        if (mine !== request.current) return;
        setVolumes(list);
        setError(undefined);
      } catch (failure) {
        if (mine === request.current) setError(errorMessage(failure));
      } finally {
        if (mine === request.current) setLoading(false);
      }
    },
    [client],
  );
  const { name: machine, summary, usable } = useMachineLoad(load);
  const reload = (): void => void load(machine);

  const remove = async (volume: VolumeSummary): Promise<void> => {
    try {
      await client.call('volumes.remove', { machine, volume: volume.name });
      push({ tone: 'ok', title: t('volumes.removed', { name: volume.name }) });
      reload();
    } catch (failure) {
      push({ tone: 'bad', title: t('volumes.removeFailed', { name: volume.name }), detail: errorMessage(failure) });
    }
  };

  return (
    <>
      <MachineViewHeader view="volumes" refresh={{ onClick: reload, loading: loading && usable, disabled: !usable }} />
      <div className="view-body">
        {!usable ? (
          <MachineNotReady name={machine} {...(summary ? { summary } : {})} />
        ) : (
          <div className="network-list">
            {error && (
              <div className="callout" role="alert">
                <Icon name="alert" />
                <p>{t('volumes.listError', { message: error })}</p>
              </div>
            )}
            <table className="data-table" aria-label={t('volumes.tableLabel', { machine })}>
              <thead>
                <tr>
                  <th scope="col">{t('volumes.name')}</th>
                  <th scope="col">{t('volumes.containers')}</th>
                  <th scope="col" className="numeric">
                    {t('volumes.size')}
                  </th>
                  <th scope="col">
                    <span className="visually-hidden">{t('containers.column.actions')}</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {volumes.map((volume) => (
                  <tr key={volume.name}>
                    <th scope="row" className="mono">
                      {volume.anonymous ? volume.name.slice(0, 12) : volume.name}
                      <span className="cell-sub">{volume.anonymous ? t('volumes.anonymous') : volume.mountpoint}</span>
                    </th>
                    <td>
                      {volume.containers.length > 0 ? volume.containers.join(', ') : <span className="muted">{t('volumes.unused')}</span>}
                    </td>
                    <td className="numeric">{volume.size === undefined ? '—' : formatBytes(language, volume.size)}</td>
                    <td>
                      <button
                        type="button"
                        className="icon-button icon-button--danger"
                        aria-label={t('volumes.remove', { name: volume.name })}
                        onClick={() => setConfirm(volume)}
                      >
                        <Icon name="trash" size={16} />
                      </button>
                    </td>
                  </tr>
                ))}
                {!loading && volumes.length === 0 && (
                  <tr>
                    <td colSpan={4} className="muted">
                      {t('volumes.empty')}
                    </td>
                  </tr>
                )}
              </tbody>
            </table>
            <CreateVolume machine={machine} onCreated={reload} />
          </div>
        )}
      </div>
      {confirm && (
        <ConfirmDialog
          danger
          title={t('volumes.confirm.title', { name: confirm.name })}
          body={<p>{t('volumes.confirm.body')}</p>}
          confirmLabel={t('volumes.confirm.button')}
          onCancel={() => setConfirm(undefined)}
          onConfirm={() => {
            const volume = confirm;
            setConfirm(undefined);
            void remove(volume);
          }}
        />
      )}
    </>
  );
}
