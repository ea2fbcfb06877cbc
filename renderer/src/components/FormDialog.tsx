// What the add-machine dialogs share: a form whose text fields are checked as typed by a function
// of all values (the API's own schema behind it), errors shown on a field once it was left or the
// form submitted; and the dialog around it, with the host's refusal shown on the form.
import { useState, type FormEvent, type ReactNode } from 'react';
import type { z } from 'zod';
import { useT } from '../i18n';
import { Icon, type IconName } from './icons';
import { FormFooter, Modal } from './Modal';

/** The schema's own words, or `required` for a field left empty (said in the user's language). */
export type FieldError = { kind: 'required' } | { kind: 'invalid'; message: string };

export type FormCheck<Field extends string, Params> =
  { ok: true; params: Params } | { ok: false; errors: Partial<Record<Field, FieldError>> };

/**
 * The API's own schema decides: each of its issues goes on the field `fieldOf` names for the
 * issue's path, the first per field, after the errors the form found before (`required`, units).
 */
export function checkWithSchema<Field extends string, Params>(
  schema: z.ZodType<Params>,
  input: unknown,
  errors: Partial<Record<Field, FieldError>>,
  fieldOf: (path: readonly PropertyKey[]) => Field | undefined,
): FormCheck<Field, Params> {
  const checked = schema.safeParse(input);
  if (!checked.success) {
    for (const issue of checked.error.issues) {
      const field = fieldOf(issue.path);
      if (field && !errors[field]) errors[field] = { kind: 'invalid', message: issue.message };
    }
  }
  if (Object.keys(errors).length > 0 || !checked.success) return { ok: false, errors };
  return { ok: true, params: checked.data };
}

export function useFieldForm<Values extends Record<Field, string>, Field extends string, Params>(
  initial: Values,
  check: (values: Values) => FormCheck<Field, Params>,
) {
  const t = useT();
  const [values, setValues] = useState<Values>(initial);
  const [touched, setTouched] = useState<Partial<Record<Field, boolean>>>({});
  const [submitted, setSubmitted] = useState(false);
  const result = check(values);

  const errorOn = (field: Field): string | undefined => {
    if (result.ok || !(submitted || touched[field])) return undefined;
    const error = result.errors[field];
    if (!error) return undefined;
    return error.kind === 'required' ? t('machines.add.required') : error.message;
  };
  /** Props for <Field>: its error, when it has one to show. */
  const withError = (field: Field): { error?: string } => {
    const error = errorOn(field);
    return error ? { error } : {};
  };
  /** Props for a text <input> bound to a field. */
  const control = (field: Field) => ({
    name: field,
    value: values[field],
    onChange: (event: { target: { value: string } }) => setValues((current) => ({ ...current, [field]: event.target.value })),
    onBlur: () => setTouched((current) => ({ ...current, [field]: true })),
    autoComplete: 'off',
    spellCheck: false,
  });
  /** On submit: errors show everywhere from now on; the params when the form is valid. */
  const submit = (): Params | undefined => {
    setSubmitted(true);
    return result.ok ? result.params : undefined;
  };
  return { values, setValues, withError, control, submit };
}

export function FormDialog({
  id,
  title,
  description,
  busy,
  failure,
  submitLabel,
  onClose,
  onSubmit,
  children,
  icon = 'machines',
  size,
  failureTitle,
}: {
  id: string;
  title: string;
  description: string;
  busy: boolean;
  /** The host's refusal, shown on the form. */
  failure: string | undefined;
  submitLabel: string;
  onClose: () => void;
  onSubmit: () => void;
  children: ReactNode;
  icon?: IconName;
  size?: 'medium' | 'large';
  /** A heading above the refusal (e.g. "The container did not run"). */
  failureTitle?: string;
}) {
  return (
    <Modal
      title={title}
      description={description}
      onClose={onClose}
      busy={busy}
      {...(size ? { size } : {})}
      footer={<FormFooter form={id} busy={busy} icon={icon} label={submitLabel} onCancel={onClose} />}
    >
      <form
        id={id}
        className="form-grid"
        noValidate
        onSubmit={(event: FormEvent) => {
          event.preventDefault();
          onSubmit();
        }}
      >
        {failure && (
          <div className="callout callout--bad form-wide" role="alert">
            <Icon name="alert" />
            {failureTitle ? (
              <div>
                <p className="callout-title">{failureTitle}</p>
                <p className="callout-detail">{failure}</p>
              </div>
            ) : (
              <p>{failure}</p>
            )}
          </div>
        )}
        {children}
      </form>
    </Modal>
  );
}
