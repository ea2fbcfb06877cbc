// The run dialog: image (suggested from the machine's images), name, command, env, limits in the
// units people type, hostname and --rm. The form is checked with the API's own ContainerSpec
// schema, and an error the host sends back (naming `params.limits.memory`, say) lands on the same
// field as one found here.
import { useId, useRef, useState, type FormEvent } from 'react';
import type { ContainerSpec } from '../../../../shared/containers.js';
import { OnggiError, errorMessage } from '../../../../shared/errors.js';
import type { ImageSummary } from '../../../../shared/images.js';
import { Field } from '../../components/Field';
import { Icon } from '../../components/icons';
import { Modal } from '../../components/Modal';
import { formatBytes, useLanguage, useT, type Translate } from '../../i18n';
import { shortId, shortImageName } from '../../lib/images';
import {
  emptyRunForm,
  fieldForPath,
  pathFromField,
  validateRunForm,
  type FieldError,
  type FieldErrors,
  type RunField,
  type RunFormValues,
} from './run-form';

export interface RunDialogProps {
  images: readonly ImageSummary[];
  onRun: (spec: ContainerSpec) => Promise<void>;
  onClose: () => void;
  initial?: Partial<RunFormValues>;
}

const fieldOrder: RunField[] = ['image', 'name', 'hostname', 'command', 'env', 'networks', 'ports', 'cpus', 'memory', 'pids', 'autoRemove'];

function errorText(t: Translate, error: FieldError | undefined): string | undefined {
  if (!error) return undefined;
  if (error.kind === 'required') return t('run.error.required');
  if (error.line !== undefined) return t('run.error.envLine', { line: error.line, text: error.text ?? '', message: error.message });
  return error.message;
}

