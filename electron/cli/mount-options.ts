// Docker's three ways to ask for mounts on `run`: `-v/--volume`, `--mount` and `--tmpfs`, parsed
// into the typed mounts of ContainerSpec (whose schema then checks every field, as the agent does).
import { resolve } from 'node:path';
import { InvalidArgumentError, Option } from 'commander';
import type { MountSpecInput } from '../../shared/volumes.js';
import { collect } from './session.js';
import { currentFacts, expandHome } from '../core/platform/platform.js';

export interface MountOptions {
  volume?: string[];
  mount?: string[];
  tmpfs?: string[];
}

/** `ro`/`rw` and nothing Onggi would silently ignore. */
function readonlyMode(modes: readonly string[], flag: string): boolean {
  let readonly = false;
  for (const mode of modes) {
    if (mode === 'ro' || mode === 'rw') readonly = mode === 'ro';
    else throw new InvalidArgumentError(`${flag}: unsupported mode "${mode}" (ro and rw are supported)`);
  }
  return readonly;
}

/**
 * `-v CTR` (an anonymous volume), `-v NAME:CTR` (a named volume), `-v HOST:CTR` (a bind mount;
 * the host path is made when missing, as Docker's -v does), each with `:ro` or `:rw`. A host path
 * starts with `/`, or with `.` for one relative to here (Docker 23's rule), or is a folder of this
 * computer written as only the desktop writes it — `~/app`, `C:\\Users\\me\\app` (see
 * desktopWritten); anything else names a volume.
 */
export function parseVolumeFlag(text: string, cwd = process.cwd()): MountSpecInput {
  // A Windows drive's colon is not a separator.
  const drive = WINDOWS_DRIVE.test(text) ? text.slice(0, 2) : '';
  const parts = text.slice(drive.length).split(':');
  parts[0] = `${drive}${parts[0] ?? ''}`;
  if (parts.length > 3 || parts.some((part) => part === ''))
    throw new InvalidArgumentError(`-v: expected [HOST-PATH|NAME:]CONTAINER-PATH[:ro|rw]: "${text}"`);
  if (parts.length === 1) return { type: 'volume', target: text };
  const [source = '', target = '', mode] = parts;
  const readonly = readonlyMode(mode === undefined ? [] : mode.split(','), '-v');
  const flags = readonly ? { readonly } : {};
  if (source.startsWith('/') || source.startsWith('.') || desktopWritten(source))
    return { type: 'bind', source: bindSource(source, cwd), target, createSource: true, ...flags };
  return { type: 'volume', source, target, ...flags };
}

const WINDOWS_DRIVE = /^[A-Za-z]:[\\/]/;

/** A `-v` value's source as typed (before `~` or `.` are expanded). */
export function volumeSourceText(text: string): string {
  const drive = WINDOWS_DRIVE.test(text) ? text.slice(0, 2) : '';
  return `${drive}${text.slice(drive.length).split(':')[0] ?? ''}`;
}

/**
 * Whether a bind source can only be a folder of this computer: `~…`, `.…` (relative to here) or a
 * Windows drive path. On a machine other than this computer such a path must be in a shared folder
 * (desktop-binds.ts); an absolute `/path` is a desktop path there only when it is in one.
 */
export function desktopWritten(source: string): boolean {
  return source === '~' || source.startsWith('~/') || source.startsWith('~\\') || source.startsWith('.') || WINDOWS_DRIVE.test(source);
}

function bindSource(source: string, cwd: string): string {
  if (source.startsWith('.')) return resolve(cwd, source);
  if (source === '~' || source.startsWith('~/') || source.startsWith('~\\')) return expandHome(source, currentFacts());
  return source;
}

/** Splits Docker's CSV `--mount` value: fields by commas, a field may be quoted to hold one. */
function csvFields(text: string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const char = text[i];
    if (char === '"') {
      if (quoted && text[i + 1] === '"') {
        field += '"';
        i += 1;
      } else quoted = !quoted;
    } else if (char === ',' && !quoted) {
      fields.push(field);
      field = '';
    } else field += char;
  }
  if (quoted) throw new InvalidArgumentError(`--mount: unterminated quote: ${text}`);
  fields.push(field);
  return fields;
}

