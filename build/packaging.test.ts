// Packages the app with electron-builder (--dir, Linux) against a stand-in Electron, then looks
// inside: what the asar holds, what sits beside it, and how the fuses were set. Nothing is
// downloaded. The build itself comes from vitest's global setup (build/testing/global-setup.ts
// runs `node build/build.mjs` before every run).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { isBuiltin } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { extractAll, extractFile, listPackage } from '@electron/asar';
import { flipFuses } from '@electron/fuses';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFuseWire, writeElectronStandIn } from './packaging/electron-stand-in.js';
import { stageNodePty } from './node-pty.mjs';
import { afterPack, missingInitHelpers } from './packaging/hooks.mjs';

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
    expect(entries.filter((entry) => entry.startsWith('/dist/node-pty'))).toEqual([]);
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

  it('loads every module the bundles require at run time from inside the package, with plain Node and no node_modules of the repo', async () => {
    // The package as an installed app has it, with the asar unpacked to a folder at the same depth
    // (resources/app), far from the checkout: Node's lookup from there can reach only the package.
    const installed = join(work, 'installed');
    await cp(join(unpacked, 'resources'), join(installed, 'resources'), { recursive: true, verbatimSymlinks: true });
    await rm(join(installed, 'resources', 'app.asar'));
    extractAll(asar, join(installed, 'resources', 'app'));
    const bundleDir = join(installed, 'resources', 'app', 'dist', 'electron');
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: work };

    // What the bundles ask for at run time: `require("x")` that esbuild left in, and our createRequire calls.
    const wanted = new Set<string>();
    for (const bundle of ['main.cjs', 'cli.cjs']) {
      const text = await readFile(join(bundleDir, bundle), 'utf8');
      for (const match of text.matchAll(/(?:\brequire|createRequire\)?\(__filename\))\("([^"]+)"\)/g)) wanted.add(match[1] ?? '');
    }
    // Provided by Electron, or optional native accelerators loaded inside try/catch (ws; ssh2,
    // whose pure-JS path is the one that ships): their absence is the shipped state. The AWS SDK's
    // `require("@aws-sdk/signature-v4-crt")` is text in an error message about SigV4a (multi-region
    // access points, which Onggi never signs for), not a call.
    const optional = new Set(['electron', 'bufferutil', 'utf-8-validate', 'cpu-features', '@aws-sdk/signature-v4-crt']);
    const runtime = [...wanted].filter((name) => !isBuiltin(name) && !optional.has(name) && !name.endsWith('.node')).sort();
    expect(runtime.length).toBeGreaterThan(0);

    const loader = join(bundleDir, 'load-check.cjs');
    await writeFile(
      loader,
      [
        `const names = ${JSON.stringify(runtime)};`,
        'const found = {};',
        'for (const name of names) { require(name); found[name] = require.resolve(name); }',
        // The native half for real: a PTY through the shipped pty.node.
        "const pty = require('@lydell/node-pty').spawn('/bin/sh', ['-c', 'echo pty-$((6*7))'], {});",
        "let out = ''; pty.onData((d) => (out += d));",
        'pty.onExit(() => { console.log(JSON.stringify({ found, out })); });',
      ].join('\n'),
    );
    const run = spawnSync(process.execPath, [loader], { cwd: installed, env, encoding: 'utf8', timeout: 20_000 });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const result = JSON.parse(run.stdout) as { found: Record<string, string>; out: string };
    for (const name of runtime) expect(result.found[name]?.startsWith(installed + sep)).toBe(true);
    expect(result.out).toContain('pty-42');

    // And the CLI bundle as a whole (ssh2 and every other bundled module load at start-up).
    const cli = spawnSync(process.execPath, [join(bundleDir, 'cli.cjs'), '--version'], { cwd: installed, env, encoding: 'utf8' });
    expect(cli.stderr).toBe('');
    expect(cli.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('ships node-pty beside the asar for the target only, not the rest of node_modules', async () => {
    expect((await readdir(join(unpacked, 'resources', 'node_modules', '@lydell'))).sort()).toEqual(['node-pty', 'node-pty-linux-x64']);
    expect(await readdir(join(unpacked, 'resources', 'node_modules'))).toEqual(['@lydell']);
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
      runAsNode: '1', // the local agent runs under ELECTRON_RUN_AS_NODE (Linux only: afterPack)
      enableCookieEncryption: '1',
      enableNodeOptionsEnvironmentVariable: '0',
      enableNodeCliInspectArguments: '0',
      enableEmbeddedAsarIntegrityValidation: '1',
      onlyLoadAppFromAsar: '1',
      grantFileProtocolExtraPrivileges: '1', // the renderer is loaded from file://
    });
  });
});

describe('electron-builder hooks', () => {
  let work = '';
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'onggi-hooks-'));
  });
  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it.each([
    ['darwin', '0'],
    ['win32', '0'],
    ['linux', '1'],
  ])('afterPack sets runAsNode for %s to %s (no local agent off Linux)', async (platform, expected) => {
    const binary = join(await writeElectronStandIn(join(work, platform)), 'electron');
    // electron-builder's own addElectronFuses resolves the executable by product name; here it is the stand-in.
    const packager = {
      addElectronFuses: (_context: unknown, fuses: Parameters<typeof flipFuses>[1]) =>
        flipFuses(binary, { ...fuses, resetAdHocDarwinSignature: false }),
    };
    await afterPack({ electronPlatformName: platform, appOutDir: work, packager });
    expect((await readFuseWire(binary))[0]).toBe(expected);
  });

  it.each([
    ['darwin', 'arm64', ['pty.node', 'spawn-helper']],
    ['win32', 'x64', ['conpty.node', 'conpty_console_list.node']],
  ])(
    'stages node-pty for %s-%s from the registry (pinned by package-lock.json), npm having installed only this host’s',
    async (platform, arch, files) => {
      const outDir = join(work, `pty-${platform}-${arch}`);
      const staged = await stageNodePty({ platform, arch, outDir });
      expect(staged).toEqual(['@lydell/node-pty', `@lydell/node-pty-${platform}-${arch}`]);
      const prebuilt = join(outDir, 'node_modules', '@lydell', `node-pty-${platform}-${arch}`);
      expect(await readdir(prebuilt)).toEqual(expect.arrayContaining(files));
      // spawn-helper is executed by pty.node on macOS: the tarball's mode survives the staging.
      if (platform === 'darwin') expect((await stat(join(prebuilt, 'spawn-helper'))).mode & 0o111).toBe(0o111);
      expect(existsSync(join(outDir, 'node_modules', '@lydell', 'node-pty', 'index.js'))).toBe(true);
    },
  );

  it('beforePack refuses a build without an init helper, naming it and how to get it', async () => {
    const project = join(work, 'project');
    await cp(join(repo, 'vm-assets', 'dist', 'agent'), join(project, 'vm-assets', 'dist', 'agent'), { recursive: true });
    await rm(join(project, 'vm-assets', 'dist', 'agent', 'onggi-init-arm64'));
    expect(missingInitHelpers(join(project, 'vm-assets', 'dist', 'agent')).map((m) => m.name)).toEqual(['onggi-init-arm64']);
    const { beforePack } = await import('./packaging/hooks.mjs');
    await expect(beforePack({ packager: { projectDir: project } })).rejects.toThrow(/onggi-init-arm64 missing.*\n.*ONGGI_INIT_PREBUILT/);
  });
});
