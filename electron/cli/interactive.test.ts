// Issue 13's interactive shell, as a user types it: the built `onggi` CLI on a real terminal (a
// tmux pane of the test's own server), a real local agent (its own dirs and cgroup parent) and
// containers on the machine's kernel. `run -it` gives the container's own process a pty (not an
// exec); Ctrl-P Ctrl-Q detaches and leaves it running; `attach` gets back in; the exit code comes
// out of the CLI; `start -ai` starts it again attached from its first byte. And `run -i` without a
// terminal: stdin is a pipe whose EOF reaches the container.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostEvent } from '../../shared/host-api.js';
import { makeBusyboxLayer } from '../../build/testing/busybox-layer.js';
import { AGENT_DIR, CLI, isolatedAgent, type IsolatedAgent } from '../../build/testing/isolated-agent.js';
import { asHostApi, createHostCore } from '../core/host-core.js';

const IMAGE = 'onggi-test/busybox:tty';
let sandbox: IsolatedAgent;
let layer = '';
// A tmux server of our own (its socket in our temp dir, no user config): kill-server ends only it.
const tmuxArgs = (): string[] => ['-S', join(layer, 'tmux.sock'), '-f', '/dev/null'];

function onggi(...args: string[]) {
  const run = spawnSync(process.execPath, [CLI, ...args], { env: sandbox.env, encoding: 'utf8', timeout: 60_000 });
  return { code: run.status, out: run.stdout, err: run.stderr };
}

function tmux(...args: string[]): string {
  const run = spawnSync('tmux', [...tmuxArgs(), ...args], { env: sandbox.env, encoding: 'utf8', timeout: 10_000 });
  if (run.status !== 0) throw new Error(`tmux ${args.join(' ')}: ${run.stderr}`);
  return run.stdout;
}

