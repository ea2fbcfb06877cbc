// Which parts `node build/build.mjs [PART…]` builds. No argument: all of them, the Node runtimes
// for remote deploy included (`npm run build`, `npm run dist`: an installer must carry them).
// `app`: what this computer runs (host, agent, renderer), for `npm start` and `npm run serve`:
// staging the runtimes is minutes on a fresh clone (npm pack, strip, xz -9 of two Node builds)
// and the local machine never uses them; deploy stages one when a remote machine first needs it.
export const PARTS = ['host', 'agent', 'renderer', 'runtime'];
const GROUPS = { app: ['host', 'agent', 'renderer'] };

/** @param {string[]} args @returns {Set<string>} */
export function partsToBuild(args) {
  if (args.length === 0) return new Set(PARTS);
  const parts = new Set();
  for (const arg of args) {
    const group = GROUPS[arg] ?? (PARTS.includes(arg) ? [arg] : undefined);
    if (!group) throw new Error(`unknown build part "${arg}": one of ${[...PARTS, ...Object.keys(GROUPS)].join(', ')}`);
    for (const part of group) parts.add(part);
  }
  return parts;
}
