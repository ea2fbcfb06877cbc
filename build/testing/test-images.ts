// Small, real images for tests, built from this machine's binaries with umoci (~0.1 s each) and
// pushed to a test registry with skopeo. Reused by the image, runtime, network and bench suites.
//
//   busybox:latest   one layer: static /bin/busybox, applet symlinks (relative and one absolute),
//                    a hardlink, /etc/passwd with root and nobody, /tmp 1777, a nobody-owned dir,
//                    a setuid file
//   layered:latest   busybox's layer (shared) + a layer adding /data and /opaque + a layer that
//                    deletes /data/old.txt (whiteout) and replaces /opaque's contents (opaque dir)
//   multi:latest     an OCI index: linux/arm64/v8 (LABELLED: it carries the amd64 busybox — it only
//                    tests platform resolution), an attestation manifest (unknown/unknown) and
//                    linux/amd64 (busybox), in that order
//   glibc:latest     "debian-style": bash, dash as sh, coreutils cat/ls/id/sleep/env/uname and the
//                    libraries ldd lists, at their paths, with bin/lib/lib64/sbin -> usr/* as here
//   musl:latest      "alpine-style": a tiny C program built with musl-gcc, the musl loader and
//                    busybox as /bin/sh — only when musl-tools is installed (else skipped, reason given)
//
// Archives for import tests: `docker save` style (skopeo docker-archive:), Docker 25+'s OCI-style
// `docker save` (manifest.json + index.json + blobs/), an OCI image-layout archive (oci-archive:)
// and rootfs tarballs (gzip and plain).
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import {
  chmod,
  chown,
  copyFile,
  link,
  lstat,
  mkdir,
  mkdtemp,
  readFile,
  readlink,
  realpath,
  rm,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { arch, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import * as tar from 'tar';
import { afterAll, beforeAll } from 'vitest';
import { startRegistry, type TestRegistry } from './registry.js';

const execFileP = promisify(execFile);

export interface TestImages {
  registry: string;
  /** The OCI layout every image was built in (tags: busybox, layered, busybox-arm64, glibc, musl). */
  layoutDir: string;
  refs: {
    busybox: string;
    layered: string;
    multi: string;
    glibc: string;
    /** Undefined when musl-tools is missing; see muslSkipReason. */
    musl: string | undefined;
  };
  muslSkipReason: string | undefined;
  digests: {
    /** Manifest digests as pushed. */
    busybox: string;
    layered: string;
    multiIndex: string;
    multiAmd64: string;
    multiArm64: string;
    multiAttestation: string;
    /** The busybox image's only layer (compressed blob digest) — shared with `layered`. */
    busyboxLayer: string;
    /** The layered image's three layer blob digests, bottom first. */
    layeredLayers: string[];
  };
  /** What the layered image's top layer does, for overlay checks. */
  layered: { deletedFile: string; keptFile: string; opaqueDir: string; opaqueKept: string[]; opaqueHidden: string[] };
  archives: {
    /** skopeo `docker-archive:` of `layered`, tagged onggi-test/archived:v1. */
    dockerArchive: string;
    dockerArchiveName: string;
    /** Docker 25+ style `docker save` (manifest.json + OCI layout) of busybox, tagged onggi-test/newsave:v1. */
    dockerOciArchive: string;
    dockerOciArchiveName: string;
    /** skopeo `oci-archive:` of busybox with ref.name onggi-test/ocibox:v1. */
    ociArchive: string;
    ociArchiveName: string;
    /** The busybox rootfs as ./-prefixed tar.gz and plain tar. */
    rootfsGz: string;
    rootfsTar: string;
  };
  cleanup(): Promise<void>;
}

export const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const BUSYBOX_APPLETS = [
  'sh', 'ash', 'echo', 'sleep', 'mkdir', 'rm', 'id', 'ps', 'top', 'ping', 'wget', 'nc', 'ip', 'hostname', 'env', 'true', 'false',
  'test', 'sed', 'grep', 'awk', 'head', 'tail', 'mount', 'umount', 'whoami', 'chmod', 'chown', 'ln', 'cp', 'mv', 'touch', 'uname',
  'date', 'df', 'du', 'free', 'kill', 'find', 'xargs', 'wc', 'sort', 'tee', 'ifconfig', 'route', 'nslookup', 'stat', 'readlink',
  'seq', 'dd', 'md5sum', 'sha256sum', 'printf', 'basename', 'dirname', 'pwd', 'cut', 'tr', 'yes', 'nproc', 'pidof', 'pgrep', 'pkill', 'traceroute',
]; // prettier-ignore

async function run(argv: string[], cwd?: string): Promise<string> {
  const [command, ...args] = argv;
  if (command === undefined) throw new Error('empty argv');
  try {
    const { stdout } = await execFileP(command, args, { cwd, maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(`${argv.join(' ')} failed: ${stderr.trim() || String(error)}`, { cause: error });
  }
}

function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { architecture: string; os: string; variant?: string };
  annotations?: Record<string, string>;
}

async function writeBlob(layout: string, data: Buffer | string): Promise<{ digest: string; size: number }> {
  const buffer = typeof data === 'string' ? Buffer.from(data) : data;
  const hex = sha256Hex(buffer);
  await writeFile(join(layout, 'blobs/sha256', hex), buffer);
  return { digest: `sha256:${hex}`, size: buffer.length };
}

async function readIndex(layout: string): Promise<{ schemaVersion: number; manifests: Descriptor[] }> {
  return JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as { schemaVersion: number; manifests: Descriptor[] };
}

async function manifestFor(layout: string, tag: string): Promise<Descriptor> {
  const found = (await readIndex(layout)).manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag);
  if (!found) throw new Error(`tag ${tag} not in ${layout}`);
  return found;
}

async function readBlobJson<T>(layout: string, digest: string): Promise<T> {
  return JSON.parse(await readFile(join(layout, 'blobs/sha256', digest.replace('sha256:', '')), 'utf8')) as T;
}

function machineArch(): string {
  return ({ x64: 'amd64', arm64: 'arm64' } as Record<string, string>)[arch()] ?? arch();
}

/** Copies a host file into rootfs at the same path, recreating a chain of symlinks on the way. */
async function copyHostPath(hostPath: string, rootfs: string): Promise<void> {
  // Directory symlinks (usrmerge /lib -> usr/lib) are recreated once at the top; resolve the parent.
  const parent = await realpath(dirname(hostPath));
  const name = hostPath.slice(hostPath.lastIndexOf('/') + 1);
  const source = join(parent, name);
  const target = join(rootfs, source);
  if (existsSync(target)) return;
  await mkdir(dirname(target), { recursive: true });
  const st = await lstat(source);
  if (st.isSymbolicLink()) {
    const to = await readlink(source);
    await symlink(to, target);
    await copyHostPath(to.startsWith('/') ? to : join(parent, to), rootfs);
  } else {
    await copyFile(source, target);
    await chmod(target, st.mode & 0o7777);
  }
}

async function lddPaths(binary: string): Promise<string[]> {
  const out = await run(['ldd', binary]).catch(() => '');
  const paths = new Set<string>();
  for (const line of out.split('\n')) {
    const m = /=>\s+(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
    if (m?.[1]) paths.add(m[1]);
  }
  return [...paths];
}

async function writeEtc(rootfs: string): Promise<void> {
  await mkdir(join(rootfs, 'etc'), { recursive: true });
  await writeFile(join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n');
  await writeFile(join(rootfs, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n');
  await writeFile(join(rootfs, 'etc/hostname'), 'onggi-test\n');
  for (const dir of ['tmp', 'root', 'dev', 'proc', 'sys', 'usr/bin', 'usr/sbin', 'usr/local/bin'])
    await mkdir(join(rootfs, dir), { recursive: true });
  await chmod(join(rootfs, 'tmp'), 0o1777);
  await chmod(join(rootfs, 'root'), 0o700);
}

async function buildBusyboxRootfs(rootfs: string): Promise<void> {
  await writeEtc(rootfs);
  await mkdir(join(rootfs, 'bin'), { recursive: true });
  await copyFile('/bin/busybox', join(rootfs, 'bin/busybox'));
  await chmod(join(rootfs, 'bin/busybox'), 0o755);
  const available = new Set((await run(['/bin/busybox', '--list'])).split('\n'));
  for (const applet of BUSYBOX_APPLETS) if (available.has(applet)) await symlink('busybox', join(rootfs, 'bin', applet));
  await symlink('/bin/busybox', join(rootfs, 'bin/ls')); // absolute: must survive as written
  await link(join(rootfs, 'bin/busybox'), join(rootfs, 'bin/cat')); // a hardlink within the layer
  await mkdir(join(rootfs, 'home/nobody'), { recursive: true });
  await chown(join(rootfs, 'home/nobody'), 65534, 65534);
  await chmod(join(rootfs, 'home/nobody'), 0o750);
  await writeFile(join(rootfs, 'home/nobody/note'), 'owned by nobody\n');
  await chown(join(rootfs, 'home/nobody/note'), 65534, 65534);
  await writeFile(join(rootfs, 'usr/local/bin/suid-marker'), '#!/bin/sh\necho suid\n');
  await chmod(join(rootfs, 'usr/local/bin/suid-marker'), 0o4755);
}

async function buildGlibcRootfs(rootfs: string): Promise<void> {
  await writeEtc(rootfs);
  // Mirror this host's top-level symlinks (usrmerge: bin -> usr/bin, ...), or real dirs.
  for (const top of ['bin', 'lib', 'lib64', 'sbin']) {
    const st = await lstat(`/${top}`).catch(() => undefined);
    if (st?.isSymbolicLink()) await symlink(await readlink(`/${top}`), join(rootfs, top));
    else if (st) await mkdir(join(rootfs, top), { recursive: true });
  }
  const binaries = ['bash', 'dash', 'cat', 'ls', 'id', 'sleep', 'env', 'uname'].map((b) => `/bin/${b}`);
  for (const binary of binaries) {
    await copyHostPath(binary, rootfs);
    for (const lib of await lddPaths(binary)) await copyHostPath(lib, rootfs);
  }
  const binDir = join(rootfs, await realpath('/bin'));
  if (!existsSync(join(binDir, 'sh'))) await symlink('dash', join(binDir, 'sh'));
}

function muslTools(): { gcc: string; loader: string } | undefined {
  const muslArch = ({ x64: 'x86_64', arm64: 'aarch64' } as Record<string, string>)[arch()] ?? arch();
  const loader = `/lib/ld-musl-${muslArch}.so.1`;
  const gcc = ['/usr/bin/musl-gcc', '/usr/local/bin/musl-gcc'].find((p) => existsSync(p));
  return gcc && existsSync(loader) ? { gcc, loader } : undefined;
}

function muslMissing(): string | undefined {
  return muslTools() ? undefined : "musl-tools is not installed (no musl-gcc or musl loader); add it to build/test.sh's APT_PACKAGES";
}

async function buildMuslRootfs(rootfs: string, work: string): Promise<void> {
  const tools = muslTools();
  if (!tools) throw new Error('musl-tools missing');
  const source = join(work, 'hello.c');
  await writeFile(
    source,
    '#include <stdio.h>\n#include <unistd.h>\nint main(void){printf("hello from musl, pid %d\\n",(int)getpid());return 0;}\n',
  );
  await writeEtc(rootfs);
  await mkdir(join(rootfs, 'bin'), { recursive: true });
  await mkdir(join(rootfs, 'lib'), { recursive: true });
  await run([tools.gcc, '-O2', '-o', join(rootfs, 'hello'), source]);
  await copyFile(await realpath(tools.loader), join(rootfs, tools.loader)); // the loader is musl's libc itself
  await chmod(join(rootfs, tools.loader), 0o755);
  await copyFile('/bin/busybox', join(rootfs, 'bin/busybox'));
  await chmod(join(rootfs, 'bin/busybox'), 0o755);
  await symlink('busybox', join(rootfs, 'bin/sh'));
}

/** umoci: new image `tag` (or a child of `from`), rootfs filled by `fill`, configured, repacked. */
async function umociImage(
  layout: string,
  work: string,
  tag: string,
  fill: (rootfs: string) => Promise<void>,
  config: string[],
  from?: string,
): Promise<void> {
  const bundle = join(work, `bundle-${tag}`);
  if (from) {
    await run(['umoci', 'unpack', '--image', `${layout}:${from}`, bundle]);
  } else {
    await run(['umoci', 'new', '--image', `${layout}:${tag}`]);
    await run(['umoci', 'unpack', '--image', `${layout}:${tag}`, bundle]);
  }
  await fill(join(bundle, 'rootfs'));
  await run(['umoci', 'repack', '--image', `${layout}:${tag}`, bundle]);
  await run(['umoci', 'config', '--image', `${layout}:${tag}`, '--no-history', ...config]);
  await rm(bundle, { recursive: true, force: true });
}

async function skopeoPush(layout: string, tag: string, dest: string, all = false): Promise<void> {
  await run([
    'skopeo',
    'copy',
    '--quiet',
    ...(all ? ['--all'] : []),
    '--dest-tls-verify=false',
    `oci:${layout}:${tag}`,
    `docker://${dest}`,
  ]);
}

async function buildLayeredTop(work: string): Promise<string> {
  // A layer umoci would not write (it lists deletions one by one): a whiteout and an opaque dir.
  const stage = join(work, 'layered-top');
  await mkdir(join(stage, 'data'), { recursive: true });
  await mkdir(join(stage, 'opaque'), { recursive: true });
  await writeFile(join(stage, 'data/.wh.old.txt'), '');
  await writeFile(join(stage, 'opaque/.wh..wh..opq'), '');
  await writeFile(join(stage, 'opaque/c'), 'c from the top layer\n');
  const file = join(work, 'layered-top.tar');
  await tar.c({ cwd: stage, file, noDirRecurse: true, portable: true }, [
    'data',
    'data/.wh.old.txt',
    'opaque',
    'opaque/.wh..wh..opq',
    'opaque/c',
  ]);
  return file;
}

async function buildMultiIndex(
  layout: string,
  busyboxTag: string,
): Promise<{ index: Descriptor; amd64: Descriptor; arm64: Descriptor; attestation: Descriptor }> {
  await run([
    'umoci', 'config', '--image', `${layout}:${busyboxTag}`, '--tag', 'busybox-arm64', '--no-history', '--architecture', 'arm64',
    '--config.label', 'org.onggi.test.note=arm64 entry carrying the amd64 busybox: it only tests platform resolution',
  ]); // prettier-ignore
  const amd64Manifest = await manifestFor(layout, busyboxTag);
  const arm64Manifest = await manifestFor(layout, 'busybox-arm64');
  const statement = await writeBlob(
    layout,
    JSON.stringify({ _type: 'https://in-toto.io/Statement/v0.1', predicateType: 'https://spdx.dev/Document' }),
  );
  const attConfig = await writeBlob(
    layout,
    JSON.stringify({ architecture: 'unknown', os: 'unknown', config: {}, rootfs: { type: 'layers', diff_ids: [statement.digest] } }),
  );
  const attManifest = await writeBlob(
    layout,
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...attConfig },
      layers: [
        {
          mediaType: 'application/vnd.in-toto+json',
          ...statement,
          annotations: { 'in-toto.io/predicate-type': 'https://spdx.dev/Document' },
        },
      ],
    }),
  );
  const amd64: Descriptor = {
    mediaType: amd64Manifest.mediaType,
    digest: amd64Manifest.digest,
    size: amd64Manifest.size,
    platform: { architecture: machineArch() === 'arm64' ? 'amd64' : machineArch(), os: 'linux' },
  };
  const arm64: Descriptor = {
    mediaType: arm64Manifest.mediaType,
    digest: arm64Manifest.digest,
    size: arm64Manifest.size,
    platform: { architecture: 'arm64', os: 'linux', variant: 'v8' },
  };
  const attestation: Descriptor = {
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    ...attManifest,
    platform: { architecture: 'unknown', os: 'unknown' },
    annotations: { 'vnd.docker.reference.digest': amd64.digest, 'vnd.docker.reference.type': 'attestation-manifest' },
  };
  const indexBlob = await writeBlob(
    layout,
    JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [arm64, attestation, amd64] }),
  );
  const index: Descriptor = {
    mediaType: 'application/vnd.oci.image.index.v1+json',
    ...indexBlob,
    annotations: { 'org.opencontainers.image.ref.name': 'multi' },
  };
  const top = await readIndex(layout);
  top.manifests.push(index);
  await writeFile(join(layout, 'index.json'), JSON.stringify(top));
  return { index, amd64, arm64, attestation };
}

/** Docker 25+'s `docker save`: an OCI layout plus the legacy manifest.json, in one tar. */
async function buildDockerOciArchive(layout: string, tag: string, name: string, work: string, file: string): Promise<void> {
  const manifestDesc = await manifestFor(layout, tag);
  const manifest = await readBlobJson<{ config: Descriptor; layers: Descriptor[] }>(layout, manifestDesc.digest);
  const stage = join(work, 'docker-oci-save');
  await mkdir(join(stage, 'blobs/sha256'), { recursive: true });
  const blobs = [manifestDesc, manifest.config, ...manifest.layers];
  for (const blob of blobs) {
    const hex = blob.digest.replace('sha256:', '');
    await copyFile(join(layout, 'blobs/sha256', hex), join(stage, 'blobs/sha256', hex));
  }
  await writeFile(join(stage, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  const annotations = {
    'io.containerd.image.name': `docker.io/${name}`,
    'org.opencontainers.image.ref.name': name.split(':')[1] ?? 'latest',
  };
  await writeFile(join(stage, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ ...manifestDesc, annotations }] }));
  const path = (d: Descriptor) => `blobs/sha256/${d.digest.replace('sha256:', '')}`;
  await writeFile(
    join(stage, 'manifest.json'),
    JSON.stringify([{ Config: path(manifest.config), RepoTags: [name], Layers: manifest.layers.map(path) }]),
  );
  await tar.c({ cwd: stage, file, portable: true }, ['oci-layout', 'index.json', 'manifest.json', 'blobs']);
}