/** Waits until the pane's screen matches `pattern` (what a user would watch for); fails with the screen after 20 s. */
async function screenShows(pattern: RegExp): Promise<string> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const screen = tmux('capture-pane', '-p', '-t', 'shell');
    if (pattern.test(screen)) return screen;
    if (Date.now() > deadline) throw new Error(`the terminal never showed ${String(pattern)}; it shows:\n${screen}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Types a line into the pane, as keys. */
function type(line: string): void {
  tmux('send-keys', '-t', 'shell', '-l', line);
  tmux('send-keys', '-t', 'shell', 'Enter');
}

function state(name: string): string | undefined {
  const list = JSON.parse(onggi('ps', '-a', '--json').out) as Array<{ name: string; state: string; exitCode: number | null }>;
  const found = list.find((entry) => entry.name === name);
  return found ? `${found.state}:${found.exitCode}` : undefined;
}

beforeAll(async () => {
  sandbox = await isolatedAgent();
  layer = await mkdtemp(join(tmpdir(), 'onggi-tty-layer-'));
  await makeBusyboxLayer(join(layer, 'root'));
  const tar = spawnSync('tar', ['-C', join(layer, 'root'), '-cf', join(layer, 'busybox.tar'), '.']);
  expect(tar.status).toBe(0);
  const imported = onggi('image', 'import', join(layer, 'busybox.tar'), '--name', IMAGE);
  expect(imported.err).toBe('');
  expect(imported.code).toBe(0);
}, 120_000);

afterAll(async () => {
  // Only our own server; it may never have started when an earlier step failed.
  if (layer) spawnSync('tmux', [...tmuxArgs(), 'kill-server'], { stdio: 'ignore' });
  await sandbox?.cleanup();
  if (layer) await rm(layer, { recursive: true, force: true });
});

describe('interactive containers, end to end', () => {
  it('run -i without a terminal: stdin is a pipe, its EOF ends `cat`, and the exit code passes through', async () => {
    const cli = spawn(
      process.execPath,
      [CLI, 'run', '-i', '--rm', IMAGE, 'sh', '-c', '[ -t 0 ] || echo no-tty; cat; echo after-eof; exit 4'],
      {
        env: sandbox.env,
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    cli.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    cli.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    cli.stdin.write('typed line\n');
    cli.stdin.end();
    const code = await new Promise<number | null>((resolve) => cli.once('exit', resolve));
    expect(err).toBe('');
    expect(out).toBe('no-tty\ntyped line\nafter-eof\n');
    expect(code).toBe(4);
  }, 60_000);

  it('run -it on a real terminal: a pty of its own, resize, detach with Ctrl-P Ctrl-Q, attach, exit 3, start -ai', async () => {
    tmux('new-session', '-d', '-s', 'shell', '-x', '120', '-y', '40', 'sh');
    // Each CLI run is followed by its exit code on the screen, under a word of its own.
    type(`${process.execPath} ${CLI} run -it --name shell ${IMAGE} sh; echo "run-exit=$?"`);
    await screenShows(/^\/ # ?$/m);

    type('tty; [ -t 0 ] && echo "tty-yes-$((40+2))"');
    await screenShows(/^\/dev\/pts\/\d+$[\s\S]*^tty-yes-42$/m);

    tmux('resize-window', '-t', 'shell', '-x', '91', '-y', '27');
    type('stty size');
    await screenShows(/^27 91$/m);

    tmux('send-keys', '-t', 'shell', 'C-p', 'C-q');
    await screenShows(/run-exit=0$/m);
    expect(state('shell')).toBe('running:null');
    // What went through the pty is in the log too, as for any container.
    expect(onggi('logs', 'shell').out).toMatch(/^tty-yes-42\r?$/m);

    tmux('send-keys', '-t', 'shell', 'clear', 'Enter');
    type(`${process.execPath} ${CLI} attach shell; echo "attach-exit=$?"`);
    type('echo "back-$((1+1))"');
    await screenShows(/^back-2$/m);
    type('exit 3');
    await screenShows(/attach-exit=3$/m);
    expect(state('shell')).toBe('exited:3');

    // Started again, attached before its first output: the shell's first prompt is on the screen.
    tmux('send-keys', '-t', 'shell', 'clear', 'Enter');
    type(`${process.execPath} ${CLI} start -ai shell; echo "start-exit=$?"`);
    await screenShows(/^\/ # ?$/m);
    type('exit 7');
    await screenShows(/start-exit=7$/m);
    expect(onggi('rm', 'shell').code).toBe(0);

    // -t without -i: the terminal stays cooked, so ^C is a signal, which the CLI passes on to the container.
    tmux('send-keys', '-t', 'shell', 'clear', 'Enter');
    type(
      `${process.execPath} ${CLI} run -t --rm ${IMAGE} sh -c 'trap "echo got-int; exit 9" INT; echo ready; while :; do sleep 0.1; done'; echo "t-exit=$?"`,
    );
    await screenShows(/^ready\r?$/m);
    tmux('send-keys', '-t', 'shell', 'C-c');
    await screenShows(/got-int\r?$[\s\S]*t-exit=9$/m);
  }, 120_000);

  it("the window's way: run with a terminal, then a terminal session attached to the container's own console", async () => {
    // A host core as the window has one, on this sandbox's agent (already started by the CLI above).
    const core = createHostCore({
      dataDir: join(layer, 'window-data'),
      agentDir: AGENT_DIR,
      nodeRuntime: { command: process.execPath },
      localAgent: { runDir: sandbox.runDir, stateDir: sandbox.stateDir },
      platform: 'linux',
    });
    try {
      const api = asHostApi(core);
      const screens = new Map<string, string>();
      const exits = new Map<string, number | null>();
      core.onEvent((event: HostEvent) => {
        if (event.type === 'terminal.output') screens.set(event.id, (screens.get(event.id) ?? '') + event.data);
        if (event.type === 'terminal.exit') exits.set(event.id, event.code);
      });
      const until = async (done: () => boolean, what: string): Promise<void> => {
        for (const deadline = Date.now() + 20_000; !done(); await new Promise((resolve) => setTimeout(resolve, 20)))
          if (Date.now() > deadline) throw new Error(`never saw ${what}; the terminals show:\n${[...screens.values()].join('\n----\n')}`);
      };
      const { id } = await api.call('containers.create', { machine: 'local', image: IMAGE, command: ['sh'], tty: true, stdinOpen: true });
      // What the run dialog does for "Interactive (TTY)": the first output waits for the Terminal tab.
      expect(await api.call('containers.start', { machine: 'local', container: id, waitForAttach: true })).toMatchObject({ tty: true });
      const session = await api.call('terminals.open', { machine: 'local', container: id, attach: true, cols: 100, rows: 30 });
      const screen = (which: { id: string }): string => screens.get(which.id) ?? '';
      // The shell's banner, printed once before we attached, was held for us (without the hold
      // only the prompt it redraws on the resize shows); then its prompt.
      await until(() => /built-in shell[\s\S]*^\/ # /m.test(screen(session)), 'the banner and the first prompt');
      // A second attacher (another tab, the CLI) sees what the first one's typing makes.
      // Its size, sent as it connects, is the pty's from then on: the shell redraws its prompt for it.
      const second = await api.call('terminals.open', { machine: 'local', container: id, attach: true, cols: 90, rows: 25 });
      await until(() => /^\/ # /m.test(screen(second)), 'the prompt redrawn for the second session');
      await api.call('terminals.input', { id: session.id, data: 'echo "win-$((2*3))"; stty size\r' });
      await until(() => /^win-6\r?$/m.test(screen(session)) && /^25 90\r?$/m.test(screen(session)), 'the output and the size');
      await until(() => /^win-6\r?$/m.test(screen(second)), 'the output in the second session');
      // One leaves; the container and the other go on.
      await api.call('terminals.close', { id: second.id });
      await api.call('terminals.input', { id: session.id, data: 'exit 5\r' });
      await until(() => exits.has(session.id), 'the end of the session');
      expect(exits.get(session.id)).toBe(5);
      expect(onggi('rm', id).code).toBe(0);
    } finally {
      await core.close();
    }
  }, 60_000);

  it('refuses to attach to a container that is not running, and a malformed --detach-keys', () => {
    expect(onggi('run', '--name', 'done', IMAGE, 'true').code).toBe(0);
    const attach = onggi('attach', 'done');
    expect(attach.err).toContain('You cannot attach to a stopped container, start it first');
    expect(attach.code).not.toBe(0);
    const keys = onggi('attach', '--detach-keys', 'ctrl-p,meta-q', 'done');
    expect(keys.err).toContain('"ctrl-p,meta-q" is not a key sequence');
    expect(onggi('rm', 'done').code).toBe(0);
  }, 60_000);
});
