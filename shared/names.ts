import * as z from 'zod';
import { lazySchema } from './lazy-schema.js';

/** Machine, container and network names: what Docker accepts, and safe as a path component. */
export const ResourceName = lazySchema(() =>
  z
    .string()
    .min(1, 'must not be empty')
    .max(63, 'must be at most 63 characters')
    .regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, 'must start with a letter or digit and use only letters, digits, _ . -'),
);

export const MachineName = ResourceName;
export type MachineName = z.infer<typeof MachineName>;

/** Device names Windows reserves in every folder, with or without an extension (`nul`, `con.txt`). */
const WINDOWS_RESERVED = /^(?:con|prn|aux|nul|com[1-9]|lpt[1-9])(?:\..*)?$/i;

/**
 * The name of a machine being added: also a folder name on the desktop (its Vagrant directory),
 * which must mean one folder on Windows and macOS too. Stored machines are read with MachineName,
 * so a machine added before these rules is still loaded.
 */
export const NewMachineName = MachineName.refine((name) => !WINDOWS_RESERVED.test(name), {
  message: 'must not be a name Windows reserves for a device (con, prn, aux, nul, com1–com9, lpt1–lpt9, with or without an extension)',
}).refine((name) => !/[. ]$/.test(name), {
  message: 'must not end with a dot or a space (Windows drops them: it would be another name’s folder)',
});

/** Whether two machine names are one folder on Windows and macOS (whose file systems ignore case). */
export function sameMachineName(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}
