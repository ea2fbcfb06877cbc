// The run dialog: image (suggested from the machine's images), name, command, env (typed or a
// pasted env file), labels, limits in the units people type, a healthcheck, hostname and --rm, on the FormDialog the machine dialogs use. The form is checked with the API's own ContainerSpec
// schema, and an error the host sends back (naming `params.limits.memory`, say) lands on the same
// field as one found here.
import { useId, useState } from 'react';
import type { ContainerSpec } from '../../../../shared/containers.js';
import { OnggiError, errorMessage } from '../../../../shared/errors.js';
import type { ImageSummary } from '../../../../shared/images.js';
import { Field } from '../../components/Field';
import { FormDialog } from '../../components/FormDialog';
import { ConfirmDialog } from '../../components/Modal';
import { resolveDesktopRows, type DesktopFolders, type DesktopRowError } from './desktop-mounts';
import { MountRows, type MountRow } from './MountRows';
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
  /** On a remote machine: folders of this computer may be mounted, through the machine's shared folders. */
  desktopFolders?: DesktopFolders;
}

/** The fields typed as one line of text: labelled `run.FIELD`, hinted `run.FIELD.hint`. */
type TextField = Exclude<RunField, 'env' | 'envFile' | 'labels' | 'autoRemove' | 'mounts' | 'interactive'>;
/** The fields typed as several lines. */
type AreaField = 'env' | 'envFile' | 'labels';
/** The fields that are a checkbox: labelled `run.FIELD`, with the docker flag beside it. */
type CheckField = 'autoRemove' | 'interactive' | 'privileged';

const fieldOrder: RunField[] = [
  'image',
  'name',
  'hostname',
  'command',
  'env',
  'envFile',
  'labels',
  'networks',
  'ports',
  'cpus',
  'memory',
  'pids',
  'healthCmd',
  'healthInterval',
  'healthRetries',
  'mounts',
  'capAdd',
  'capDrop',
  'autoRemove',
];

function errorText(t: Translate, error: FieldError | undefined): string | undefined {
  if (!error) return undefined;
  if (error.kind === 'required') return t('run.error.required');
  if (error.line !== undefined) return t('run.error.envLine', { line: error.line, text: error.text ?? '', message: error.message });
  return error.message;
}

