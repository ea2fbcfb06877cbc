// DESIGN.md §2 import rules, checked on every source file: the renderer never reaches the host
// core, only the Electron shell imports `electron`, the agent and shared/ import nothing of the
// host's, and shared/ stays browser-safe.
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './testing/isolated-agent.js';

interface ImportRef {
  file: string;
  specifier: string;
  /** Repo-relative target for relative imports; undefined for packages. */
  target: string | undefined;
}

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(REPO_ROOT, dir), { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules' && entry.name !== 'dist') out.push(...sources(path));
    } else if (/\.(ts|tsx|mts|cts)$/.test(entry.name)) out.push(path);
  }
  return out;
}

export function importsOf(file: string): ImportRef[] {
  const info = ts.preProcessFile(readFileSync(join(REPO_ROOT, file), 'utf8'), true, true);
  return info.importedFiles.map(({ fileName }) => ({
    file,
    specifier: fileName,
    target: fileName.startsWith('.')
      ? relative(REPO_ROOT, resolve(REPO_ROOT, dirname(file), fileName))
          .split(sep)
          .join('/')
      : undefined,
  }));
}

// Tests (*.test.ts, the VM suites' *.vm-test.ts) and their support files (test-*.ts beside them) are not shipped; the rules are for product code.
const isTest = (file: string) => /\.(vm-)?test\.tsx?$|(^|\/)test-[\w-]+\.ts$/.test(file);
const isNodeBuiltin = (specifier: string) => specifier.startsWith('node:') || builtinModules.includes(specifier.split('/')[0] ?? '');
const under = (target: string | undefined, folder: string) =>
  target !== undefined && (target === folder || target.startsWith(`${folder}/`));

function violations(folder: string, rule: (ref: ImportRef) => string | undefined, includeTests = false): string[] {
  return sources(folder)
    .filter((file) => includeTests || !isTest(file))
    .flatMap(importsOf)
    .map((ref) => {
      const why = rule(ref);
      return why ? `${ref.file} imports "${ref.specifier}": ${why}` : undefined;
    })
    .filter((v): v is string => v !== undefined);
}

describe('layer import rules (DESIGN.md §2)', () => {
  it('shared/ imports nothing of ours and nothing from Node: it runs in the renderer too', () => {
    expect(
      violations('shared', (ref) => {
        if (ref.target !== undefined && !under(ref.target, 'shared')) return 'shared/ may import only shared/';
        if (isNodeBuiltin(ref.specifier)) return 'shared/ must stay browser-safe';
        return undefined;
      }),
    ).toEqual([]);
  });

  it('the renderer imports only itself and shared/, never the host core or Node', () => {
    expect(
      violations('renderer', (ref) => {
        if (ref.target !== undefined && !under(ref.target, 'renderer') && !under(ref.target, 'shared'))
          return 'the renderer may import only renderer/ and shared/';
        if (ref.specifier === 'electron' || isNodeBuiltin(ref.specifier)) return 'the renderer has no Node or Electron';
        return undefined;
      }),
    ).toEqual([]);
  });

  it('the agent imports only itself and shared/', () => {
    expect(
      violations('vm-assets', (ref) => {
        if (ref.target !== undefined && !under(ref.target, 'vm-assets') && !under(ref.target, 'shared'))
          return 'the agent may import only vm-assets/ and shared/';
        if (ref.specifier === 'electron') return 'the agent never runs in Electron';
        return undefined;
      }),
    ).toEqual([]);
  });

  it('only electron/main and electron/preload import electron; core, cli and serve stay plain Node', () => {
    const rule = (ref: ImportRef) => {
      if (ref.specifier === 'electron' && !ref.file.startsWith('electron/main/') && !ref.file.startsWith('electron/preload/'))
        return 'only the Electron shell may import electron';
      if (ref.target !== undefined && !under(ref.target, 'electron') && !under(ref.target, 'shared'))
        return 'the host may import only electron/ and shared/';
      if (
        ref.file.startsWith('electron/core/') &&
        ref.target !== undefined &&
        under(ref.target, 'electron') &&
        !under(ref.target, 'electron/core')
      )
        return 'the core may not import its front ends';
      return undefined;
    };
    expect(violations('electron', rule)).toEqual([]);
  });

  it('catches a violation (the check itself can fail)', () => {
    const fake: ImportRef = {
      file: 'renderer/src/x.ts',
      specifier: '../../electron/core/host-core.js',
      target: 'electron/core/host-core.js',
    };
    expect(under(fake.target, 'renderer') || under(fake.target, 'shared')).toBe(false);
    const probe = importsOf('electron/cli/session.ts');
    expect(probe.some((ref) => ref.target === 'electron/core/host-core.js')).toBe(true);
  });
});
