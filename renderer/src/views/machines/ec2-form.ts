// The EC2 add form, as data: what the user typed turned into the API's own params by the API's own
// schema (adopt an instance, or launch one), each schema error placed on the field it came from.
import { MachineAddEc2Params } from '../../../../shared/machines.js';
import { checkWithSchema, type FieldError, type FormCheck } from '../../components/FormDialog';

export interface Ec2FormValues {
  name: string;
  profile: string;
  region: string;
  mode: 'launch' | 'adopt';
  instance: string;
  image: string;
  arch: string;
  type: string;
  disk: string;
  key: string;
  user: string;
  idle: string;
}

export type Ec2Field = keyof Ec2FormValues;

export const emptyEc2Form: Ec2FormValues = {
  name: '',
  profile: '',
  region: '',
  mode: 'launch',
  instance: '',
  image: 'debian-12',
  arch: 'x64',
  type: '',
  disk: '20',
  key: '',
  user: '',
  idle: '60',
};

const fieldOfParam: Record<string, Ec2Field> = {
  name: 'name',
  profile: 'profile',
  region: 'region',
  instance: 'instance',
  identityFile: 'key',
  user: 'user',
  idleMinutes: 'idle',
};
const fieldOfLaunch: Record<string, Ec2Field> = { image: 'image', arch: 'arch', instanceType: 'type', diskGb: 'disk' };

/** A number when the text reads as one; else the text, which the schema refuses in its own words. */
const numberOrText = (text: string): number | string => (/^\d+$/.test(text.trim()) ? Number(text.trim()) : text.trim());

export function ec2Params(values: Ec2FormValues): FormCheck<Ec2Field, MachineAddEc2Params> {
  const errors: Partial<Record<Ec2Field, FieldError>> = {};
  const required: Ec2Field[] = ['name', 'region', 'idle', ...(values.mode === 'adopt' ? (['instance'] as const) : (['disk'] as const))];
  for (const field of required) if (values[field].trim() === '') errors[field] = { kind: 'required' };
  const optional = (field: Ec2Field, param: string) => (values[field].trim() !== '' ? { [param]: values[field].trim() } : {});
  const input = {
    provider: 'ec2',
    name: values.name.trim(),
    region: values.region.trim(),
    ...optional('profile', 'profile'),
    ...optional('key', 'identityFile'),
    idleMinutes: numberOrText(values.idle),
    ...(values.mode === 'adopt'
      ? { instance: values.instance.trim(), ...optional('user', 'user') }
      : {
          launch: {
            image: values.image,
            arch: values.arch,
            ...optional('type', 'instanceType'),
            diskGb: numberOrText(values.disk),
          },
        }),
  };
  return checkWithSchema(MachineAddEc2Params, input, errors, (path) =>
    path[0] === 'launch' ? fieldOfLaunch[String(path[1])] : fieldOfParam[String(path[0])],
  );
}
