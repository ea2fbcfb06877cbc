// The agent part: a ustar that GNU tar reads back byte for byte, named by a hash that depends on
// the content only (same files, same id; another build, another id).
import { spawnSync } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENT_DIR } from '../../../build/testing/isolated-agent.js';
import { agentPart, initHelperName, ustar } from './bundles.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'onggi-bundles-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('deploy bundles', () => {
  it('writes a ustar GNU tar extracts exactly, with fixed owner, time and modes', async () => {
    const data = Buffer.from('#!/bin/sh\necho hi\n');
    const big = Buffer.alloc(70_000, 7);
    const archive = join(dir, 'test.tar');
    await writeFile(
      archive,
      ustar([
        { name: 'run.sh', mode: 0o755, data },
        { name: 'big.bin', mode: 0o644, data: big },
      ]),
    );
    const listing = spawnSync('tar', ['-tvf', archive], { encoding: 'utf8' });
    expect(listing.status).toBe(0);
    expect(listing.stdout).toMatch(/^-rwxr-xr-x root\/root\s+18 2000-01-01 00:00 run\.sh$/m);
    expect(listing.stdout).toMatch(/^-rw-r--r-- root\/root\s+70000 2000-01-01 00:00 big\.bin$/m);
    const out = join(dir, 'out');
    spawnSync('mkdir', [out]);
    expect(spawnSync('tar', ['-xf', archive, '-C', out]).status).toBe(0);
    expect(await readFile(join(out, 'big.bin'))).toEqual(big);
  });

  it('names the agent part by content: same build, same id; another manifest, another id', async () => {
    const first = await agentPart(AGENT_DIR, 'x64');
    const copy = join(dir, 'agent-copy');
    await cp(AGENT_DIR, copy, { recursive: true });
    const same = await agentPart(copy, 'x64');
    expect(same.id).toBe(first.id);
    const { data, sha256 } = await first.load();
    expect(data.length).toBeLessThan(1_000_000);
    const listing = spawnSync('tar', ['-tzf', '-'], { input: data, encoding: 'utf8' });
    expect(listing.stdout.split('\n').filter(Boolean).slice(0, 2)).toEqual(['agent.cjs', 'manifest.json']);
    expect(sha256).toMatch(/^[0-9a-f]{64}$/);
    const manifest = JSON.parse(await readFile(join(copy, 'manifest.json'), 'utf8')) as { buildId: string };
    manifest.buildId = 'a'.repeat(64);
    await writeFile(join(copy, 'manifest.json'), JSON.stringify(manifest));
    const other = await agentPart(copy, 'x64');
    expect(other.id).not.toBe(first.id);
    expect(other.buildId).toBe('a'.repeat(64));
    expect(initHelperName('arm64')).toBe('onggi-init-arm64');
  });
});
