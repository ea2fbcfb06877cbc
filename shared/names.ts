import { z } from 'zod';

/** Machine, container and network names: what Docker accepts, and safe as a path component. */
export const ResourceName = z
  .string()
  .min(1, 'must not be empty')
  .max(63, 'must be at most 63 characters')
  .regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, 'must start with a letter or digit and use only letters, digits, _ . -');

export const MachineName = ResourceName;
export type MachineName = z.infer<typeof MachineName>;
