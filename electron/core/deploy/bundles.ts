// The two parts deploy uploads, each named by the sha256 of its tar so a machine keeps one copy
// per content: the Node runtime (staged at build time by build/runtime.mjs, ~27 MB xz) and the
// agent (agent.cjs, manifest.json and the init helper for the machine's architecture, packed here
// from the agent dir, deterministically, well under 1 MB). An agent update uploads only the agent.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as z from 'zod';
import { OnggiError } from '../../../shared/errors.js';
import { ErrorCode } from '../../../shared/jsonrpc.js';
import { readAgentBundle } from '../agent/agent-bundle.js';
import type { RuntimeArch } from './targets.js';

export type ArchiveFormat = 'xz' | 'gz';

/** One part, ready to upload in one format. */
export interface DeployPart {
  kind: 'runtime' | 'agent';
  /** sha256 of the part's tar: the install directory's name. */
  id: string;
  format: ArchiveFormat;
  /** The compressed bytes, and their sha256 (checked on the machine before unpacking). */
  load(): Promise<{ data: Buffer; sha256: string }>;
}

const Hex64 = z.string().regex(/^[0-9a-f]{64}$/);
const RuntimeManifest = z.object({
  kind: z.literal('onggi-runtime'),
  schema: z.literal(1),
  arch: z.enum(['x64', 'arm64']),
  node: z.string(),
  id: Hex64,
  glibcMin: z.string().regex(/^\d+\.\d+$/),
  files: z
    .array(
      z.object({
        format: z.enum(['xz', 'gz']),
        name: z.string().regex(/^[A-Za-z0-9._-]+$/),
        bytes: z.number().int().positive(),
        sha256: Hex64,
      }),
    )
    .min(1),
});
export type RuntimeManifest = z.infer<typeof RuntimeManifest>;

export interface RuntimeChoice {
  manifest: RuntimeManifest;
  part: DeployPart;
}

export async function readRuntimeManifest(bundlesDir: string, arch: RuntimeArch): Promise<RuntimeManifest> {
  const path = join(bundlesDir, `runtime-linux-${arch}.json`);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new OnggiError(
      ErrorCode.Unavailable,
      'runtime_bundle_missing',
      `the Node runtime for linux-${arch} is not staged in ${bundlesDir}; run \`node build/runtime.mjs --arch ${arch}\` (or \`npm run build\`)`,
    );
  }
  const parsed = RuntimeManifest.safeParse(JSON.parse(text));
  if (!parsed.success || parsed.data.arch !== arch) {
    throw new OnggiError(
      ErrorCode.Unavailable,
      'runtime_bundle_invalid',
      `${path} is not a runtime manifest for linux-${arch}; stage it again`,
    );
  }
  return parsed.data;
}

/** The runtime in the smallest format the machine can unpack (xz needs the `xz` tool there). */
export function chooseRuntimePart(bundlesDir: string, manifest: RuntimeManifest, canXz: boolean): DeployPart {
  const usable = manifest.files.filter((file) => file.format === 'gz' || canXz).sort((a, b) => a.bytes - b.bytes);
  const file = usable[0];
  if (!file) {
    throw new OnggiError(
      ErrorCode.OperationFailed,
      'runtime_format',
      'the machine has no `xz` and the staged runtime has no gzip file; install xz-utils there, or stage the runtime with gz',
    );
  }
  return {
    kind: 'runtime',
    id: manifest.id,
    format: file.format,
    load: async () => {
      const data = await readFile(join(bundlesDir, file.name));
      if (data.length !== file.bytes || createHash('sha256').update(data).digest('hex') !== file.sha256) {
        throw new OnggiError(
          ErrorCode.Unavailable,
          'runtime_bundle_invalid',
          `${file.name} does not match its manifest; stage the runtime again`,
        );
      }
      return { data, sha256: file.sha256 };
    },
  };
}

