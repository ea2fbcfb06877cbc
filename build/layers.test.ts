// DESIGN.md §2's import direction is the ESLint rule layers/import-direction (build/eslint-layers.mjs,
// on in eslint.config.js for every file, so `npx eslint .` checks every import). This test plants
// imports through the repo's own ESLint config: each row of the table refuses what it must and
// lets through what it may, for every kind of import statement.
import { ESLint } from 'eslint';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './testing/isolated-agent.js';

const eslint = new ESLint({ cwd: REPO_ROOT });

/** The layer rule's complaints about `code` were it the file at repo-relative `file`. */
async function complaints(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(REPO_ROOT, file) });
  return (result?.messages ?? []).filter((message) => message.ruleId === 'layers/import-direction').map((message) => message.message);
}

const refused: [file: string, code: string][] = [
  ['shared/x.ts', "import { HostCore } from '../electron/core/host-core.js';"],
  ['shared/x.ts', "import { readFile } from 'node:fs';"],
  ['shared/x.ts', "import { x } from '../vm-assets/agent/x.js';"],
  ['electron/core/x.ts', "import { app } from '../main/app.js';"],
  ['electron/core/x.ts', "import { program } from '../cli/main.js';"],
  ['electron/core/x.ts', "import { app } from 'electron';"],
  ['electron/core/x.ts', "import { agent } from '../../vm-assets/agent/main.js';"],
  ['electron/cli/x.ts', "import { app } from 'electron';"],
  ['electron/cli/x.ts', "import { w } from '../main/window.js';"],
  ['electron/serve/x.ts', "import { c } from '../cli/main.js';"],
  ['electron/main/x.ts', "import { a } from '../../renderer/src/app.js';"],
  ['electron/preload/x.ts', "import { s } from '../serve/serve.js';"],
  ['renderer/src/x.ts', "import { HostCore } from '../../electron/core/host-core.js';"],
  ['renderer/src/x.ts', "import { join } from 'node:path';"],
  ['renderer/src/x.ts', "import { ipcRenderer } from 'electron';"],
  ['vm-assets/agent/x.ts', "import { HostCore } from '../../electron/core/host-core.js';"],
  ['vm-assets/agent/x.ts', "import { shell } from 'electron';"],
  ['vm-assets/agent/x.ts', "import { b } from '../../build/init.mjs';"],
  // every way of importing
  ['vm-assets/agent/x.ts', "export { HostCore } from '../../electron/core/host-core.js';"],
  ['vm-assets/agent/x.ts', "export * from '../../electron/core/host-core.js';"],
  ['vm-assets/agent/x.ts', "export const m = () => import('../../renderer/src/app.js');"],
  ['vm-assets/agent/x.ts', "export type T = import('../../electron/core/host-core.js').HostCore;"],
  ['vm-assets/agent/x.ts', "import type { HostCore } from '../../electron/core/host-core.js';"],
];

const allowed: [file: string, code: string][] = [
  ['shared/x.ts', "import { z } from 'zod';\nimport { y } from './y.js';"],
  [
    'electron/core/x.ts',
    "import { y } from '../../shared/y.js';\nimport { readFile } from 'node:fs';\nimport { p } from './platform/p.js';",
  ],
  ['electron/cli/x.ts', "import { HostCore } from '../core/host-core.js';\nimport { startServe } from '../serve/serve.js';"],
  ['electron/main/x.ts', "import { app } from 'electron';\nimport { HostCore } from '../core/host-core.js';"],
  ['electron/preload/x.ts', "import { contextBridge } from 'electron';\nimport { y } from '../../shared/y.js';"],
  ['renderer/src/x.ts', "import { y } from '../../shared/y.js';\nimport { useState } from 'react';"],
  ['vm-assets/agent/x.ts', "import { y } from '../../shared/y.js';\nimport { p } from '../init/protocol.json';"],
  ['build/x.ts', "import { HostCore } from '../electron/core/host-core.js';\nimport { app } from 'electron';"],
  ['e2e/x.ts', "import { a } from '../renderer/src/app.js';"],
  // tests join layers on purpose and are not shipped
  ['vm-assets/agent/reliability/x.test.ts', "import { HostCore } from '../../../electron/core/host-core.js';"],
];

describe('layer import rules (DESIGN.md §2) as the ESLint rule layers/import-direction', () => {
  it.each(refused)('refuses in %s: %s', async (file, code) => {
    expect(await complaints(file, code)).toHaveLength(1);
  });

  it.each(allowed)('allows in %s: %s', async (file, code) => {
    expect(await complaints(file, code)).toEqual([]);
  });
});
