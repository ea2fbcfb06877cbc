// Real workloads for the end-to-end tests: nginx and PostgreSQL as Debian ships them. One
// debootstrap (bookworm minbase + nginx-light + postgresql, ≈ 40 s here) fills one layer that both
// images share; each image differs only in its config (command, user, volume). Two debootstraps or
// a base plus a layer per package cost more (each pass resolves and unpacks the base again) and
// the images would still be Debian's packages byte for byte.
//
// Built into `.cache/workloads/<recipe hash>/` (ignored by git) as two `oci-archive` files that
// `onggi image import` reads, and reused until the recipe below changes; older builds are removed
// (as vm-image.ts does for the VM guest). A second run costs nothing; CI pays once per machine.
import { execFile } from 'node:child_process';
import { chmod, chown, mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from './isolated-agent.js';
import { cachedByRecipe } from './recipe-cache.js';

const execFileP = promisify(execFile);

export const WORKLOAD_CACHE_DIR = join(REPO_ROOT, '.cache/workloads');

/** The data folder the PostgreSQL image declares as a VOLUME and initialises on first start. */
export const PGDATA = '/var/lib/postgresql/data';
const PG_BIN = '/usr/lib/postgresql/15/bin';

/**
 * First start on an empty data folder: initdb (trust auth: the test reaches it only through its
 * socket, inside the container; --no-sync: its hundreds of fsyncs cost seconds on a busy test
 * machine, and what the test checks, a row outliving its container, rests on the server's own
 * WAL). Then postgres in the foreground on a Unix socket only.
 */
const PG_ENTRYPOINT = `#!/bin/sh
set -e
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  ${PG_BIN}/initdb -D "$PGDATA" --auth=trust --username=postgres --encoding=UTF8 --locale=C.UTF-8 --no-sync >/dev/null
fi
exec ${PG_BIN}/postgres -D "$PGDATA" -c listen_addresses= -c unix_socket_directories=/run/postgresql -c jit=off
`;

/** nginx on port 80 (IPv4 only: a container's netns may have IPv6 off), serving /usr/share/nginx/html. */
const NGINX_SITE = `server {
  listen 80 default_server;
  root /usr/share/nginx/html;
  index index.html;
  location / { try_files $uri $uri/ =404; }
}
`;

/** Everything that decides what the images hold; its hash names the cache entry. */
export const WORKLOAD_RECIPE = {
  revision: 1,
  suite: 'bookworm',
  mirror: 'http://deb.debian.org/debian',
  variant: 'minbase',
  include: ['nginx-light', 'postgresql'],
  /**
   * What the containers never use: apt's caches and lists, docs, translations, the cluster the
   * package made (the image makes its own in its volume) and LLVM (postgres's JIT only, ~130 MB;
   * without llvmjit.so postgres runs with JIT unavailable, and the entrypoint turns it off).
   */
  prune: [
    'var/cache/apt',
    'var/lib/apt/lists',
    'usr/share/doc',
    'usr/share/man',
    'usr/share/info',
    'usr/share/locale',
    'var/lib/postgresql/15',
    'etc/postgresql/15',
    'usr/lib/postgresql/15/lib/llvmjit.so',
    'usr/lib/postgresql/15/lib/llvmjit_types.bc',
    'usr/lib/postgresql/15/lib/bitcode',
    'usr/lib/x86_64-linux-gnu/libLLVM-14.so.1',
    'usr/lib/x86_64-linux-gnu/libz3.so.4',
  ],
  files: {
    'usr/local/bin/onggi-postgres': PG_ENTRYPOINT,
    'etc/nginx/sites-available/default': NGINX_SITE,
    'usr/share/nginx/html/index.html': 'nginx from debootstrap\n',
  } as Record<string, string>,
  images: {
    nginx: {
      name: 'onggi-test/nginx:bookworm',
      config: ['--config.cmd', 'nginx', '--config.cmd', '-g', '--config.cmd', 'daemon off;', '--config.exposedports', '80/tcp'],
    },
    postgres: {
      name: 'onggi-test/postgres:bookworm',
      config: [
        '--config.entrypoint',
        '/usr/local/bin/onggi-postgres',
        '--config.user',
        'postgres',
        '--config.env',
        `PGDATA=${PGDATA}`,
        '--config.volume',
        PGDATA,
        '--config.stopsignal',
        'SIGINT',
      ],
    },
  },
} as const;

export type WorkloadName = keyof typeof WORKLOAD_RECIPE.images;

export interface WorkloadImages {
  /** `oci-archive` files for `onggi image import`, and the names they import as. */
  archives: Record<WorkloadName, { file: string; name: string }>;
  /** Whether this call built them (false: taken from the cache). */
  built: boolean;
  buildMs: number;
}

/** The cached images for the current recipe, built first when absent (≈ 1 minute on a quiet machine). */
export async function workloadImages(log: (line: string) => void = () => undefined): Promise<WorkloadImages> {
  const { dir, built, buildMs } = await cachedByRecipe(WORKLOAD_CACHE_DIR, WORKLOAD_RECIPE, (work) => build(work, log));
  return {
    archives: {
      nginx: { file: join(dir, 'nginx.tar'), name: WORKLOAD_RECIPE.images.nginx.name },
      postgres: { file: join(dir, 'postgres.tar'), name: WORKLOAD_RECIPE.images.postgres.name },
    },
    built,
    buildMs,
  };
}

async function build(work: string, log: (line: string) => void): Promise<void> {
  const layout = join(work, 'oci');
  const bundle = join(work, 'bundle');
  await run(['umoci', 'init', '--layout', layout]);
  await run(['umoci', 'new', '--image', `${layout}:base`]);
  await run(['umoci', 'unpack', '--image', `${layout}:base`, bundle]);
  const rootfs = join(bundle, 'rootfs');
  let mark = Date.now();
  log(`debootstrap ${WORKLOAD_RECIPE.suite} (${WORKLOAD_RECIPE.include.join(', ')}) into ${rootfs}`);
  await run([
    'debootstrap',
    `--variant=${WORKLOAD_RECIPE.variant}`,
    `--include=${WORKLOAD_RECIPE.include.join(',')}`,
    WORKLOAD_RECIPE.suite,
    rootfs,
    WORKLOAD_RECIPE.mirror,
  ]);
  log(`debootstrap: ${Date.now() - mark} ms`);
  for (const path of WORKLOAD_RECIPE.prune) await rm(join(rootfs, path), { recursive: true, force: true });
  await mkdir(join(rootfs, 'var/lib/apt/lists/partial'), { recursive: true });
  await mkdir(join(rootfs, 'var/cache/apt/archives/partial'), { recursive: true });
  for (const [path, content] of Object.entries(WORKLOAD_RECIPE.files)) {
    await mkdir(join(rootfs, path, '..'), { recursive: true });
    await writeFile(join(rootfs, path), content);
  }
  await chmod(join(rootfs, 'usr/local/bin/onggi-postgres'), 0o755);
  // The data folder belongs to postgres with initdb's mode: a named volume mounted there is first
  // filled from it (owner and mode included), so initdb finds a folder it may use.
  const { uid, gid } = await postgresIds(rootfs);
  await mkdir(join(rootfs, PGDATA), { recursive: true });
  await chown(join(rootfs, PGDATA), uid, gid);
  await chmod(join(rootfs, PGDATA), 0o700);
  await chown(join(rootfs, 'run/postgresql'), uid, gid);
  // Logs to the container's output, as Docker's nginx image does.
  await rm(join(rootfs, 'var/log/nginx'), { recursive: true, force: true });
  await mkdir(join(rootfs, 'var/log/nginx'));
  await symlink('/dev/stdout', join(rootfs, 'var/log/nginx/access.log'));
  await symlink('/dev/stderr', join(rootfs, 'var/log/nginx/error.log'));
  mark = Date.now();
  await run(['umoci', 'repack', '--image', `${layout}:base`, bundle]);
  log(`umoci repack: ${Date.now() - mark} ms`);
  await rm(bundle, { recursive: true, force: true });
  const platform = ['--architecture', machineArch(), '--os', 'linux'];
  const path = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
  for (const [tag, image] of Object.entries(WORKLOAD_RECIPE.images)) {
    await run([
      'umoci',
      'config',
      '--image',
      `${layout}:base`,
      '--tag',
      tag,
      '--no-history',
      ...platform,
      '--config.env',
      path,
      ...image.config,
    ]);
    await run(['skopeo', 'copy', '--quiet', `oci:${layout}:${tag}`, `oci-archive:${join(work, `${tag}.tar`)}:${image.name}`]);
  }
  await rm(layout, { recursive: true, force: true });
}

async function postgresIds(rootfs: string): Promise<{ uid: number; gid: number }> {
  const line = (await readFile(join(rootfs, 'etc/passwd'), 'utf8')).split('\n').find((l) => l.startsWith('postgres:'));
  const [, , uid, gid] = line?.split(':') ?? [];
  if (uid === undefined || gid === undefined) throw new Error('the postgresql package made no postgres user');
  return { uid: Number(uid), gid: Number(gid) };
}

function machineArch(): string {
  return ({ x64: 'amd64', arm64: 'arm64' } as Record<string, string>)[process.arch] ?? process.arch;
}

async function run(argv: string[]): Promise<void> {
  const [command, ...args] = argv;
  if (command === undefined) throw new Error('empty argv');
  try {
    await execFileP(command, args, { maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(`${argv.join(' ')} failed: ${stderr.trim().slice(-4000) || String(error)}`, { cause: error });
  }
}
