// Builds every part: the host core's entry points (CLI, Electron main and preload) and the agent
// with esbuild, the renderer with Vite. The agent's build id is the hash of its bundle, which is
// what the host compares on handshake to decide whether a running daemon is current.
import { createHash } from 'node:crypto';
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { build as viteBuild } from 'vite';
import { partsToBuild } from './build-parts.mjs';
import { buildInit } from './init.mjs';
import { DEFAULT_BUNDLES_DIR, stageRuntime } from './runtime.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'));
const parts = partsToBuild(process.argv.slice(2));
const want = (part) => parts.has(part);

const nodeBundle = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: 'linked',
  logLevel: 'warning',
  define: { __ONGGI_VERSION__: JSON.stringify(pkg.version) },
  // ws loads these native accelerators optionally; the pure-JS path is what ships.
  external: ['bufferutil', 'utf-8-validate'],
};

const jobs = [];
if (want('host')) {
  jobs.push(
    esbuild.build({
      ...nodeBundle,
      entryPoints: { cli: 'electron/cli/main.ts', main: 'electron/main/main.ts' },
      outdir: join(root, 'dist/electron'),
      outExtension: { '.js': '.cjs' },
      // ssh2 is bundled on its pure-JS path: its optional native addons (cpu-features,
      // sshcrypto.node) are left external, so its own try/catch finds them absent and falls back
      // to JS. @lydell/node-pty is not bundled: it loads pty.node (and on Windows a worker
      // script) from its package folders, which build/node-pty.mjs stages beside the asar.
      external: [...nodeBundle.external, 'electron', 'cpu-features', '*.node'],
    }),
    esbuild.build({
      ...nodeBundle,
      entryPoints: { preload: 'electron/preload/preload.ts' },
      outdir: join(root, 'dist/electron'),
      outExtension: { '.js': '.cjs' },
      // A sandboxed preload can require only 'electron' and a few polyfilled modules.
      platform: 'browser',
      external: ['electron'],
    }),
  );
}
if (want('agent')) jobs.push(buildAgent());
// The Vagrantfile template and provisioning ship beside the agent (the host core reads them there).
if (want('agent')) jobs.push(cp(join(root, 'vm-assets/vagrant'), join(root, 'vm-assets/dist/vagrant'), { recursive: true }));
if (want('renderer')) jobs.push(viteBuild({ configFile: join(root, 'vite.config.ts'), logLevel: 'warn' }));
await Promise.all(jobs);
// The Node runtime for each architecture a remote machine may have (npm packages node-linux-*,
// integrity-pinned; minutes the first time, reused after), so vm-assets/dist/ is the whole bundle.
// `node build/build.mjs runtime` stages only these; ONGGI_SKIP_RUNTIME=1 skips them; `app` (npm
// start, npm run serve) leaves them to deploy, which stages one when a machine first needs it.
if (want('runtime') && process.env.ONGGI_SKIP_RUNTIME !== '1') {
  for (const arch of ['x64', 'arm64']) {
    await stageRuntime({ arch, outDir: DEFAULT_BUNDLES_DIR, log: (line) => console.log(line) });
  }
}

/**
 * V8 keeps a script's whole source in memory (lazy compilation reads it), as one byte a character
 * only while every character is ASCII: one `—` in a comment doubles the agent's 1.5 MB source in
 * the daemon's heap (+1.4 MiB idle RSS, bench case 5). esbuild escapes strings, templates and
 * regular expressions (charset ascii) but keeps comments as written: those are escaped here.
 */
async function asciiOnly(file) {
  const text = await readFile(file, 'utf8');
  const escaped = text.replace(/[^ -~\t\n\r]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  if (escaped !== text) await writeFile(file, escaped);
}

async function buildAgent() {
  const outdir = join(root, 'vm-assets/dist/agent');
  await mkdir(outdir, { recursive: true });
  const file = join(outdir, 'agent.cjs');
  // The build id is the bundle's own hash, so it cannot be baked into the bundle: the agent
  // reads it from manifest.json beside itself at start-up.
  const [, helpers] = await Promise.all([
    esbuild.build({ ...nodeBundle, sourcemap: false, entryPoints: ['vm-assets/agent/main.ts'], outfile: file }),
    buildInit({ outDir: outdir }),
  ]);
  await asciiOnly(file);
  // On Linux the helper for this host must exist, or no local container can start; the other one
  // is optional here (no cross compiler). Off Linux a missing one is only warned about (by
  // buildInit): `npm start` still works; `npm run dist` and deploy refuse it, naming it.
  const ownHelper = process.arch === 'arm64' ? 'onggi-init-arm64' : 'onggi-init-amd64';
  const present = helpers.filter((h) => h.status !== 'skipped' && h.status !== 'missing');
  if (process.platform === 'linux' && !present.some((h) => h.name === ownHelper)) {
    throw new Error(`${ownHelper} was not built: install gcc and libc6-dev`);
  }
  // The helpers ship beside the bundle, so a changed helper is a different build too.
  const hash = createHash('sha256').update(await readFile(file));
  for (const helper of present) hash.update(await readFile(helper.path));
  const buildId = hash.digest('hex');
  await writeFile(join(outdir, 'manifest.json'), `${JSON.stringify({ version: pkg.version, buildId, entry: 'agent.cjs' }, null, 2)}\n`);
}