export function RunDialog({ images, onRun, onClose, initial }: RunDialogProps) {
  const t = useT();
  const language = useLanguage();
  const listId = useId();
  const form = useRef<HTMLFormElement>(null);
  const [values, setValues] = useState<RunFormValues>({ ...emptyRunForm, ...initial });
  const [errors, setErrors] = useState<FieldErrors>({});
  const [submitted, setSubmitted] = useState(false);
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<string>();

  const update = <K extends keyof RunFormValues>(key: K, value: RunFormValues[K]): void => {
    const next = { ...values, [key]: value };
    setValues(next);
    // After the first attempt, errors follow the typing: fixed fields clear at once.
    if (submitted) {
      const result = validateRunForm(next);
      setErrors(result.ok ? {} : result.errors);
    }
  };

  const focusFirstError = (found: FieldErrors): void => {
    const first = fieldOrder.find((field) => found[field]);
    if (first) form.current?.querySelector<HTMLElement>(`[name="${first}"]`)?.focus();
  };

  const submit = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    if (busy) return;
    setSubmitted(true);
    setFailure(undefined);
    const result = validateRunForm(values);
    if (!result.ok) {
      setErrors(result.errors);
      focusFirstError(result.errors);
      return;
    }
    setErrors({});
    setBusy(true);
    try {
      await onRun(result.spec);
      onClose();
    } catch (error) {
      const field = error instanceof OnggiError && error.field ? fieldForPath(pathFromField(error.field)) : undefined;
      if (field) {
        const found: FieldErrors = { [field]: { kind: 'invalid', message: error instanceof Error ? error.message : String(error) } };
        setErrors(found);
        focusFirstError(found);
      } else setFailure(errorMessage(error));
    } finally {
      setBusy(false);
    }
  };

  const suggestions = [...new Set(images.flatMap((image) => image.names.map(shortImageName)))].sort();

  return (
    <Modal
      title={t('run.title')}
      description={t('run.description')}
      onClose={onClose}
      busy={busy}
      size="large"
      footer={
        <>
          <button type="button" className="button" onClick={onClose} disabled={busy}>
            {t('common.cancel')}
          </button>
          <button type="submit" form={`${listId}-form`} className="button button--primary" disabled={busy}>
            {busy ? <span className="spinner spinner--small" aria-hidden="true" /> : <Icon name="play" size={16} />}
            {busy ? t('run.running') : t('run.submit')}
          </button>
        </>
      }
    >
      <form id={`${listId}-form`} ref={form} className="form-grid" noValidate onSubmit={(event) => void submit(event)}>
        {failure && (
          <div className="callout callout--bad form-wide" role="alert">
            <Icon name="alert" />
            <div>
              <p className="callout-title">{t('run.failed')}</p>
              <p className="callout-detail">{failure}</p>
            </div>
          </div>
        )}
        <Field label={t('run.image')} hint={t('run.image.hint')} error={errorText(t, errors.image)} className="form-wide">
          <input
            name="image"
            list={`${listId}-images`}
            value={values.image}
            onChange={(event) => update('image', event.target.value)}
            autoComplete="off"
            spellCheck={false}
            placeholder="busybox:latest"
          />
        </Field>
        <datalist id={`${listId}-images`}>
          {suggestions.map((name) => {
            const image = images.find((candidate) => candidate.names.some((full) => shortImageName(full) === name));
            return (
              <option key={name} value={name}>
                {image ? `${shortId(image.id)} · ${formatBytes(language, image.size)}` : name}
              </option>
            );
          })}
        </datalist>
        <Field label={t('run.name')} hint={t('run.name.hint')} error={errorText(t, errors.name)}>
          <input
            name="name"
            value={values.name}
            onChange={(event) => update('name', event.target.value)}
            autoComplete="off"
            spellCheck={false}
          />
        </Field>
        <Field label={t('run.hostname')} hint={t('run.hostname.hint')} error={errorText(t, errors.hostname)}>
          <input
            name="hostname"
            value={values.hostname}
            onChange={(event) => update('hostname', event.target.value)}
            autoComplete="off"
            spellCheck={false}
          />
        </Field>
        <Field label={t('run.networks')} hint={t('run.networks.hint')} error={errorText(t, errors.networks)}>
          <input
            name="networks"
            className="mono"
            value={values.networks}
            onChange={(event) => update('networks', event.target.value)}
            autoComplete="off"
            spellCheck={false}
          />
        </Field>
        <Field label={t('run.ports')} hint={t('run.ports.hint')} error={errorText(t, errors.ports)}>
          <input
            name="ports"
            className="mono"
            value={values.ports}
            onChange={(event) => update('ports', event.target.value)}
            autoComplete="off"
            spellCheck={false}
          />
        </Field>
        <Field label={t('run.command')} hint={t('run.command.hint')} error={errorText(t, errors.command)} className="form-wide">
          <input
            name="command"
            className="mono"
            value={values.command}
            onChange={(event) => update('command', event.target.value)}
            autoComplete="off"
            spellCheck={false}
            placeholder="sh -c 'echo hello'"
          />
        </Field>
        <Field label={t('run.env')} hint={t('run.env.hint')} error={errorText(t, errors.env)} className="form-wide">
          <textarea
            name="env"
            className="mono"
            rows={3}
            value={values.env}
            onChange={(event) => update('env', event.target.value)}
            spellCheck={false}
            placeholder={'GREETING=hello\nDEBUG=1'}
          />
        </Field>
        <fieldset className="form-wide fieldset">
          <legend>{t('run.limits')}</legend>
          <div className="form-row">
            <Field label={t('run.cpus')} hint={t('run.cpus.hint')} error={errorText(t, errors.cpus)}>
              <input
                name="cpus"
                inputMode="decimal"
                value={values.cpus}
                onChange={(event) => update('cpus', event.target.value)}
                autoComplete="off"
              />
            </Field>
            <Field label={t('run.memory')} hint={t('run.memory.hint')} error={errorText(t, errors.memory)}>
              <input name="memory" value={values.memory} onChange={(event) => update('memory', event.target.value)} autoComplete="off" />
            </Field>
            <Field label={t('run.pids')} hint={t('run.pids.hint')} error={errorText(t, errors.pids)}>
              <input
                name="pids"
                inputMode="numeric"
                value={values.pids}
                onChange={(event) => update('pids', event.target.value)}
                autoComplete="off"
              />
            </Field>
          </div>
        </fieldset>
        <label className="checkbox form-wide">
          <input
            name="autoRemove"
            type="checkbox"
            checked={values.autoRemove}
            onChange={(event) => update('autoRemove', event.target.checked)}
          />
          <span>
            {t('run.autoRemove')} <code>--rm</code>
          </span>
        </label>
      </form>
    </Modal>
  );
}
