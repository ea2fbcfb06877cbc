// The `onggi` command as users run it: the built bin, a real local agent, the real kernel.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CLI, isolatedAgent, type IsolatedAgent } from '../../build/testing/isolated-agent.js';

let sandbox: IsolatedAgent;
beforeEach(async () => {
  sandbox = await isolatedAgent();
});
afterEach(async () => {
  await sandbox.cleanup();
});

const onggi = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { env: sandbox.env, encoding: 'utf8', timeout: 20_000 });

describe('onggi info', () => {
  it('--json prints the real kernel release, cgroup version and architecture', () => {
    const run = onggi('info', '--json');
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const info = JSON.parse(run.stdout) as { kernelRelease: string; machine: string; arch: string; cgroup: { version: number } };
    expect(info.kernelRelease).toBe(spawnSync('uname', ['-r'], { encoding: 'utf8' }).stdout.trim());
    expect(info.machine).toBe(spawnSync('uname', ['-m'], { encoding: 'utf8' }).stdout.trim());
    const dpkgArch = spawnSync('dpkg', ['--print-architecture'], { encoding: 'utf8' }).stdout.trim();
    if (dpkgArch) expect(info.arch).toBe(dpkgArch);
    const fsType = spawnSync('stat', ['-f', '-c', '%T', '/sys/fs/cgroup'], { encoding: 'utf8' }).stdout.trim();
    expect(info.cgroup.version).toBe(fsType === 'cgroup2fs' ? 2 : 1);
  });

  it('prints a readable table by default and leaves the agent running for the next command', async () => {
    const run = onggi('info');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(
      new RegExp(`^Kernel: +${readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim().replace(/\./g, '\\.')} `, 'm'),
    );
    expect(run.stdout).toMatch(/^Cgroup version: +[12] \((unified|hybrid|legacy)/m);
    const pid = await sandbox.daemonPid();
    expect(pid).toBeDefined();
    expect(() => process.kill(pid ?? 0, 0)).not.toThrow();
  });

  it('fails clearly for an unknown or invalid machine and for bad usage', () => {
    const unknown = onggi('info', '--machine', 'faraway');
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toBe('onggi: no machine named "faraway" (known: local) (params.machine)\n');
    const invalid = onggi('info', '--machine', '-x');
    expect(invalid.status).not.toBe(0);
    const usage = onggi('nonsense');
    expect(usage.status).toBe(2);
    expect(usage.stderr).toContain("unknown command 'nonsense'");
    const port = onggi('serve', '--port', '70000');
    expect(port.status).toBe(2);
  });
});

describe('onggi serve', () => {
  it('prints a loopback URL with a token, serves the page there, refuses it without the token, and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, [CLI, 'serve', '--port', '0'], { env: sandbox.env, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const match = /^Onggi is serving on (http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]+)$/m.exec(out);
          if (match?.[1]) resolve(match[1]);
        });
        child.once('exit', (code) => reject(new Error(`serve exited ${code}`)));
      });
      const page = await fetch(url);
      expect(page.status).toBe(200);
      expect(await page.text()).toMatch(/<html/i);
      expect((await fetch(url.replace(/\?token=.*/, ''))).status).toBe(401);
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
