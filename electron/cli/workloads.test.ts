// Issue 13's real workloads, as a developer runs them: Debian's nginx and PostgreSQL (built by
// debootstrap, cached by recipe: workload-images.ts) through the `onggi` CLI and a real agent, in
// a network namespace of the test's own (netns-lab.ts) so the published port and the bridge live
// there. Neither image has a resolver of its own or a name to look up: they prove that real
// images run without DNS.
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLab, type CliResult, type NetnsLab } from '../../build/testing/netns-lab.js';
import { until } from '../../build/testing/until.js';
import { PGDATA, workloadImages, type WorkloadImages } from '../../build/testing/workload-images.js';

const isRoot = process.getuid?.() === 0;

function out(result: CliResult): string {
  if (result.code !== 0) throw new Error(`exit ${result.code}: ${result.err}`);
  return result.out;
}

describe.skipIf(!isRoot)('real workloads: Debian nginx and PostgreSQL through onggi', { timeout: 120_000 }, () => {
  let lab: NetnsLab;
  let images: WorkloadImages;
  let site: string;
  const onggi = (...args: string[]) => lab.onggi(...args);

  beforeAll(async () => {
    const started = Date.now();
    images = await workloadImages((line) => process.stderr.write(`workload-images: ${line}\n`));
    process.stderr.write(`workload-images: ${images.built ? `built in ${images.buildMs} ms` : 'from the cache'}\n`);
    lab = await createLab();
    for (const { file, name } of Object.values(images.archives)) {
      const mark = Date.now();
      out(onggi('image', 'import', '--kind', 'oci-archive', file, name));
      process.stderr.write(`workload-images: import ${name}: ${Date.now() - mark} ms\n`);
    }
    site = await mkdtemp(join(tmpdir(), 'onggi-site-'));
    // nginx's workers run as www-data: the folder must be readable by others, as a web root is.
    await chmod(site, 0o755);
    process.stderr.write(`workload-images: set-up ${Date.now() - started} ms\n`);
  }, 600_000);
  afterAll(async () => {
    await lab?.cleanup();
    if (site) await rm(site, { recursive: true, force: true });
  });

  it('PostgreSQL keeps a row in a named volume across containers', async () => {
    const image = images.archives.postgres.name;
    const psql = (container: string, sql: string) =>
      onggi('exec', container, 'psql', '-h', '/run/postgresql', '-U', 'postgres', '-d', 'postgres', '-v', 'ON_ERROR_STOP=1', '-tAc', sql);
    const ready = (container: string) =>
      until(
        () => onggi('exec', container, 'pg_isready', '-h', '/run/postgresql', '-U', 'postgres'),
        (r) => r.code === 0,
        `postgres in ${container} to accept connections`,
        { attempts: 300, intervalMs: 100 },
      );
    let mark = Date.now();
    out(onggi('run', '-d', '--name', 'pg1', '-v', `pgdata:${PGDATA}`, image));
    await ready('pg1');
    process.stderr.write(`workloads: first postgres (initdb) ready in ${Date.now() - mark} ms\n`);
    out(psql('pg1', 'CREATE TABLE notes (id int PRIMARY KEY, body text)'));
    out(psql('pg1', "INSERT INTO notes VALUES (1, 'kept by the volume')"));
    expect(out(psql('pg1', 'SELECT body FROM notes WHERE id = 1')).trim()).toBe('kept by the volume');
    out(onggi('rm', '-f', 'pg1'));
    expect(out(onggi('volume', 'ls'))).toContain('pgdata');

    mark = Date.now();
    out(onggi('run', '-d', '--name', 'pg2', '-v', `pgdata:${PGDATA}`, image));
    await ready('pg2');
    process.stderr.write(`workloads: second postgres ready in ${Date.now() - mark} ms\n`);
    expect(out(psql('pg2', 'SELECT id, body FROM notes')).trim()).toBe('1|kept by the volume');

    // pause stops its progress, unpause resumes it: a query sent while the server is frozen gets
    // no answer (its exec joins the frozen cgroup too) until unpause, then the right one.
    out(onggi('pause', 'pg2'));
    expect(out(onggi('ps', '--filter', 'name=pg2'))).toContain('Paused');
    const asked = lab.onggiAsync(
      'exec', 'pg2', 'psql', '-h', '/run/postgresql', '-U', 'postgres', '-d', 'postgres', '-tAc', 'SELECT count(*) FROM notes',
    ); // prettier-ignore
    // How long "no progress" is watched for: a bounded window, the one thing here a clock decides.
    const frozen = await Promise.race([asked.then(() => 'answered'), new Promise((resolve) => setTimeout(() => resolve('frozen'), 2000))]);
    expect(frozen).toBe('frozen');
    out(onggi('unpause', 'pg2'));
    const answer = await asked;
    expect(answer.code, answer.err).toBe(0);
    expect(answer.out.trim()).toBe('1');
    out(onggi('rm', '-f', 'pg2'));
  });

  it('nginx serves a bind-mounted folder on a published port, edits included', async () => {
    const page = join(site, 'index.html');
    await writeFile(page, 'first version\n');
    await chmod(page, 0o644);
    out(onggi('run', '-d', '--name', 'web', '-p', '18480:80', '-v', `${site}:/usr/share/nginx/html:ro`, images.archives.nginx.name));
    const get = () => lab.httpGet('machine', 'http://127.0.0.1:18480/');
    await until(get, (r) => r.code === 0, 'nginx to answer on 127.0.0.1:18480', { attempts: 300, intervalMs: 100 });
    expect(out(get())).toBe('first version\n');
    await writeFile(page, 'edited on the machine\n');
    // The very next request: no cache between the machine's file and the answer.
    expect(out(get())).toBe('edited on the machine\n');
    // nginx's access log goes to the container's output (the image links it to /dev/stdout).
    expect(out(onggi('logs', 'web'))).toContain('"GET / HTTP/1.1" 200');
    out(onggi('rm', '-f', 'web'));
  });
});
