// The security check must fail on an insecure window and pass on ours. It runs as a child process,
// exactly as `npm run check:electron` does.
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const checker = join(repo, 'build', 'check-electron-security.mjs');
const fixtures: string[] = [];

function check(...args: string[]): { status: number | null; output: string } {
  const run = spawnSync(process.execPath, [checker, ...args], { cwd: repo, encoding: 'utf8', timeout: 90_000 });
  return { status: run.status, output: `${run.stdout}\n${run.stderr}` };
}

/** A small app laid out like ours (sources, built bundles, renderer page) whose window is made with `webPreferences`. */
async function fixtureApp(webPreferences: string, extraMain = ''): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'onggi-security-fixture-'));
  fixtures.push(root);
  const csp = "default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'";
  const files: Record<string, string> = {
    'electron/main/main.ts': [
      "import { app, BrowserWindow, session } from 'electron';",
      'app.whenReady().then(() => {',
      '  session.defaultSession.setPermissionRequestHandler((_c, _p, callback) => callback(false));',
      `  const window = new BrowserWindow({ webPreferences: ${webPreferences} });`,
      "  window.webContents.on('will-navigate', (event) => event.preventDefault());",
      "  window.webContents.setWindowOpenHandler(() => ({ action: 'deny' }));",
      extraMain,
      "  void window.loadFile('index.html');",
      '});',
    ].join('\n'),
    'electron/preload/preload.ts': "import { contextBridge } from 'electron';\ncontextBridge.exposeInMainWorld('x', {});\n",
    'dist/renderer/index.html': `<!doctype html><html><head><meta http-equiv="Content-Security-Policy" content="${csp}"><title>x</title></head><body></body></html>`,
  };
  for (const [name, text] of Object.entries(files)) {
    await mkdir(dirname(join(root, name)), { recursive: true });
    await writeFile(join(root, name), text);
  }
  for (const entry of ['main', 'preload']) {
    await esbuild.build({
      entryPoints: [join(root, `electron/${entry}/${entry}.ts`)],
      outfile: join(root, `dist/electron/${entry}.cjs`),
      bundle: true,
      platform: 'node',
      format: 'cjs',
      external: ['electron'],
      logLevel: 'silent',
    });
  }
  return root;
}

afterAll(async () => {
  await Promise.all(fixtures.map((root) => rm(root, { recursive: true, force: true })));
});

describe('check-electron-security', () => {
  const secure =
    "{ preload: 'p.cjs', contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true, disableBlinkFeatures: 'Auxclick' }";

  it('flags nothing but the preload reminder in a fixture with a secure window', async () => {
    const { status, output } = check('--root', await fixtureApp(secure), '--no-build');
    // The preload reminder is accepted only for our own window.ts; the fixture's is expected here.
    expect(output).toMatch(/FAIL MEDIUM\/\w+ PRELOAD_JS_CHECK/);
    expect(output.match(/FAIL /g), output).toHaveLength(1);
    expect(status).toBe(1);
  }, 60_000);

  it('fails on a window that turns node integration on', async () => {
    // electronegativity (rightly) ignores nodeIntegration when sandbox: true overrides it, so the fixture drops the sandbox.
    const webPreferences = secure.replace('nodeIntegration: false', 'nodeIntegration: true').replace('sandbox: true, ', '');
    const { status, output } = check('--root', await fixtureApp(webPreferences), '--no-build');
    expect(status, output).toBe(1);
    expect(output).toMatch(/FAIL \w+\/\w+ NODE_INTEGRATION_JS_CHECK at electron\/main\/main\.ts/);
  }, 60_000);

  it('fails on the classic mistakes', async () => {
    const root = await fixtureApp(
      '{ nodeIntegration: true, contextIsolation: false, webSecurity: false, allowRunningInsecureContent: true }',
      "  void window.loadURL('http://example.com/');",
    );
    const { status, output } = check('--root', root, '--no-build');
    expect(status, output).toBe(1);
    for (const id of [
      'NODE_INTEGRATION_JS_CHECK',
      'CONTEXT_ISOLATION_JS_CHECK',
      'SANDBOX_JS_CHECK',
      'WEB_SECURITY_JS_CHECK',
      'INSECURE_CONTENT_JS_CHECK',
      'HTTP_RESOURCES_JS_CHECK',
    ]) {
      expect(output).toMatch(new RegExp(`FAIL \\w+/\\w+ ${id}`));
    }
    expect(output).not.toMatch(/^ +accepted /m);
  }, 60_000);

  it('passes on our own build', () => {
    const { status, output } = check();
    expect(status, output).toBe(0);
    expect(output).toMatch(/ 0 blocking/);
    expect(output).not.toMatch(/stale allow-list entry/);
  }, 90_000);
});
