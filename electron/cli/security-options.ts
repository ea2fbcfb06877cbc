// `onggi run --security-opt`: seccomp=unconfined, seccomp=FILE.json (Docker's profile format,
// read here on the desktop and sent parsed: the machine may be another computer) and
// no-new-privileges[=true|false]. Docker's other security options (apparmor, label,
// systempaths) are refused by name rather than ignored.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { Command } from 'commander';
import type { ContainerSpecInput } from '../../shared/containers.js';
import { parseSeccompProfile } from '../../shared/seccomp-profile.js';
import { collect } from './session.js';

export interface SecurityRunOptions {
  securityOpt?: string[];
}

export function addSecurityOptions(command: Command): Command {
  return command.option(
    '--security-opt <option>',
    'seccomp=unconfined, seccomp=PROFILE.json (Docker format), no-new-privileges[=true|false] (repeatable)',
    collect,
  );
}

function readProfile(file: string): NonNullable<ContainerSpecInput['seccomp']> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new Error(`--security-opt seccomp=${file}: ${(error as Error).message}`, { cause: error });
  }
  try {
    return { kind: 'profile', name: basename(file), profile: parseSeccompProfile(text, file) };
  } catch (error) {
    throw new Error(`--security-opt seccomp=${file}: ${(error as Error).message}`, { cause: error });
  }
}

/** The spec fields the options give; Docker's `key:value` spelling is taken as `key=value`. */
export function securityOptionsSpec(options: SecurityRunOptions): Pick<ContainerSpecInput, 'seccomp' | 'noNewPrivileges'> {
  const spec: Pick<ContainerSpecInput, 'seccomp' | 'noNewPrivileges'> = {};
  for (const option of options.securityOpt ?? []) {
    const match = /^([a-z-]+)(?:[=:](.*))?$/s.exec(option);
    const [key, value] = [match?.[1], match?.[2]];
    if (key === 'seccomp' && value) spec.seccomp = value === 'unconfined' ? { kind: 'unconfined' } : readProfile(value);
    else if (key === 'no-new-privileges' && (value === undefined || value === 'true' || value === 'false'))
      spec.noNewPrivileges = value !== 'false';
    else
      throw new Error(
        `--security-opt "${option}": supported are seccomp=unconfined, seccomp=PROFILE.json and no-new-privileges[=true|false]`,
      );
  }
  return spec;
}