export async function buildTestImages(registry: string): Promise<TestImages> {
  const work = await mkdtemp(join(tmpdir(), 'onggi-images-'));
  try {
    const layout = join(work, 'oci');
    await run(['umoci', 'init', '--layout', layout]);
    const imageConfig = ['--config.env', DEFAULT_PATH, '--architecture', machineArch(), '--os', 'linux'];

    await umociImage(layout, work, 'busybox', buildBusyboxRootfs, [...imageConfig, '--config.cmd', '/bin/sh']);
    await umociImage(layout, work, 'layered', async (rootfs) => {
      await mkdir(join(rootfs, 'data'), { recursive: true });
      await writeFile(join(rootfs, 'data/old.txt'), 'old\n');
      await writeFile(join(rootfs, 'data/keep.txt'), 'keep\n');
      await mkdir(join(rootfs, 'opaque/sub'), { recursive: true });
      await writeFile(join(rootfs, 'opaque/a'), 'a\n');
      await writeFile(join(rootfs, 'opaque/b'), 'b\n');
      await writeFile(join(rootfs, 'opaque/sub/x'), 'x\n');
    }, [...imageConfig, '--config.cmd', '/bin/sh', '--config.label', 'org.onggi.test=layered'], 'busybox'); // prettier-ignore
    await run(['umoci', 'raw', 'add-layer', '--image', `${layout}:layered`, '--no-history', await buildLayeredTop(work)]);
    await umociImage(layout, work, 'glibc', buildGlibcRootfs, [...imageConfig, '--config.cmd', '/bin/bash']);
    const muslSkipReason = muslMissing();
    if (muslSkipReason === undefined) {
      await umociImage(layout, work, 'musl', (rootfs) => buildMuslRootfs(rootfs, work), [...imageConfig, '--config.cmd', '/hello']);
    }
    const multi = await buildMultiIndex(layout, 'busybox');

    await skopeoPush(layout, 'busybox', `${registry}/busybox:latest`);
    await skopeoPush(layout, 'layered', `${registry}/layered:latest`);
    await skopeoPush(layout, 'glibc', `${registry}/glibc:latest`);
    if (muslSkipReason === undefined) await skopeoPush(layout, 'musl', `${registry}/musl:latest`);
    else process.stderr.write(`test-images: musl image skipped: ${muslSkipReason}\n`);
    await skopeoPush(layout, 'multi', `${registry}/multi:latest`, true);

    const archives = join(work, 'archives');
    await mkdir(archives);
    const dockerArchive = join(archives, 'layered-docker.tar');
    await run(['skopeo', 'copy', '--quiet', `oci:${layout}:layered`, `docker-archive:${dockerArchive}:onggi-test/archived:v1`]);
    const ociArchive = join(archives, 'busybox-oci.tar');
    await run(['skopeo', 'copy', '--quiet', `oci:${layout}:busybox`, `oci-archive:${ociArchive}:onggi-test/ocibox:v1`]);
    const dockerOciArchive = join(archives, 'busybox-docker-oci.tar');
    await buildDockerOciArchive(layout, 'busybox', 'onggi-test/newsave:v1', work, dockerOciArchive);
    const rootfsDir = join(work, 'rootfs-busybox');
    await mkdir(rootfsDir);
    await buildBusyboxRootfs(rootfsDir);
    const rootfsGz = join(archives, 'busybox-rootfs.tar.gz');
    const rootfsTar = join(archives, 'busybox-rootfs.tar');
    await tar.c({ cwd: rootfsDir, file: rootfsGz, gzip: true }, ['.']);
    await tar.c({ cwd: rootfsDir, file: rootfsTar }, ['.']);

    const busyboxDesc = await manifestFor(layout, 'busybox');
    const busyboxManifest = await readBlobJson<{ layers: Descriptor[] }>(layout, busyboxDesc.digest);
    const busyboxLayer = busyboxManifest.layers[0]?.digest;
    if (!busyboxLayer) throw new Error('busybox has no layer');
    return {
      registry,
      layoutDir: layout,
      refs: {
        busybox: `${registry}/busybox:latest`,
        layered: `${registry}/layered:latest`,
        multi: `${registry}/multi:latest`,
        glibc: `${registry}/glibc:latest`,
        musl: muslSkipReason === undefined ? `${registry}/musl:latest` : undefined,
      },
      muslSkipReason,
      digests: {
        busybox: busyboxDesc.digest,
        layered: (await manifestFor(layout, 'layered')).digest,
        multiIndex: multi.index.digest,
        multiAmd64: multi.amd64.digest,
        multiArm64: multi.arm64.digest,
        multiAttestation: multi.attestation.digest,
        busyboxLayer,
        layeredLayers: (await readBlobJson<{ layers: Descriptor[] }>(layout, (await manifestFor(layout, 'layered')).digest)).layers.map(
          (l) => l.digest,
        ),
      },
      layered: {
        deletedFile: 'data/old.txt',
        keptFile: 'data/keep.txt',
        opaqueDir: 'opaque',
        opaqueKept: ['c'],
        opaqueHidden: ['a', 'b', 'sub'],
      },
      archives: {
        dockerArchive,
        dockerArchiveName: 'docker.io/onggi-test/archived:v1',
        dockerOciArchive,
        dockerOciArchiveName: 'docker.io/onggi-test/newsave:v1',
        ociArchive,
        ociArchiveName: 'docker.io/onggi-test/ocibox:v1',
        rootfsGz,
        rootfsTar,
      },
      cleanup: () => rm(work, { recursive: true, force: true }),
    };
  } catch (error) {
    await rm(work, { recursive: true, force: true });
    throw error;
  }
}

/**
 * For a test file: a registry on 127.0.0.1 filled with the test images for the file's tests,
 * stopped and removed after them. Read the fields inside tests (they are set in beforeAll).
 */
export function useRegistryImages(): { readonly registry: TestRegistry; readonly images: TestImages } {
  const state: { registry?: TestRegistry; images?: TestImages } = {};
  beforeAll(async () => {
    state.registry = await startRegistry();
    state.images = await buildTestImages(state.registry.host);
  }, 120_000);
  afterAll(async () => {
    await state.images?.cleanup();
    await state.registry?.stop();
  });
  const must = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`${what} is set up in beforeAll`);
    return value;
  };
  return {
    get registry() {
      return must(state.registry, 'the test registry');
    },
    get images() {
      return must(state.images, 'the test images');
    },
  };
}
