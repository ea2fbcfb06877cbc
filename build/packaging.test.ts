// Packages the app with electron-builder (--dir, Linux) against a stand-in Electron, then looks
// inside: what the asar holds, what sits beside it, and how the fuses were set. Nothing is
// downloaded. The build itself comes from vitest's global setup (build/testing/global-setup.ts
// runs `node build/build.mjs` before every run).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { extractFile, listPackage } from '@electron/asar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFuseWire, writeElectronStandIn } from './packaging/electron-stand-in.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const BUILT = [
  'dist/electron/main.cjs',
  'dist/electron/preload.cjs',
  'dist/electron/cli.cjs',
  'dist/renderer/index.html',
  'vm-assets/dist/agent/agent.cjs',
];

describe('electron-builder --dir (Linux)', () => {
  let work = '';
  let unpacked = '';
  let asar = '';
  let entries: string[] = [];

  beforeAll(async () => {
    const missing = BUILT.filter((file) => !existsSync(join(repo, file)));
    if (missing.length > 0) throw new Error(`not built (node build/build.mjs): ${missing.join(', ')}`);

    work = await mkdtemp(join(tmpdir(), 'onggi-packaging-'));
    const electronDist = await writeElectronStandIn(join(work, 'electron-dist'));
    const output = join(work, 'out');
    const builder = spawnSync(
      process.execPath,
      [
        join(repo, 'node_modules', 'electron-builder', 'cli.js'),
        '--dir',
        '--linux',
        '--x64',
        '--publish',
        'never',
        `-c.electronDist=${electronDist}`,
        `-c.directories.output=${output}`,
      ],
      {
        cwd: repo,
        encoding: 'utf8',
        timeout: 110_000,
        env: { ...process.env, ELECTRON_SKIP_BINARY_DOWNLOAD: '1', CSC_IDENTITY_AUTO_DISCOVERY: 'false' },
      },
    );
    if (builder.status !== 0) throw new Error(`electron-builder failed (${builder.status}):\n${builder.stdout}\n${builder.stderr}`);
    unpacked = join(output, 'linux-unpacked');
    asar = join(unpacked, 'resources', 'app.asar');
    entries = listPackage(asar, { isPack: false }).map((entry) => entry.split('\\').join('/'));
  }, 120_000);

  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('puts the bundles, the renderer and package.json in app.asar', () => {
    for (const file of [
      '/package.json',
      '/dist/renderer/index.html',
      '/dist/electron/main.cjs',
      '/dist/electron/preload.cjs',
      '/dist/electron/cli.cjs',
    ]) {
      expect(entries).toContain(file);
    }
    const manifest = JSON.parse(extractFile(asar, 'package.json').toString('utf8')) as { main?: string; name?: string };
    expect(manifest.main).toBe('dist/electron/main.cjs');
  });

  it('keeps node_modules, source maps and sources out of app.asar', () => {
    expect(entries.filter((entry) => entry.startsWith('/node_modules'))).toEqual([]);
    expect(entries.filter((entry) => entry.endsWith('.map'))).toEqual([]);
    expect(entries.filter((entry) => /\.tsx?$/.test(entry))).toEqual([]);
    expect(entries.filter((entry) => entry.startsWith('/vm-assets'))).toEqual([]);
  });

  it('ships the agent beside the asar, as plain files', async () => {
    const agentDir = join(unpacked, 'resources', 'vm-assets', 'agent');
    expect((await stat(join(agentDir, 'agent.cjs'))).isFile()).toBe(true);
    const manifest = JSON.parse(await readFile(join(agentDir, 'manifest.json'), 'utf8')) as { entry?: string; buildId?: string };
    expect(manifest.entry).toBe('agent.cjs');
    expect(manifest.buildId).toMatch(/^[0-9a-f]{64}$/);
    // The copy is the build's agent, byte for byte: its hash is what the host hands the daemon.
    const [shipped, built] = await Promise.all([
      readFile(join(agentDir, 'agent.cjs')),
      readFile(join(repo, 'vm-assets/dist/agent/agent.cjs')),
    ]);
    expect(shipped.equals(built)).toBe(true);
  });

  it('flips the fuses electron-builder.yml asks for', async () => {
    const wire = await readFuseWire(join(unpacked, 'onggi'));
    expect({
      runAsNode: wire[0],
      enableCookieEncryption: wire[1],
      enableNodeOptionsEnvironmentVariable: wire[2],
      enableNodeCliInspectArguments: wire[3],
      enableEmbeddedAsarIntegrityValidation: wire[4],
      onlyLoadAppFromAsar: wire[5],
      grantFileProtocolExtraPrivileges: wire[7],
    }).toEqual({
      runAsNode: '1', // the local agent runs under ELECTRON_RUN_AS_NODE
      enableCookieEncryption: '1',
      enableNodeOptionsEnvironmentVariable: '0',
      enableNodeCliInspectArguments: '0',
      enableEmbeddedAsarIntegrityValidation: '1',
      onlyLoadAppFromAsar: '1',
      grantFileProtocolExtraPrivileges: '1', // the renderer is loaded from file://
    });
  });
});
