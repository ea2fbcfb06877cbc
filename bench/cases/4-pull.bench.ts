// Case 4: pull + unpack of a multi-layer image (the test fixtures' `layered`, three layers) from a
// registry on 127.0.0.1: Onggi's images.pull (download, verify, unpack for overlayfs; removed
// again after each run so every pull starts cold) vs `skopeo copy` + `umoci unpack`.
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startRegistry, type TestRegistry } from '../../build/testing/registry.js';
import { buildTestImages, type TestImages } from '../../build/testing/test-images.js';
import { startReliabilityAgent, type ReliabilityAgent } from '../../build/testing/reliability-agent.js';
import { compare, loadNote, record, round } from '../harness.js';
import { version } from '../peers.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 20);
let agent: ReliabilityAgent;
let registry: TestRegistry;
let images: TestImages;
let work: string;

beforeAll(async () => {
  agent = await startReliabilityAgent();
  registry = await startRegistry();
  images = await buildTestImages(registry.host);
  work = await mkdtemp(join(tmpdir(), 'onggi-bench-pull-'));
});
afterAll(async () => {
  await agent?.cleanup();
  await images?.cleanup();
  await registry?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

const must = (argv: string[]) => {
  const run = spawnSync(argv[0] ?? 'false', argv.slice(1), { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`${argv.join(' ')}: ${run.stderr}`);
};

it('case 4: pull + unpack of a 3-layer image from 127.0.0.1', async () => {
  const { client } = agent;
  const ref = images.refs.layered;
  let n = 0;
  const result = await compare(
    {
      'onggi images.pull': async () => {
        const started = performance.now();
        const image = await client.call('images.pull', { ref, insecure: true });
        const elapsed = performance.now() - started;
        const removed = await client.call('images.remove', { image: image.id, force: true });
        expect(removed.deleted.length).toBeGreaterThan(0);
        return elapsed;
      },
      'skopeo copy + umoci unpack': async () => {
        n += 1;
        const layout = join(work, `oci-${n}`);
        const bundle = join(work, `bundle-${n}`);
        const started = performance.now();
        must(['skopeo', 'copy', '--quiet', '--src-tls-verify=false', `docker://${ref}`, `oci:${layout}:latest`]);
        must(['umoci', 'unpack', '--image', `${layout}:latest`, bundle]);
        const elapsed = performance.now() - started;
        await rm(layout, { recursive: true, force: true });
        await rm(bundle, { recursive: true, force: true });
        return elapsed;
      },
    },
    { warmup: 2, runs: RUNS },
  );
  record('4-pull', {
    title: 'Pull + unpack, 3-layer image, registry on 127.0.0.1',
    variants: result,
    extra: {
      'onggi / skopeo+umoci': round((result['onggi images.pull']?.median ?? NaN) / (result['skopeo copy + umoci unpack']?.median ?? NaN)),
      skopeo: version(['skopeo', '--version']),
      umoci: version(['umoci', '--version']),
    },
    notes: [loadNote()],
  });
});
