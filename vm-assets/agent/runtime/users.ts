// Resolving the container's user the way Docker does: numbers as given, names from the image's
// own /etc/passwd and /etc/group (never the machine's).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export class UserError extends Error {}

async function lookup(rootfs: string, file: 'passwd' | 'group', name: string): Promise<string[] | undefined> {
  // an image without /etc/passwd or /etc/group knows no names: the lookup finds none
  const text = await readFile(join(rootfs, 'etc', file), 'utf8').catch(() => '');
  return text
    .split('\n')
    .map((line) => line.split(':'))
    .find((fields) => fields[0] === name);
}

/** `user`, `uid`, `user:group`, `uid:gid`; empty means root. */
export async function resolveUser(rootfs: string, spec: string): Promise<{ uid: number; gid: number }> {
  if (spec === '') return { uid: 0, gid: 0 };
  const [userPart = '', groupPart] = spec.split(':');
  let uid: number;
  let gid = 0;
  if (/^\d+$/.test(userPart)) {
    uid = Number(userPart);
    // an image without /etc/passwd: a numeric user has no entry and keeps gid 0, as Docker does
    const entry = (await readFile(join(rootfs, 'etc', 'passwd'), 'utf8').catch(() => ''))
      .split('\n')
      .map((line) => line.split(':'))
      .find((fields) => fields[2] === userPart);
    if (entry?.[3]) gid = Number(entry[3]);
  } else {
    const entry = await lookup(rootfs, 'passwd', userPart);
    if (!entry) throw new UserError(`user "${userPart}" is not in the image's /etc/passwd`);
    uid = Number(entry[2]);
    gid = Number(entry[3]);
  }
  if (groupPart !== undefined) {
    if (/^\d+$/.test(groupPart)) gid = Number(groupPart);
    else {
      const entry = await lookup(rootfs, 'group', groupPart);
      if (!entry) throw new UserError(`group "${groupPart}" is not in the image's /etc/group`);
      gid = Number(entry[2]);
    }
  }
  return { uid, gid };
}
