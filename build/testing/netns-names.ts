// The /run/netns names an agent under test made for its containers (vm-assets/agent/networks/
// netns-names.ts records them in its state): each bind mount keeps a namespace alive, and a test
// that killed its agent must not leave them on the machine. Only the names that agent recorded
// are removed, never another's.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** A /run/netns prefix of a test agent's own (the agent's default is `onggi-`). */
export function testNetnsPrefix(): string {
  return `onggi-t${Math.random().toString(36).slice(2, 7)}-`;
}

export function removeNetnsNames(stateDir: string): void {
  let names: unknown;
  try {
    names = JSON.parse(readFileSync(join(stateDir, 'networks', 'netns-names.json'), 'utf8'));
  } catch {
    return; // none made
  }
  if (!Array.isArray(names)) return;
  for (const name of names) {
    if (typeof name === 'string' && /^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name) && existsSync(join('/run/netns', name)))
      spawnSync('ip', ['netns', 'delete', name], { stdio: 'ignore' });
  }
}

/**
 * The same for every agent state directory within `depth` levels under `root` (agents a test
 * deployed over SSH keep theirs wherever the test put them).
 */
export function removeNetnsNamesUnder(root: string, depth = 4): void {
  if (existsSync(join(root, 'networks', 'netns-names.json'))) removeNetnsNames(root);
  if (depth === 0) return;
  let entries: string[];
  try {
    entries = readdirSync(root, { withFileTypes: true })
      .filter((entry) => entry.isDirectory() && !entry.isSymbolicLink())
      .map((entry) => entry.name);
  } catch {
    return;
  }
  for (const entry of entries) removeNetnsNamesUnder(join(root, entry), depth - 1);
}
