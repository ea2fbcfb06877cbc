// Import an image from a tarball: `docker save` output, an OCI image layout, or a plain rootfs
// (which needs a name). Either a file from this computer (dropped on the drop zone or picked with
// the file button), sent to the host in chunks with a progress bar, or a path on the machine. The
// path and name are checked with the API's own schema as they are typed.
import { useState, type DragEvent, type FormEvent } from 'react';
import { imageMethods } from '../../../../shared/images.js';
import { Field } from '../../components/Field';
import { Icon } from '../../components/icons';
import { FormFooter, Modal } from '../../components/Modal';
import { useRequest } from '../../components/useRequest';
import { formatBytes, useLanguage, useT } from '../../i18n';
import { uploadImageFile } from '../../lib/upload';
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
  const language = useLanguage();
  const [file, setFile] = useState<File>();
  const [dragging, setDragging] = useState(false);
  const [progress, setProgress] = useState<{ sent: number; total: number }>();
  const { busy, failure, run } = useRequest();
  // A picked file stands in for the path (any absolute path passes the schema's path rule).
  const params = { path: file ? '/upload' : path.trim(), kind, ...(name.trim() ? { name: name.trim() } : {}) };
  const checked = ImportParams.safeParse(params);
  const issueOn = (field: string): string | undefined =>
    checked.success ? undefined : checked.error.issues.find((issue) => issue.path[0] === field)?.message;
  const hasSource = file !== undefined || path.trim() !== '';
  const pathError = file || path.trim() === '' ? undefined : issueOn('path');
  const nameError = kind === 'rootfs' && name.trim() === '' && hasSource ? t('images.import.nameRequired') : issueOn('name');

  const submit = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    if (!checked.success || nameError || !hasSource) return;
    const { path: _path, ...options } = checked.data;
    await run(async () => {
      const imported = file
        ? await uploadImageFile(client, file, { machine, ...options }, (sent, total) => setProgress({ sent, total }))
        : await client.call('images.import', { machine, ...checked.data });
      push({ tone: 'ok', title: t('images.import.done', { count: imported.length }) });
      void load(machine);
      onClose();
    });
  };
  const onDrop = (event: DragEvent<HTMLDivElement>): void => {
    event.preventDefault();
    setDragging(false);
    const dropped = event.dataTransfer.files[0];
    if (dropped && !busy) setFile(dropped);
  };
  const percent = progress && progress.total > 0 ? Math.round((progress.sent / progress.total) * 100) : 0;

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
        <div
          className={`drop-zone form-wide${dragging ? ' drop-zone--over' : ''}`}
          onDragOver={(event) => {
            event.preventDefault();
            setDragging(true);
          }}
          onDragLeave={() => setDragging(false)}
          onDrop={onDrop}
          data-testid="image-drop-zone"
        >
          <Icon name="download" size={20} />
          <p>
            {file ? t('images.import.file.chosen', { name: file.name, size: formatBytes(language, file.size) }) : t('images.import.drop')}
          </p>
          <label className="button button--small">
            {t('images.import.file.pick')}
            <input
              type="file"
              className="visually-hidden"
              aria-label={t('images.import.file')}
              disabled={busy}
              onChange={(event) => {
                const picked = event.target.files?.[0];
                if (picked) setFile(picked);
              }}
            />
          </label>
          {file && !busy && (
            <button type="button" className="button button--small" onClick={() => setFile(undefined)}>
              {t('images.import.file.clear')}
            </button>
          )}
        </div>
        {progress && (
          <div
            className="progress progress--large form-wide"
            role="progressbar"
            aria-label={t('images.import.uploadProgress')}
            aria-valuemin={0}
            aria-valuemax={100}
            aria-valuenow={percent}
            aria-valuetext={t('images.import.uploaded', {
              sent: formatBytes(language, progress.sent),
              total: formatBytes(language, progress.total),
            })}
          >
            <span style={{ width: `${percent}%` }} />
          </div>
        )}
        {!file && (
          <Field
            label={t('images.import.path')}
            hint={t('images.import.path.hint')}
            className="form-wide"
            {...(pathError ? { error: pathError } : {})}
          >
            <input className="mono" value={path} onChange={(event) => setPath(event.target.value)} autoComplete="off" spellCheck={false} />
          </Field>
        )}
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
