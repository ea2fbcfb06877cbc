// Import an image from a tarball on the machine: `docker save` output, an OCI image layout, or a
// plain rootfs (which needs a name). The path and name are checked with the API's own schema as
// they are typed. (A file dropped on the browser has no path on the machine; the window asks for
// the path rather than uploading, which the host API does not offer.)
import { useState, type FormEvent } from 'react';
import { imageMethods } from '../../../../shared/images.js';
import { Field } from '../../components/Field';
import { Icon } from '../../components/icons';
import { FormFooter, Modal } from '../../components/Modal';
import { useRequest } from '../../components/useRequest';
import { useT } from '../../i18n';
import { useClient, useImages } from '../../stores';
import { useToasts } from '../../stores/toasts';

type Kind = 'auto' | 'docker-archive' | 'oci-archive' | 'rootfs';
const kinds: readonly Kind[] = ['auto', 'docker-archive', 'oci-archive', 'rootfs'];
const ImportParams = imageMethods['images.import'].params;

export function ImportDialog({ machine, onClose }: { machine: string; onClose: () => void }) {
  const t = useT();
  const client = useClient();
  const load = useImages((state) => state.load);
  const push = useToasts((state) => state.push);
  const [path, setPath] = useState('');
  const [kind, setKind] = useState<Kind>('auto');
  const [name, setName] = useState('');
  const { busy, failure, run } = useRequest();
  const params = { path: path.trim(), kind, ...(name.trim() ? { name: name.trim() } : {}) };
  const checked = ImportParams.safeParse(params);
  const issueOn = (field: string): string | undefined =>
    checked.success ? undefined : checked.error.issues.find((issue) => issue.path[0] === field)?.message;
  const pathError = path.trim() === '' ? undefined : issueOn('path');
  const nameError = kind === 'rootfs' && name.trim() === '' && path.trim() !== '' ? t('images.import.nameRequired') : issueOn('name');

  const submit = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    if (!checked.success || nameError || path.trim() === '') return;
    const params = checked.data;
    await run(async () => {
      const imported = await client.call('images.import', { machine, ...params });
      push({ tone: 'ok', title: t('images.import.done', { count: imported.length }) });
      void load(machine);
      onClose();
    });
  };

  return (
    <Modal
      title={t('images.import.title')}
      description={t('images.import.description')}
      onClose={onClose}
      busy={busy}
      footer={
        <FormFooter
          form="image-import"
          busy={busy}
          icon="download"
          label={busy ? t('images.import.running') : t('images.import.submit')}
          onCancel={onClose}
        />
      }
    >
      <form id="image-import" className="form-grid" onSubmit={(event) => void submit(event)}>
        {failure && (
          <div className="callout form-wide" role="alert">
            <Icon name="alert" />
            <p>{failure}</p>
          </div>
        )}
        <Field
          label={t('images.import.path')}
          hint={t('images.import.path.hint')}
          className="form-wide"
          {...(pathError ? { error: pathError } : {})}
        >
          <input className="mono" value={path} onChange={(event) => setPath(event.target.value)} autoComplete="off" spellCheck={false} />
        </Field>
        <Field label={t('images.import.kind')}>
          <select value={kind} onChange={(event) => setKind(kinds.find((candidate) => candidate === event.target.value) ?? 'auto')}>
            {kinds.map((candidate) => (
              <option key={candidate} value={candidate}>
                {t(`images.import.kind.${candidate}`)}
              </option>
            ))}
          </select>
        </Field>
        <Field label={t('images.import.name')} hint={t('images.import.name.hint')} {...(nameError ? { error: nameError } : {})}>
          <input value={name} onChange={(event) => setName(event.target.value)} autoComplete="off" spellCheck={false} />
        </Field>
      </form>
    </Modal>
  );
}
