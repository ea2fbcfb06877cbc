// Platforms as OCI writes them (os/architecture[/variant]) and how an index entry is chosen: the
// machine's own unless the caller names one; attestation manifests (unknown/unknown) never count.
import { arch } from 'node:os';

export interface Platform {
  os: string;
  architecture: string;
  variant?: string | undefined;
}

const NODE_TO_OCI: Record<string, Platform> = {
  x64: { os: 'linux', architecture: 'amd64' },
  arm64: { os: 'linux', architecture: 'arm64', variant: 'v8' },
  arm: { os: 'linux', architecture: 'arm', variant: 'v7' },
  ia32: { os: 'linux', architecture: '386' },
  ppc64: { os: 'linux', architecture: 'ppc64le' },
  s390x: { os: 'linux', architecture: 's390x' },
  riscv64: { os: 'linux', architecture: 'riscv64' },
};

/** The platform of the machine the agent runs on. */
export function machinePlatform(nodeArch: string = arch()): Platform {
  return NODE_TO_OCI[nodeArch] ?? { os: 'linux', architecture: nodeArch };
}

/** `linux/arm64/v8` → { os, architecture, variant }. */
export function parsePlatform(value: string): Platform {
  const [os, architecture, variant] = value.split('/');
  if (!os || !architecture) throw new Error(`"${value}" is not a platform (os/arch[/variant])`);
  return { os, architecture, variant };
}

export function formatPlatform(platform: Platform): string {
  return `${platform.os}/${platform.architecture}${platform.variant ? `/${platform.variant}` : ''}`;
}

/** The variant an entry without one means: arm64 is v8 (Docker Hub often omits it). */
function normalVariant(architecture: string, variant: string | undefined): string | undefined {
  if (variant) return variant;
  if (architecture === 'arm64') return 'v8';
  return undefined;
}

export function isAttestation(platform: Platform | undefined, annotations?: Record<string, string>): boolean {
  return (
    platform === undefined ||
    platform.os === 'unknown' ||
    platform.architecture === 'unknown' ||
    annotations?.['vnd.docker.reference.type'] === 'attestation-manifest'
  );
}

/**
 * The index of the entry to pull for `wanted`, or -1. When the caller did not name a variant, an
 * entry with the architecture's usual variant (or none) is preferred over others.
 */
export function choosePlatform<T extends { platform?: Platform | undefined; annotations?: Record<string, string> | undefined }>(
  entries: readonly T[],
  wanted: Platform,
): number {
  const wantedVariant = wanted.variant ? normalVariant(wanted.architecture, wanted.variant) : undefined;
  let fallback = -1;
  for (const [i, entry] of entries.entries()) {
    const p = entry.platform;
    if (!p || isAttestation(p, entry.annotations)) continue;
    if (p.os !== wanted.os || p.architecture !== wanted.architecture) continue;
    const variant = normalVariant(p.architecture, p.variant);
    if (wantedVariant !== undefined) {
      if (variant === wantedVariant) return i;
      continue;
    }
    if (variant === normalVariant(wanted.architecture, undefined)) return i;
    if (fallback < 0) fallback = i;
  }
  return fallback;
}
