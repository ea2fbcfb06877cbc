// Add an EC2 sandbox: profile and region (credentials stay in the user's AWS files: the window
// never sees them), then adopt an instance or launch one (image, architecture, type, disk), and
// the idle timeout after which the instance stops itself. AWS's refusals come back in the user's
// words (no credentials for the profile, no default VPC, instance limit, image not offered).
import { useState } from 'react';
import { Field } from '../../components/Field';
import { FormDialog, useFieldForm } from '../../components/FormDialog';
import { useRequest } from '../../components/useRequest';
import { useT } from '../../i18n';
import { useClient, useMachines } from '../../stores';
import { useToasts } from '../../stores/toasts';
import { ec2Params, emptyEc2Form } from './ec2-form';

export function AddEc2Dialog({ onClose }: { onClose: () => void }) {
  const t = useT();
  const client = useClient();
  const load = useMachines((state) => state.load);
  const push = useToasts((state) => state.push);
  const { values, setValues, withError, control, submit } = useFieldForm(emptyEc2Form, ec2Params);
  const { busy, failure, run } = useRequest();
  // The launch step being done now (shown on the submit button while it runs).
  const [step, setStep] = useState<string>();

  const add = async (): Promise<void> => {
    const params = submit();
    if (!params) return;
    await run(async () => {
      const off = client.onEvent((event) => {
        if (event.type === 'machine.ec2' && event.machine === params.name) setStep(event.step);
      });
      try {
        const added = await client.call('machines.addEc2', params);
        push({ tone: 'ok', title: t('machines.addEc2.done', { name: added.name, instance: added.instanceId }) });
        void load();
        onClose();
      } finally {
        off();
        setStep(undefined);
      }
    });
  };

  const launch = values.mode === 'launch';
  return (
    <FormDialog
      id="machine-add-ec2"
      title={t('machines.addEc2.title')}
      description={t('machines.addEc2.description')}
      busy={busy}
      failure={failure === undefined ? undefined : t('machines.addEc2.failed', { message: failure })}
      submitLabel={busy ? (step ?? t('machines.add.running')) : t('machines.add.submit')}
      onClose={onClose}
      onSubmit={() => void add()}
    >
      <Field label={t('machines.add.name')} hint={t('machines.add.name.hint')} {...withError('name')}>
        <input {...control('name')} />
      </Field>
      <Field label={t('machines.addEc2.profile')} hint={t('machines.addEc2.profile.hint')} {...withError('profile')}>
        <input className="mono" {...control('profile')} />
      </Field>
      <Field label={t('machines.addEc2.region')} hint={t('machines.addEc2.region.hint')} {...withError('region')}>
        <input className="mono" {...control('region')} />
      </Field>
      <Field label={t('machines.addEc2.mode')} {...withError('mode')}>
        <select
          name="mode"
          value={values.mode}
          onChange={(event) => setValues((current) => ({ ...current, mode: event.target.value === 'adopt' ? 'adopt' : 'launch' }))}
        >
          <option value="launch">{t('machines.addEc2.mode.launch')}</option>
          <option value="adopt">{t('machines.addEc2.mode.adopt')}</option>
        </select>
      </Field>
      {launch ? (
        <>
          <Field label={t('machines.addEc2.image')} {...withError('image')}>
            <select
              name="image"
              value={values.image}
              onChange={(event) => setValues((current) => ({ ...current, image: event.target.value }))}
            >
              <option value="debian-12">Debian 12</option>
              <option value="ubuntu-24.04">Ubuntu 24.04</option>
              <option value="al2023">Amazon Linux 2023</option>
            </select>
          </Field>
          <Field label={t('machines.addEc2.arch')} {...withError('arch')}>
            <select
              name="arch"
              value={values.arch}
              onChange={(event) => setValues((current) => ({ ...current, arch: event.target.value }))}
            >
              <option value="x64">x64</option>
              <option value="arm64">arm64</option>
            </select>
          </Field>
          <Field label={t('machines.addEc2.type')} hint={t('machines.addEc2.type.hint')} {...withError('type')}>
            <input className="mono" {...control('type')} />
          </Field>
          <Field label={t('machines.addEc2.disk')} {...withError('disk')}>
            <input inputMode="numeric" {...control('disk')} />
          </Field>
        </>
      ) : (
        <>
          <Field label={t('machines.addEc2.instance')} hint={t('machines.addEc2.instance.hint')} {...withError('instance')}>
            <input className="mono" {...control('instance')} />
          </Field>
          <Field label={t('machines.addEc2.user')} hint={t('machines.addEc2.user.hint')} {...withError('user')}>
            <input className="mono" {...control('user')} />
          </Field>
        </>
      )}
      <Field label={t('machines.addEc2.key')} hint={t('machines.addEc2.key.hint')} {...withError('key')}>
        <input className="mono" {...control('key')} />
      </Field>
      <Field label={t('machines.addEc2.idle')} hint={t('machines.addEc2.idle.hint')} {...withError('idle')}>
        <input inputMode="numeric" {...control('idle')} />
      </Field>
    </FormDialog>
  );
}