export function RunDialog({ images, onRun, onClose, initial, desktopFolders }: RunDialogProps) {
  const t = useT();
  const language = useLanguage();
  const formId = `${useId()}-run`;
  const [values, setValues] = useState<RunFormValues>({ ...emptyRunForm, ...initial });
  const [errors, setErrors] = useState<FieldErrors>({});
  const [submitted, setSubmitted] = useState(false);
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<string>();
  /** A privileged spec waiting for the user's yes: it gives the container the machine. */
  const [confirmPrivileged, setConfirmPrivileged] = useState<ContainerSpec>();
  /** Desktop-folder rows the host refused at the last run (by row index), and rows shared from here since. */
  const [desktopErrors, setDesktopErrors] = useState<ReadonlyMap<number, DesktopRowError>>(new Map());
  const [sharedRows, setSharedRows] = useState<ReadonlySet<number>>(new Set());

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
    if (first) document.getElementById(formId)?.querySelector<HTMLElement>(`[name="${first}"]`)?.focus();
  };

  const submit = async (): Promise<void> => {
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
    const spec = await withDesktopFolders(result.spec);
    if (!spec) return;
    if (spec.privileged) setConfirmPrivileged(spec);
    else await run(spec);
  };

  /**
   * The spec with the desktop folders' rows mounted through their shares (the host mounts each
   * share on the machine); undefined, with each refusal on its row, when one is not shared.
   */
  const withDesktopFolders = async (checked: ContainerSpec): Promise<ContainerSpec | undefined> => {
    if (!desktopFolders || !values.mounts.some((row) => row.type === 'desktop')) return checked;
    setBusy(true);
    try {
      const desktop = await resolveDesktopRows(values.mounts, desktopFolders.resolve);
      if (!desktop.ok) {
        setDesktopErrors(desktop.errors);
        document.getElementById(formId)?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
        return undefined;
      }
      setDesktopErrors(new Map());
      const result = validateRunForm(values, desktop.resolved);
      if (!result.ok) {
        setErrors(result.errors);
        focusFirstError(result.errors);
        return undefined;
      }
      return result.spec;
    } catch (error) {
      setFailure(errorMessage(error));
      return undefined;
    } finally {
      setBusy(false);
    }
  };

  /** New rows keep a row's refusal only while its folder is the same. */
  const changeMounts = (rows: MountRow[]): void => {
    const same = (index: number): boolean =>
      rows[index]?.type === values.mounts[index]?.type && rows[index]?.source === values.mounts[index]?.source;
    setDesktopErrors((previous) => new Map([...previous].filter(([index]) => same(index))));
    setSharedRows((previous) => new Set([...previous].filter(same)));
    update('mounts', rows);
  };

  const pickFolder = async (index: number): Promise<void> => {
    try {
      const path = await desktopFolders?.pick?.();
      if (path) changeMounts(values.mounts.map((row, i) => (i === index ? { ...row, source: path } : row)));
    } catch (error) {
      setFailure(errorMessage(error));
    }
  };

  const shareFolder = async (index: number): Promise<void> => {
    const row = values.mounts[index];
    if (!desktopFolders || !row) return;
    setBusy(true);
    try {
      await desktopFolders.share(row.source.trim(), row.readonly);
      setDesktopErrors((previous) => new Map([...previous].filter(([other]) => other !== index)));
      setSharedRows((previous) => new Set([...previous, index]));
    } catch (error) {
      setDesktopErrors((previous) => new Map([...previous, [index, { kind: 'refused', message: errorMessage(error) }]]));
    } finally {
      setBusy(false);
    }
  };

  const run = async (spec: ContainerSpec): Promise<void> => {
    setBusy(true);
    try {
      await onRun(spec);
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

  /** One text field of the form: its label, hint and error, bound to its value (the same for every field). */
  const text = (
    field: TextField,
    options: { wide?: boolean; mono?: boolean; placeholder?: string; list?: string; inputMode?: 'decimal' | 'numeric' } = {},
  ) => (
    <Field
      label={t(`run.${field}`)}
      hint={t(`run.${field}.hint`)}
      error={errorText(t, errors[field])}
      {...(options.wide ? { className: 'form-wide' } : {})}
    >
      <input
        name={field}
        value={values[field]}
        onChange={(event) => update(field, event.target.value)}
        autoComplete="off"
        spellCheck={false}
        {...(options.mono ? { className: 'mono' } : {})}
        {...(options.placeholder ? { placeholder: options.placeholder } : {})}
        {...(options.list ? { list: options.list } : {})}
        {...(options.inputMode ? { inputMode: options.inputMode } : {})}
      />
    </Field>
  );

  /** A several-line field (env, a pasted env file, labels): monospace, not spell-checked. */
  const area = (field: AreaField, placeholder: string) => (
    <Field label={t(`run.${field}`)} hint={t(`run.${field}.hint`)} error={errorText(t, errors[field])} className="form-wide">
      <textarea
        name={field}
        className="mono"
        rows={3}
        value={values[field]}
        onChange={(event) => update(field, event.target.value)}
        spellCheck={false}
        placeholder={placeholder}
      />
    </Field>
  );

  const checkbox = (field: CheckField, flag: string) => (
    <label className="checkbox form-wide">
      <input name={field} type="checkbox" checked={values[field]} onChange={(event) => update(field, event.target.checked)} />
      <span>
        {t(`run.${field}`)} <code>{flag}</code>
      </span>
    </label>
  );

  return (
    <FormDialog
      id={formId}
      title={t('run.title')}
      description={t('run.description')}
      busy={busy}
      failure={failure}
      failureTitle={t('run.failed')}
      submitLabel={busy ? t('run.running') : t('run.submit')}
      icon="play"
      size="large"
      onClose={onClose}
      onSubmit={() => void submit()}
    >
      {text('image', { wide: true, placeholder: 'busybox:latest', list: `${formId}-images` })}
      <datalist id={`${formId}-images`}>
        {suggestions.map((name) => {
          const image = images.find((candidate) => candidate.names.some((full) => shortImageName(full) === name));
          return (
            <option key={name} value={name}>
              {image ? `${shortId(image.id)} · ${formatBytes(language, image.size)}` : name}
            </option>
          );
        })}
      </datalist>
      {text('name')}
      {text('hostname')}
      {text('networks', { mono: true })}
      {text('ports', { mono: true })}
      {text('command', { wide: true, mono: true, placeholder: "sh -c 'echo hello'" })}
      {area('env', 'GREETING=hello\nDEBUG=1')}
      {area('envFile', '# app.env\nDATABASE_URL=postgres://db/app')}
      {area('labels', 'tier=web\nteam=blue')}
      <fieldset className="form-wide fieldset">
        <legend>{t('run.limits')}</legend>
        <div className="form-row">
          {text('cpus', { inputMode: 'decimal' })}
          {text('memory')}
          {text('pids', { inputMode: 'numeric' })}
        </div>
      </fieldset>
      <fieldset className="form-wide fieldset">
        <legend>{t('run.health')}</legend>
        {text('healthCmd', { wide: true, mono: true, placeholder: 'pg_isready -U postgres' })}
        <div className="form-row">
          {text('healthInterval', { placeholder: '30s' })}
          {text('healthRetries', { inputMode: 'numeric', placeholder: '3' })}
        </div>
      </fieldset>
      <MountRows
        rows={values.mounts}
        {...(errors.mounts ? { error: errorText(t, errors.mounts) ?? '' } : {})}
        onChange={changeMounts}
        {...(desktopFolders
          ? {
              desktop: {
                machine: desktopFolders.machine,
                ...(desktopFolders.pick ? { onPick: (index: number) => void pickFolder(index) } : {}),
                errors: desktopErrors,
                onShare: (index: number) => void shareFolder(index),
                shared: sharedRows,
                busy,
              },
            }
          : {})}
      />
      <fieldset className="form-wide fieldset">
        <legend>{t('run.security')}</legend>
        <div className="form-row">
          {text('capAdd', { mono: true, placeholder: 'NET_ADMIN' })}
          {text('capDrop', { mono: true, placeholder: 'ALL' })}
        </div>
        {checkbox('privileged', '--privileged')}
      </fieldset>
      {checkbox('autoRemove', '--rm')}
      {checkbox('interactive', '-it')}
      {confirmPrivileged && (
        <ConfirmDialog
          danger
          title={t('run.privileged.confirm.title')}
          body={<p>{t('run.privileged.confirm.body', { image: confirmPrivileged.image })}</p>}
          confirmLabel={t('run.privileged.confirm.button')}
          onCancel={() => setConfirmPrivileged(undefined)}
          onConfirm={() => {
            const spec = confirmPrivileged;
            setConfirmPrivileged(undefined);
            void run(spec);
          }}
        />
      )}
    </FormDialog>
  );
}
