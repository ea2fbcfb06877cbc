// Add a Vagrant VM: box, CPUs, memory (with units) and the Vagrant provider, checked with the API's
// own schema as they are typed (errors on the field, once the field was touched or on submit).
// Nothing boots here: the machine is stored and its Vagrantfile written; Start runs `vagrant up`.
import { useState, type FormEvent } from 'react';
import { Field } from '../../components/Field';
import { Icon } from '../../components/icons';
import { FormFooter, Modal } from '../../components/Modal';
import { useRequest } from '../../components/useRequest';
import { useT } from '../../i18n';
import { useClient, useMachines } from '../../stores';
import { useToasts } from '../../stores/toasts';
import { emptyVagrantForm, vagrantParams, type VagrantField, type VagrantFormValues } from './vagrant-form';

const PROVIDERS = ['virtualbox', 'libvirt', 'parallels', 'vmware_desktop'] as const;

export function AddVagrantDialog({ onClose }: { onClose: () => void }) {
  const t = useT();
  const client = useClient();
  const load = useMachines((state) => state.load);
  const push = useToasts((state) => state.push);
  const [values, setValues] = useState<VagrantFormValues>(emptyVagrantForm);
  const [touched, setTouched] = useState<Partial<Record<VagrantField, boolean>>>({});
  const [submitted, setSubmitted] = useState(false);
  const { busy, failure, run } = useRequest();
  const result = vagrantParams(values);

  const errorOn = (field: VagrantField): string | undefined => {
    if (result.ok || !(submitted || touched[field])) return undefined;
    const error = result.errors[field];
    if (!error) return undefined;
    return error.kind === 'required' ? t('machines.add.required') : error.message;
  };
  const control = (field: VagrantField) => ({
    value: values[field],
    onChange: (event: { target: { value: string } }) => setValues((current) => ({ ...current, [field]: event.target.value })),
    onBlur: () => setTouched((current) => ({ ...current, [field]: true })),
    autoComplete: 'off',
    spellCheck: false,
  });
  const withError = (field: VagrantField) => {
    const error = errorOn(field);
    return error ? { error } : {};
  };

  const submit = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    setSubmitted(true);
    if (!result.ok) return;
    const params = result.params;
    await run(async () => {
      const added = await client.call('machines.addVagrant', params);
      push({ tone: 'ok', title: t('machines.add.done', { name: added.name }) });
      void load();
      onClose();
    });
  };

  return (
    <Modal
      title={t('machines.add.title')}
      description={t('machines.add.description')}
      onClose={onClose}
      busy={busy}
      footer={
        <FormFooter
          form="machine-add-vagrant"
          busy={busy}
          icon="machines"
          label={busy ? t('machines.add.running') : t('machines.add.submit')}
          onCancel={onClose}
        />
      }
    >
      <form id="machine-add-vagrant" className="form-grid" noValidate onSubmit={(event) => void submit(event)}>
        {failure && (
          <div className="callout form-wide" role="alert">
            <Icon name="alert" />
            <p>{failure}</p>
          </div>
        )}
        <Field label={t('machines.add.name')} hint={t('machines.add.name.hint')} {...withError('name')}>
          <input {...control('name')} />
        </Field>
        <Field label={t('machines.add.box')} hint={t('machines.add.box.hint')} {...withError('box')}>
          <input className="mono" {...control('box')} />
        </Field>
        <Field label={t('machines.add.cpus')} {...withError('cpus')}>
          <input inputMode="numeric" {...control('cpus')} />
        </Field>
        <Field label={t('machines.add.memory')} hint={t('machines.add.memory.hint')} {...withError('memory')}>
          <input {...control('memory')} />
        </Field>
        <Field label={t('machines.add.provider')} hint={t('machines.add.provider.hint')} className="form-wide" {...withError('provider')}>
          <input list="vagrant-providers" {...control('provider')} />
        </Field>
        <datalist id="vagrant-providers">
          {PROVIDERS.map((provider) => (
            <option key={provider} value={provider} />
          ))}
        </datalist>
      </form>
    </Modal>
  );
}