/** How a build gets a helper it lacks (build/init.mjs says the same at build time). */
export const INIT_HELPER_HINT =
  'The helpers are built only on Linux (gcc, libc6-dev, gcc-aarch64-linux-gnu: node build/init.mjs); on macOS or Windows set ONGGI_INIT_PREBUILT to a folder holding them (the init-helpers artifact of a Linux CI run) and build again.';

/** The init helper's name for an architecture, as the agent looks for it (vm-assets/agent/daemon/services.ts). */
export function initHelperName(arch: RuntimeArch): string {
  return `onggi-init-${arch === 'x64' ? 'amd64' : 'arm64'}`;
}

interface TarFile {
  name: string;
  mode: number;
  data: Buffer;
}

/** A ustar archive of plain files with fixed owner and time: the same files give the same bytes. */
export function ustar(files: readonly TarFile[]): Buffer {
  const blocks: Buffer[] = [];
  for (const file of files) {
    if (Buffer.byteLength(file.name) > 99) throw new Error(`tar name too long: ${file.name}`);
    const header = Buffer.alloc(512);
    const field = (offset: number, length: number, value: string): void => {
      header.write(value, offset, length, 'latin1');
    };
    const octal = (offset: number, length: number, value: number): void =>
      field(offset, length, `${value.toString(8).padStart(length - 1, '0')}\0`);
    field(0, 100, file.name);
    octal(100, 8, file.mode);
    octal(108, 8, 0);
    octal(116, 8, 0);
    octal(124, 12, file.data.length);
    octal(136, 12, 946684800); // 2000-01-01T00:00:00Z
    field(148, 8, '        ');
    field(156, 1, '0');
    field(257, 6, 'ustar\0');
    field(263, 2, '00');
    field(265, 32, 'root');
    field(297, 32, 'root');
    let sum = 0;
    for (const byte of header) sum += byte;
    field(148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
    blocks.push(header, file.data, Buffer.alloc((512 - (file.data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

export interface AgentPart extends DeployPart {
  buildId: string;
  version: string;
  /** Whether the init helper for this architecture was in the agent dir (containers need it). */
  hasInitHelper: boolean;
}

const agentParts = new Map<string, Promise<AgentPart>>();

/** The agent part for an architecture, packed once per build and kept in memory (it is small). */
export function agentPart(agentDir: string, arch: RuntimeArch): Promise<AgentPart> {
  const key = `${agentDir}\0${arch}`;
  const pending = (async () => {
    const bundle = await readAgentBundle(agentDir);
    const cached = agentParts.get(key);
    if (cached) {
      // a cached build that failed is built again below, which reports its own error
      const part = await cached.catch(() => undefined);
      if (part?.buildId === bundle.buildId) return part;
    }
    const packing = packAgent(agentDir, arch, bundle.buildId, bundle.version, bundle.entry);
    agentParts.set(key, packing);
    return packing;
  })();
  return pending;
}

async function packAgent(agentDir: string, arch: RuntimeArch, buildId: string, version: string, entry: string): Promise<AgentPart> {
  const helper = initHelperName(arch);
  // probe: no helper file there is reported as missing just below
  const helperData = await readFile(join(agentDir, helper)).catch(() => undefined);
  const files: TarFile[] = [
    { name: 'agent.cjs', mode: 0o644, data: await readFile(entry) },
    { name: 'manifest.json', mode: 0o644, data: await readFile(join(agentDir, 'manifest.json')) },
    ...(helperData ? [{ name: helper, mode: 0o755, data: helperData }] : []),
  ];
  const tarBytes = ustar(files);
  // Compressed only when a machine needs it uploaded: naming it needs the tar's hash alone.
  let compressed: { data: Buffer; sha256: string } | undefined;
  return {
    kind: 'agent',
    id: createHash('sha256').update(tarBytes).digest('hex'),
    format: 'gz',
    load: () => {
      if (!compressed) {
        const data = gzipSync(tarBytes, { level: 9 });
        compressed = { data, sha256: createHash('sha256').update(data).digest('hex') };
      }
      return Promise.resolve(compressed);
    },
    buildId,
    version,
    hasInitHelper: helperData !== undefined,
  };
}
