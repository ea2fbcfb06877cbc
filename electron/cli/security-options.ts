// `onggi run --security-opt`: seccomp=unconfined, seccomp=FILE.json (Docker's profile format,
// read here on the desktop and sent parsed: the machine may be another computer) and
// no-new-privileges[=true|false]. Docker's other security options (apparmor, label,
// systempaths) are refused by name rather than ignored.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { Command } from 'commander';
import type { ContainerSpecInput } from '../../shared/containers.js';
import { parseSeccompProfile, securityOptionFields, type SeccompChoice } from '../../shared/seccomp-profile.js';
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

function readProfile(file: string): SeccompChoice {
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

/** The spec fields the options give (parsed as the Docker API parses them: shared/seccomp-profile.ts). */
export function securityOptionsSpec(options: SecurityRunOptions): Pick<ContainerSpecInput, 'seccomp' | 'noNewPrivileges'> {
  return securityOptionFields(
    options.securityOpt ?? [],
    readProfile,
    (option) =>
      new Error(`--security-opt "${option}": supported are seccomp=unconfined, seccomp=PROFILE.json and no-new-privileges[=true|false]`),
  );
}
