import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Unmounts everything mounted under `root` (deepest first): a test's overlays after a failure. */
export function unmountUnder(root: string): void {
  const points = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4] ?? '')
    .filter((point) => point.startsWith(`${root}/`))
    .sort((a, b) => b.length - a.length);
  for (const point of points) spawnSync('umount', ['-l', point]);
}
