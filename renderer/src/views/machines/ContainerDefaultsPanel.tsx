// A machine's settings for the containers created on it from now on (`onggi machine config`): how
// their logs rotate (Docker's `--log-opt max-size / max-file`, per machine instead of daemon.json)
// and the default user namespace. Checked as typed by the agent's own schema (LogOptions), saved
// through the same host API calls the CLI makes; a refusal shows on the field it names.
import { useEffect, useState } from 'react';
import { LogOptions } from '../../../../shared/containers.js';
import { OnggiError, errorMessage } from '../../../../shared/errors.js';
import { formatMemory } from '../../../../shared/units.js';
import type { UsernsMode } from '../../../../shared/userns.js';
import { Field } from '../../components/Field';
import { useT } from '../../i18n';
import { useClient } from '../../stores';

type SettingField = 'maxSize' | 'maxFiles';
interface Values {
  maxSize: string;
  maxFiles: string;
  userns: UsernsMode;
}

/** The schema's message for each field, as typed (a count that is not a whole number is said so). */
function check(values: Values): Partial<Record<SettingField, string>> {
  const errors: Partial<Record<SettingField, string>> = {};
  const maxFiles = /^\d+$/.test(values.maxFiles.trim()) ? Number(values.maxFiles.trim()) : Number.NaN;
  const parsed = LogOptions.safeParse({ maxSize: values.maxSize.trim(), maxFiles });
  if (!parsed.success)
    for (const issue of parsed.error.issues) {
      const field = issue.path[0];
      if ((field === 'maxSize' || field === 'maxFiles') && !errors[field]) errors[field] = issue.message;
    }
  return errors;
}

export function ContainerDefaultsPanel({ machine }: { machine: string }) {
  const t = useT();
  const client = useClient();
  const [saved, setSaved] = useState<Values>();
  const [values, setValues] = useState<Values>();
  const [refused, setRefused] = useState<Partial<Record<SettingField, string>>>({});
  const [failure, setFailure] = useState<string>();
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState(false);
  useEffect(() => {
    let current = true;
    Promise.all([client.call('containers.logDefaults', { machine }), client.call('containers.usernsDefault', { machine })]).then(
      ([log, userns]) => {
        if (!current) return;
        const now = { maxSize: formatMemory(log.maxSize), maxFiles: String(log.maxFiles), userns: userns.mode };
        setSaved(now);
        setValues(now);
      },
      (caught: unknown) => current && setFailure(errorMessage(caught)),
    );
    return () => {
      current = false;
    };
  }, [client, machine]);

  const errors = values ? { ...check(values), ...refused } : {};
  const changed = values !== undefined && saved !== undefined && JSON.stringify(values) !== JSON.stringify(saved);
  const edit = (change: Partial<Values>): void => {
    setValues((old) => (old ? { ...old, ...change } : old));
    setRefused({});
    setDone(false);
  };
  const save = async (): Promise<void> => {
    if (!values || Object.keys(errors).length > 0) return;
    setBusy(true);
    setFailure(undefined);
    try {
      // Each setting is sent only when it changed, so a refused one leaves the other as it was.
      const logChanged = values.maxSize !== saved?.maxSize || values.maxFiles !== saved.maxFiles;
      const log = await client.call(
        'containers.logDefaults',
        logChanged ? { machine, maxSize: values.maxSize.trim(), maxFiles: Number(values.maxFiles.trim()) } : { machine },
      );
      const userns = await client.call(
        'containers.usernsDefault',
        values.userns !== saved?.userns ? { machine, mode: values.userns } : { machine },
      );
      const now = { maxSize: formatMemory(log.maxSize), maxFiles: String(log.maxFiles), userns: userns.mode };
      setSaved(now);
      setValues(now);
      setDone(true);
    } catch (caught) {
      // The agent names the field it refused (`params.maxSize`): shown there, else above the form.
      const field = caught instanceof OnggiError ? caught.field?.replace(/^params\./, '') : undefined;
      if (field === 'maxSize' || field === 'maxFiles') setRefused({ [field]: errorMessage(caught) });
      else setFailure(errorMessage(caught));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="container-defaults" aria-label={t('defaults.title', { machine })}>
      <h3>{t('defaults.heading')}</h3>
      <p className="muted">{t('defaults.hint')}</p>
      {failure !== undefined && (
        <p className="callout callout--bad" role="alert">
          {t('defaults.error', { message: failure })}
        </p>
      )}
      {values && (
        <form
          className="form-grid container-defaults-form"
          onSubmit={(event) => {
            event.preventDefault();
            void save();
          }}
        >
          <Field label={t('defaults.maxSize')} hint={t('defaults.maxSizeHint')} {...(errors.maxSize ? { error: errors.maxSize } : {})}>
            <input value={values.maxSize} onChange={(event) => edit({ maxSize: event.target.value })} spellCheck={false} disabled={busy} />
          </Field>
          <Field label={t('defaults.maxFiles')} hint={t('defaults.maxFilesHint')} {...(errors.maxFiles ? { error: errors.maxFiles } : {})}>
            <input
              value={values.maxFiles}
              onChange={(event) => edit({ maxFiles: event.target.value })}
              inputMode="numeric"
              disabled={busy}
            />
          </Field>
          <Field label={t('defaults.userns')} hint={t('defaults.usernsHint')}>
            <select value={values.userns} onChange={(event) => edit({ userns: event.target.value as UsernsMode })} disabled={busy}>
              <option value="host">{t('defaults.userns.host')}</option>
              <option value="auto">{t('defaults.userns.auto')}</option>
            </select>
          </Field>
          <div className="container-defaults-actions">
            <button type="submit" className="button button--small" disabled={busy || !changed || Object.keys(errors).length > 0}>
              {t('defaults.save')}
            </button>
            {done && !changed && (
              <span role="status" className="muted">
                {t('defaults.saved')}
              </span>
            )}
          </div>
        </form>
      )}
    </section>
  );
}
