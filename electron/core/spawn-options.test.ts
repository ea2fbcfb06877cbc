// On Windows a child process started without `windowsHide` flashes a console window (each vagrant
// status poll would). Every child_process spawn of the host core must ask for it to be hidden.
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const CORE = import.meta.dirname;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && /\.ts$/.test(entry.name) && !/\.(test|vm-test)\.ts$/.test(entry.name))
    .map((entry) => join(entry.parentPath, entry.name));
}

/** The text of each `spawn(…)` / `execFile(…)` call (not node-pty's `pty().spawn`), to its closing parenthesis. */
function spawnCalls(text: string): string[] {
  const calls: string[] = [];
  for (const match of text.matchAll(/(?<![.\w])(spawn|spawnSync|execFile|execFileSync|fork)\(/g)) {
    let depth = 0;
    let end = match.index;
    for (; end < text.length; end++) {
      if (text[end] === '(') depth++;
      if (text[end] === ')' && --depth === 0) break;
    }
    calls.push(text.slice(match.index, end + 1));
  }
  return calls;
}

describe('child processes of the host core', () => {
  it('are all started with windowsHide: true', () => {
    const missing: string[] = [];
    let count = 0;
    for (const file of sources(CORE)) {
      for (const call of spawnCalls(readFileSync(file, 'utf8'))) {
        count++;
        if (!/windowsHide:\s*true/.test(call)) missing.push(`${relative(CORE, file)}: ${call.split('\n')[0]}`);
      }
    }
    expect(count).toBeGreaterThanOrEqual(3); // vagrant, the local daemon, the local exec terminal
    expect(missing).toEqual([]);
  });
});
