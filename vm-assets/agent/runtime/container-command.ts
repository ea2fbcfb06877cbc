// What a container runs, decided the way Docker decides it from the image and the run options.
import type { ContainerSpec } from '../../../shared/containers.js';
import { OnggiError } from '../../../shared/errors.js';
import type { ImageConfig } from '../../../shared/images.js';
import { ErrorCode } from '../../../shared/jsonrpc.js';

const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Docker's rule: ENTRYPOINT + CMD, where a new entrypoint drops the image's CMD. */
export function commandLine(spec: Pick<ContainerSpec, 'entrypoint' | 'command'>, config: ImageConfig): string[] {
  const entrypoint = spec.entrypoint ?? config.entrypoint ?? [];
  const cmd = spec.command ?? (spec.entrypoint !== undefined ? [] : (config.cmd ?? []));
  const argv = [...entrypoint, ...cmd];
  if (argv.length === 0)
    throw new OnggiError(ErrorCode.InvalidParams, 'invalid_params', 'no command: the image has none and none was given', 'params.command');
  return argv;
}

/** Image env, then the user's (later wins per name), with PATH and HOSTNAME as Docker sets them. */
export function mergeEnv(imageEnv: readonly string[], userEnv: readonly string[], hostname: string): string[] {
  const merged = new Map<string, string>();
  for (const entry of [DEFAULT_PATH, `HOSTNAME=${hostname}`, ...imageEnv, ...userEnv]) {
    const eq = entry.indexOf('=');
    if (eq > 0) merged.set(entry.slice(0, eq), entry);
  }
  return [...merged.values()];
}
