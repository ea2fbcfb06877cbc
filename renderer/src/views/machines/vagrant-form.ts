// The Vagrant add form, as data: what the user typed (memory with the units people type, `4g`,
// `2048m`, a bare number is MiB like the CLI's --memory), turned into the API's own params by the
// API's own schema, each schema error placed on the field it came from.
import { MachineAddVagrantParams } from '../../../../shared/machines.js';
import { UnitError, parseMemory } from '../../../../shared/units.js';
import { checkWithSchema, type FieldError, type FormCheck } from '../../components/FormDialog';

export interface VagrantFormValues {
  name: string;
  box: string;
  cpus: string;
  memory: string;
  provider: string;
}

export type VagrantField = keyof VagrantFormValues;

// Box and provider left empty: the host fills in this computer's (an arm64 box on Apple Silicon and
// Windows on ARM, where debian/bookworm64 cannot boot).
export const emptyVagrantForm: VagrantFormValues = { name: '', box: '', cpus: '2', memory: '2g', provider: '' };

/** Fields that may stay empty (the host's default). */
const OPTIONAL: readonly VagrantField[] = ['box', 'provider'];

export type VagrantFieldErrors = Partial<Record<VagrantField, FieldError>>;

export type VagrantFormResult = FormCheck<VagrantField, MachineAddVagrantParams>;

const fieldOfParam: Record<string, VagrantField> = {
  name: 'name',
  box: 'box',
  cpus: 'cpus',
  memoryMb: 'memory',
  vagrantProvider: 'provider',
};

export function vagrantParams(values: VagrantFormValues): VagrantFormResult {
  const errors: VagrantFieldErrors = {};
  for (const field of Object.keys(values) as VagrantField[]) {
    if (values[field].trim() === '' && !OPTIONAL.includes(field)) errors[field] = { kind: 'required' };
  }
  let memoryMb: number | string = values.memory.trim();
  if (!errors.memory) {
    try {
      memoryMb = Math.floor(parseMemory(/^\d+$/.test(memoryMb) ? `${memoryMb}m` : memoryMb) / 1024 ** 2);
    } catch (error) {
      errors.memory = { kind: 'invalid', message: error instanceof UnitError ? error.message : String(error) };
    }
  }
  const cpus = values.cpus.trim();
  const input = {
    provider: 'vagrant',
    name: values.name.trim(),
    ...(values.box.trim() !== '' ? { box: values.box.trim() } : {}),
    // A number when it reads as one; else the text, which the schema refuses with its own words.
    cpus: /^\d+(?:\.\d+)?$/.test(cpus) ? Number(cpus) : cpus,
    memoryMb,
    ...(values.provider.trim() !== '' ? { vagrantProvider: values.provider.trim() } : {}),
  };
  return checkWithSchema(MachineAddVagrantParams, input, errors, (path) => fieldOfParam[String(path[0])]);
}
