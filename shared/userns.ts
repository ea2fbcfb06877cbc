// User namespaces (`--userns`): `host` shares the machine's (root inside is root outside), `auto`
// gives the container a range of its own from /etc/subuid and /etc/subgid, as Podman's auto does.
import * as z from 'zod';
import { lazySchema } from './lazy-schema.js';

export const UsernsMode = lazySchema(() => z.enum(['auto', 'host']));
export type UsernsMode = z.infer<typeof UsernsMode>;

/** One line of a user namespace's map: `size` ids from `container` inside are `host` onwards on the machine. */
export const IdMapping = lazySchema(() =>
  z.strictObject({
    container: z.number().int().min(0),
    host: z.number().int().min(0),
    size: z.number().int().min(1),
  }),
);
export type IdMapping = z.infer<typeof IdMapping>;

/** A container's user namespace as inspect shows it (and its record keeps): the maps it runs with. */
export const UsernsMaps = lazySchema(() => z.strictObject({ uidMap: z.array(IdMapping), gidMap: z.array(IdMapping) }));
export type UsernsMaps = z.infer<typeof UsernsMaps>;

/** The ids each container gets with --userns=auto (Podman's default size). */
export const USERNS_AUTO_SIZE = 65536;

/** A machine's default for containers whose run does not say (`machine config --userns`). */
export const UsernsDefault = lazySchema(() => z.strictObject({ mode: UsernsMode.optional() }));
export type UsernsDefault = z.infer<typeof UsernsDefault>;
