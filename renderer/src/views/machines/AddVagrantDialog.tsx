// Add a Vagrant VM: box, CPUs, memory (with units) and the Vagrant provider, checked with the API's
// own schema as they are typed (errors on the field, once the field was touched or on submit).
// Nothing boots here: the machine is stored and its Vagrantfile written; Start runs `vagrant up`.
import { Field } from '../../components/Field';
import { FormDialog, useFieldForm } from '../../components/FormDialog';
import { useRequest } from '../../components/useRequest';
import { useT } from '../../i18n';
import { useClient, useMachines } from '../../stores';
import { useToasts } from '../../stores/toasts';
import { emptyVagrantForm, vagrantParams } from './vagrant-form';

const PROVIDERS = ['virtualbox', 'libvirt', 'parallels', 'vmware_desktop', 'hyperv'] as const;

export function AddVagrantDialog({ onClose }: { onClose: () => void }) {
  const t = useT();
  const client = useClient();
  const load = useMachines((state) => state.load);
  const push = useToasts((state) => state.push);
  const { withError, control, submit } = useFieldForm(emptyVagrantForm, vagrantParams);
  const { busy, failure, run } = useRequest();

  const add = async (): Promise<void> => {
    const params = submit();
    if (!params) return;
    await run(async () => {
      const added = await client.call('machines.addVagrant', params);
      push({ tone: 'ok', title: t('machines.add.done', { name: added.name }) });
      void load();
      onClose();
    });
  };

  return (
    <FormDialog
      id="machine-add-vagrant"
      title={t('machines.add.title')}
      description={t('machines.add.description')}
      busy={busy}
      failure={failure}
      submitLabel={busy ? t('machines.add.running') : t('machines.add.submit')}
      onClose={onClose}
      onSubmit={() => void add()}
    >
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
    </FormDialog>
  );
}
