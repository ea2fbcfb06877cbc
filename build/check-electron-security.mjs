// Runs Doyensec's electronegativity over the Electron shell and fails on any HIGH or MEDIUM
// finding that is not accepted below with a written reason.
//
//   node build/check-electron-security.mjs [--root DIR] [--no-build]
//
// What is scanned, and why it is staged first (electronegativity 1.10 is from 2021):
// - dist/electron/main.cjs and preload.cjs, the code that actually ships. Copied as .js, because
//   electronegativity silently skips .cjs files. In a bundle, `new BrowserWindow(...)` reads
//   `new import_electron.BrowserWindow(...)`, which its window checks do not recognise, so:
// - electron/main/**/*.ts and electron/preload/**/*.ts, each transpiled on its own by esbuild to
//   ES2019 modules (its TypeScript parser is 4.2 and would choke on newer syntax). Here the window
//   options, navigation handlers and IPC are visible as written.
// - dist/renderer/**/*.html when built, for the renderer's meta Content-Security-Policy.
// Unless --no-build is given, the Electron entries are rebuilt first (`node build/build.mjs host`).
//
// Nothing is downloaded: electronegativity fetches translations and Electron's release list with
// `got`; both are stubbed out, the release-list check is excluded (we pass the installed Electron
// version instead), and any socket it might still open fails.
import { spawnSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

/**
 * Findings reviewed and accepted. `modules` are source paths: a finding in a staged source file
 * or in a bundle line that esbuild attributes to one of these modules matches; nothing else does.
 */
const ACCEPTED = [
  {
    id: 'OPEN_EXTERNAL_JS_CHECK',
    modules: ['electron/main/hardening.ts'],
    reason:
      'shell.openExternal is reached only from will-navigate and setWindowOpenHandler, and only for URLs ' +
      'isExternalLinkAllowed passes: https, no credentials (electron/main/web-policy.test.ts). file:, http:, ' +
      'smb:, custom schemes are dropped.',
  },
  {
    id: 'PRELOAD_JS_CHECK',
    modules: ['electron/main/window.ts'],
    reason:
      'A reminder to review the preload. It is electron/preload/preload.ts: sandboxed, context-isolated, ' +
      'exposes only window.onggi {call, onEvent, pickFolder} over three fixed channels; ipcRenderer and the IPC ' +
      'event object never reach the page, and the main side checks every sender (electron/main/ipc-guard.ts). ' +
      'pickFolder only opens dialog.showOpenDialog for one folder; its request and answer are zod-checked (shared/folder-picker.ts).',
  },
];

const BLOCKING = new Set(['HIGH', 'MEDIUM']);
/**
 * Checks whose every finding blocks, whatever severity electronegativity gives it: it grades an
 * explicit `nodeIntegration: true` as INFORMATIONAL (its HIGH is for old Electron's default).
 */
const ALWAYS_BLOCKING = new Set(['NODE_INTEGRATION_JS_CHECK', 'NODE_INTEGRATION_HTML_CHECK', 'NODE_INTEGRATION_ATTACH_EVENT_JS_CHECK']);
/** The one check that needs the network (it downloads Electron's release list from GitHub). */
const EXCLUDED_CHECKS = ['AvailableSecurityFixesGlobalCheck'];

const { values: args } = parseArgs({
  options: { root: { type: 'string' }, 'no-build': { type: 'boolean', default: false } },
});
const root = args.root ?? repo;

if (!args['no-build']) {
  const build = spawnSync(process.execPath, [join(root, 'build', 'build.mjs'), 'host'], { cwd: root, stdio: 'inherit' });
  if (build.status !== 0) fail('the Electron entries did not build (node build/build.mjs host)');
}

const stage = await mkdtemp(join(tmpdir(), 'onggi-electronegativity-'));
try {
  const bundles = await stageInputs(stage);
  const result = await runElectronegativity(stage);
  process.exitCode = report(result, bundles);
} finally {
  await rm(stage, { recursive: true, force: true });
}

/** Copies what is scanned into `stage`; returns, per staged bundle, its origin markers. */
async function stageInputs(stage) {
  const bundles = new Map();
  for (const name of ['main', 'preload']) {
    const file = join(root, 'dist', 'electron', `${name}.cjs`);
    // not dropped: a missing bundle is this check's failure, said by fail()
    const code = await readFile(file, 'utf8').catch(() => fail(`${relative(root, file)} is missing: run node build/build.mjs host`));
    const staged = `bundle/${name}.js`;
    await mkdir(join(stage, 'bundle'), { recursive: true });
    await writeFile(join(stage, staged), code);
    bundles.set(staged, { shipped: `dist/electron/${name}.cjs`, lines: code.split('\n') });
  }

  const esbuild = require('esbuild');
  for (const dir of ['electron/main', 'electron/preload']) {
    for (const file of await listFiles(join(root, dir))) {
      if (!file.endsWith('.ts') || file.endsWith('.test.ts') || file.endsWith('.d.ts')) continue;
      const source = await readFile(file, 'utf8');
      const { code } = await esbuild.transform(source, { loader: 'ts', format: 'esm', target: 'es2019', sourcefile: file });
      const out = join(stage, 'src', relative(root, file).replace(/\.ts$/, '.js'));
      await mkdir(dirname(out), { recursive: true });
      await writeFile(out, code);
    }
  }

  const renderer = join(root, 'dist', 'renderer');
  const pages = (await listFiles(renderer)).filter((file) => file.endsWith('.html'));
  if (pages.length === 0) console.warn('note: dist/renderer has no built page; its meta CSP is not checked (run node build/build.mjs).');
  for (const file of pages) {
    const out = join(stage, 'renderer', relative(renderer, file));
    await mkdir(dirname(out), { recursive: true });
    await copyFile(file, out);
  }
  return bundles;
}

async function runElectronegativity(stage) {
  const enRequire = createRequire(require.resolve('@doyensec/electronegativity'));
  const offline = () => Promise.resolve({ statusCode: 404, body: '{}', headers: {} });
  const got = enRequire.resolve('got');
  require.cache[got] = { id: got, filename: got, loaded: true, exports: Object.assign(offline, { default: offline }) };
  const connect = net.Socket.prototype.connect;
  net.Socket.prototype.connect = function () {
    throw new Error('check-electron-security: electronegativity tried to open a network connection');
  };
  try {
    const run = enRequire('./runner.js');
    return await run({
      input: stage,
      isRelative: true,
      customScan: [],
      excludeFromScan: EXCLUDED_CHECKS,
      electronVersionOverride: require(join(repo, 'node_modules', 'electron', 'package.json')).version,
      parserPlugins: [],
    });
  } finally {
    net.Socket.prototype.connect = connect;
  }
}

/** Prints the summary; returns the exit code. */
function report(result, bundles) {
  const blocking = [];
  const accepted = [];
  const notes = [];
  for (const issue of result.issues) {
    const where = locate(issue, bundles);
    const finding = {
      id: issue.id,
      severity: issue.severity.name,
      confidence: issue.confidence.name,
      review: issue.manualReview,
      ...where,
    };
    if (!BLOCKING.has(finding.severity) && !ALWAYS_BLOCKING.has(finding.id)) notes.push({ ...finding, description: issue.description });
    else {
      const rule = ACCEPTED.find(
        (entry) => entry.id === finding.id && finding.module !== undefined && entry.modules.includes(finding.module),
      );
      if (rule) accepted.push({ ...finding, reason: rule.reason });
      else blocking.push({ ...finding, description: issue.description });
    }
  }
  const unparsed = result.errors.filter((error) => !error.tolerable);

  console.log(
    `electronegativity: ${result.atomicChecks} atomic + ${result.globalChecks} global checks; ` +
      `${blocking.length} blocking, ${accepted.length} accepted, ${notes.length} low/informational, ${unparsed.length} unparsed files`,
  );
  for (const f of blocking) console.log(`  FAIL ${f.severity}/${f.confidence} ${f.id} at ${f.location}\n       ${f.description}`);
  for (const f of unparsed) console.log(`  FAIL could not parse ${f.file}: ${f.message}`);
  for (const f of accepted) console.log(`  accepted ${f.severity} ${f.id} at ${f.location}: ${f.reason}`);
  for (const f of notes) console.log(`  note ${f.severity}/${f.confidence} ${f.id} at ${f.location}: ${f.description}`);
  // The allow-list describes this repository; in a fixture (--root) its entries are expected to be unused.
  const unused = root === repo ? ACCEPTED.filter((entry) => !accepted.some((f) => f.id === entry.id)) : [];
  for (const entry of unused)
    console.log(`  stale allow-list entry (nothing matched it any more): ${entry.id} in ${entry.modules.join(', ')}`);
  return blocking.length > 0 || unparsed.length > 0 ? 1 : 0;
}

/** Where a finding is, named by the file that ships or the source module it came from. */
function locate(issue, bundles) {
  const file = issue.file.split(sep).join('/');
  const line = issue.location?.line ?? 0;
  if (file.startsWith('src/')) {
    const module = file.slice('src/'.length).replace(/\.js$/, '.ts');
    return { module, location: `${module} (line ${line} once transpiled)` };
  }
  const bundle = bundles.get(file);
  if (bundle) {
    // esbuild opens every module's code in a bundle with a `// path/to/module.ts` comment line.
    let module;
    for (let i = Math.min(line, bundle.lines.length) - 1; i >= 0 && module === undefined; i--) {
      const marker = /^\/\/ ((?:[\w@.-]+\/)*[\w@.-]+\.[cm]?[jt]sx?)$/.exec(bundle.lines[i] ?? '');
      if (marker) module = marker[1];
    }
    return { module, location: `${bundle.shipped}:${line}${module ? ` (from ${module})` : ''}` };
  }
  if (file.startsWith('renderer/')) return { module: `dist/${file}`, location: `dist/${file}:${line}` };
  return { module: undefined, location: file === 'N/A' ? 'the whole app' : file };
}

async function listFiles(dir) {
  // a folder that does not exist holds no files to check
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
}

function fail(message) {
  console.error(`check-electron-security: ${message}`);
  process.exit(2);
}