function booleanValue(key: string, value: string | undefined): boolean {
  if (value === undefined || value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new InvalidArgumentError(`--mount: ${key} must be true or false: "${value}"`);
}

function octalMode(value: string, flag: string): number {
  if (!/^[0-7]{1,4}$/.test(value)) throw new InvalidArgumentError(`${flag}: mode must be octal permission bits like 1777: "${value}"`);
  return Number.parseInt(value, 8);
}

/**
 * `--mount type=bind|volume|tmpfs,source=…,target=…,readonly,tmpfs-size=…,tmpfs-mode=…` with
 * Docker's aliases (src, dst/destination, ro). A missing bind source is refused, as Docker does.
 */
export function parseMountFlag(text: string): MountSpecInput {
  let type = 'volume';
  let source: string | undefined;
  let target: string | undefined;
  let readonly = false;
  let size: string | undefined;
  let mode: number | undefined;
  for (const field of csvFields(text)) {
    const at = field.indexOf('=');
    const key = (at < 0 ? field : field.slice(0, at)).trim().toLowerCase();
    const value = at < 0 ? undefined : field.slice(at + 1);
    const needValue = (): string => {
      if (value === undefined || value === '') throw new InvalidArgumentError(`--mount: ${key} needs a value`);
      return value;
    };
    if (key === 'type') type = needValue();
    else if (key === 'source' || key === 'src') source = needValue();
    else if (key === 'target' || key === 'destination' || key === 'dst') target = needValue();
    else if (key === 'readonly' || key === 'ro') readonly = booleanValue(key, value);
    else if (key === 'tmpfs-size') size = needValue();
    else if (key === 'tmpfs-mode') mode = octalMode(needValue(), '--mount');
    else throw new InvalidArgumentError(`--mount: unsupported key "${key}"`);
  }
  if (type !== 'bind' && type !== 'volume' && type !== 'tmpfs')
    throw new InvalidArgumentError(`--mount: type must be bind, volume or tmpfs: "${type}"`);
  if (target === undefined) throw new InvalidArgumentError('--mount: target (or dst, destination) is required');
  return {
    type,
    target,
    ...(source !== undefined ? { source } : {}),
    ...(readonly ? { readonly } : {}),
    ...(size !== undefined ? { tmpfsSize: size } : {}),
    ...(mode !== undefined ? { tmpfsMode: mode } : {}),
  };
}

/** `--tmpfs CTR[:size=64m,mode=1777,ro,noexec]`; nosuid and nodev are accepted (every tmpfs has them). */
export function parseTmpfsFlag(text: string): MountSpecInput {
  const at = text.indexOf(':');
  const target = at < 0 ? text : text.slice(0, at);
  const mount: MountSpecInput = { type: 'tmpfs', target };
  for (const option of at < 0 ? [] : text.slice(at + 1).split(',')) {
    const [key = '', value] = option.split('=', 2);
    if (key === 'size' && value) mount.tmpfsSize = value;
    else if (key === 'mode' && value) mount.tmpfsMode = octalMode(value, '--tmpfs');
    else if (key === 'ro' || key === 'rw') mount.readonly = key === 'ro';
    else if (key === 'noexec' || key === 'exec') mount.tmpfsNoexec = key === 'noexec';
    else if (key !== 'nosuid' && key !== 'nodev')
      throw new InvalidArgumentError(`--tmpfs: unsupported option "${option}" (size, mode, ro, rw, exec, noexec, nosuid and nodev are)`);
  }
  return mount;
}

/** The options on `run` (and `create`): `.addOption(...)` each. */
export const MOUNT_OPTIONS = {
  volume: () =>
    new Option(
      '-v, --volume <[host-path|name:]container-path[:ro]>',
      'bind mount a path of the machine, or mount a volume (repeatable)',
    ).argParser(collect),
  mount: () =>
    new Option('--mount <type=…,source=…,target=…>', 'a bind, volume or tmpfs mount in Docker’s --mount form (repeatable)').argParser(
      collect,
    ),
  tmpfs: () => new Option('--tmpfs <container-path[:size=…,mode=…]>', 'mount a tmpfs (repeatable)').argParser(collect),
};

/** ContainerSpec.mounts from the options, in the order Docker applies them: -v, --mount, --tmpfs. */
export function mountsFrom(options: MountOptions): MountSpecInput[] {
  return [
    ...(options.volume ?? []).map((text) => parseVolumeFlag(text)),
    ...(options.mount ?? []).map(parseMountFlag),
    ...(options.tmpfs ?? []).map(parseTmpfsFlag),
  ];
}
