// ~/.ssh/config, read the way OpenSSH reads it, for the settings a machine needs: HostName, User,
// Port, IdentityFile, ProxyJump, IdentityAgent, IdentitiesOnly. Host patterns (wildcards,
// negation), Match (host, originalhost, user, localuser, all), Include (with globs, relative to
// ~/.ssh), first value wins, IdentityFile accumulates, %-tokens and ~ expanded.
// Written here rather than taken from npm: `ssh-config` 5.3 runs `Match exec` through a shell by
// default, spawns nslookup for CanonicalizeHostName, reads `?` as "zero or one character" and does
// not follow Include. Nothing here ever runs a command: `Match exec` never matches.
import { readFile, readdir } from 'node:fs/promises';
import { homedir, hostname, userInfo } from 'node:os';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { OnggiError } from '../../../../shared/errors.js';
import { ErrorCode } from '../../../../shared/jsonrpc.js';
import { currentFacts, expandHome } from '../../platform/platform.js';
import { wildcardMatch } from './known-hosts.js';

export interface JumpHost {
  host: string;
  port?: number;
  user?: string;
}

export interface SshConfigHost {
  /** The name the user typed (the `Host` alias). */
  alias: string;
  hostName: string;
  port: number;
  user: string;
  identityFiles: string[];
  /** Explicitly set IdentityFile lines (as opposed to OpenSSH's defaults). */
  identityFilesExplicit: boolean;
  identitiesOnly: boolean;
  /** The agent socket (`IdentityAgent`), `none` to use no agent; undefined: SSH_AUTH_SOCK. */
  identityAgent?: string;
  proxyJump: JumpHost[];
}

export interface SshConfigContext {
  home?: string;
  localUser?: string;
  /** The config file; default ~/.ssh/config. */
  file?: string;
}

const MAX_INCLUDE_DEPTH = 16;

interface Directive {
  keyword: string;
  args: string[];
  file: string;
  line: number;
}

/**
 * Splits one config line into words: the keyword, then its arguments. Keyword and value are
 * separated by whitespace and/or one `=`; double quotes group a word; `#` starting a word begins
 * a comment.
 */
export function tokenize(line: string): string[] {
  const trimmed = line.trim();
  if (trimmed === '' || trimmed.startsWith('#')) return [];
  const head = /^([^\s="]+)(?:\s*=\s*|\s+|$)/.exec(trimmed);
  if (!head?.[1]) throw new Error(`cannot read "${trimmed.slice(0, 40)}"`);
  const words = [head[1]];
  const rest = trimmed.slice(head[0].length);
  let current = '';
  let inWord = false;
  let quoted = false;
  for (const char of rest) {
    if (quoted) {
      if (char === '"') quoted = false;
      else current += char;
    } else if (char === '"') {
      quoted = true;
      inWord = true;
    } else if (char === '#' && !inWord) {
      break;
    } else if (/\s/.test(char)) {
      if (inWord) words.push(current);
      current = '';
      inWord = false;
    } else {
      current += char;
      inWord = true;
    }
  }
  if (quoted) throw new Error('unterminated double quote');
  if (inWord) words.push(current);
  return words;
}

async function readDirectives(file: string): Promise<Directive[]> {
  const text = await readFile(file, 'utf8');
  const directives: Directive[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    let words: string[];
    try {
      words = tokenize(raw);
    } catch (error) {
      throw configError(file, index + 1, error instanceof Error ? error.message : String(error));
    }
    const [keyword, ...args] = words;
    if (keyword) directives.push({ keyword: keyword.toLowerCase(), args, file, line: index + 1 });
  });
  return directives;
}

function configError(file: string, line: number, message: string): OnggiError {
  return new OnggiError(ErrorCode.InvalidParams, 'invalid_ssh_config', `${file} line ${line}: ${message}`);
}

/** `Host` patterns: any positive pattern matches and no negated one does. */
export function hostPatternsMatch(patterns: readonly string[], name: string): boolean {
  let matched = false;
  for (const pattern of patterns) {
    if (pattern.startsWith('!')) {
      if (wildcardMatch(pattern.slice(1), name)) return false;
    } else if (wildcardMatch(pattern, name)) matched = true;
  }
  return matched;
}

/** A comma-separated pattern list as in `Match host a,b,!c`. */
function patternListMatches(list: string, name: string): boolean {
  return hostPatternsMatch(list.split(','), name);
}

async function expandInclude(pattern: string, home: string, sshDir: string): Promise<string[]> {
  const expanded = expandHome(pattern, { os: currentFacts().os, homedir: home });
  const path = expanded !== pattern || isAbsolute(pattern) ? expanded : join(sshDir, pattern);
  const name = basename(path);
  if (!/[*?]/.test(name)) return [path];
  const dir = dirname(path);
  // an Include of a folder that does not exist includes nothing, as ssh does
  const entries = await readdir(dir).catch(() => [] as string[]);
  return entries
    .filter((entry) => wildcardMatch(name, entry))
    .sort()
    .map((entry) => join(dir, entry));
}

interface State {
  values: Map<string, string[]>;
  alias: string;
  localUser: string;
  home: string;
  sshDir: string;
}

function setValue(state: State, keyword: string, args: string[]): void {
  const accumulate = keyword === 'identityfile' || keyword === 'certificatefile';
  const existing = state.values.get(keyword);
  if (accumulate) state.values.set(keyword, [...(existing ?? []), ...args.slice(0, 1)]);
  else if (!existing) state.values.set(keyword, args);
}

function matchCriteria(args: string[], state: State, directive: Directive): boolean {
  let i = 0;
  let result = true;
  const currentHost = (): string => expandHostName(state.values.get('hostname')?.[0] ?? state.alias, state.alias);
  while (i < args.length) {
    let criterion = (args[i] ?? '').toLowerCase();
    i += 1;
    const negate = criterion.startsWith('!');
    if (negate) criterion = criterion.slice(1);
    let matched: boolean;
    if (criterion === 'all') matched = true;
    else if (criterion === 'canonical' || criterion === 'final') matched = false;
    else {
      const value = args[i];
      i += 1;
      if (value === undefined) throw configError(directive.file, directive.line, `Match ${criterion} needs an argument`);
      switch (criterion) {
        case 'host':
          matched = patternListMatches(value, currentHost());
          break;
        case 'originalhost':
          matched = patternListMatches(value, state.alias);
          break;
        case 'user':
          matched = patternListMatches(value, state.values.get('user')?.[0] ?? state.localUser);
          break;
        case 'localuser':
          matched = patternListMatches(value, state.localUser);
          break;
        default:
          // exec, localnetwork, tagged, …: never run or guessed; the block does not apply.
          matched = false;
      }
    }
    if (negate ? matched : !matched) result = false;
  }
  return result;
}

/**
 * Applies one file's directives. An Include inside an inactive Host/Match block is read with
 * `neverMatch`: its own Host/Match blocks then never apply (OpenSSH's SSHCONF_NEVERMATCH).
 */
async function evaluate(file: string, state: State, active: boolean, depth: number, neverMatch = false): Promise<void> {
  if (depth > MAX_INCLUDE_DEPTH) throw new OnggiError(ErrorCode.InvalidParams, 'invalid_ssh_config', `${file}: Include nested too deeply`);
  let directives: Directive[];
  try {
    directives = await readDirectives(file);
  } catch (error) {
    if (depth > 0 && (error as NodeJS.ErrnoException).code === 'ENOENT') return; // ssh ignores a missing Include
    throw error;
  }
  let current = active;
  for (const directive of directives) {
    const { keyword, args } = directive;
    if (keyword === 'host') {
      current = !neverMatch && hostPatternsMatch(args, state.alias);
    } else if (keyword === 'match') {
      current = !neverMatch && matchCriteria(args, state, directive);
    } else if (keyword === 'include') {
      for (const pattern of args) {
        for (const path of await expandInclude(pattern, state.home, state.sshDir)) {
          await evaluate(path, state, current, depth + 1, neverMatch || !current);
        }
      }
    } else if (current) {
      if (args.length === 0) throw configError(directive.file, directive.line, `${keyword} needs a value`);
      setValue(state, keyword, args);
    }
  }
}

function expandHostName(value: string, alias: string): string {
  return value.replace(/%([%h])/g, (_, token: string) => (token === '%' ? '%' : alias));
}

/** %-tokens and a leading ~ in IdentityFile / IdentityAgent, as ssh_config(5) TOKENS says. */
export function expandTokens(
  value: string,
  tokens: { home: string; localUser: string; host: string; alias: string; user: string; port: number },
): string {
  const out = value.replace(/%([%dhnrupl])/g, (_, token: string) => {
    switch (token) {
      case '%':
        return '%';
      case 'd':
        return tokens.home;
      case 'h':
        return tokens.host;
      case 'n':
        return tokens.alias;
      case 'r':
        return tokens.user;
      case 'u':
        return tokens.localUser;
      case 'p':
        return String(tokens.port);
      default:
        return hostname();
    }
  });
  return expandHome(out, { os: currentFacts().os, homedir: tokens.home });
}

/** `[user@]host[:port]` or `ssh://[user@]host[:port]`, comma-separated; `none` means no jump. */
export function parseProxyJump(value: string): JumpHost[] {
  if (value.toLowerCase() === 'none') return [];
  return value.split(',').map((raw) => {
    let spec = raw.trim();
    if (spec.startsWith('ssh://')) spec = spec.slice('ssh://'.length).replace(/\/$/, '');
    let user: string | undefined;
    const at = spec.lastIndexOf('@');
    if (at >= 0) {
      user = spec.slice(0, at);
      spec = spec.slice(at + 1);
    }
    let host = spec;
    let port: number | undefined;
    const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(spec);
    const plain = /^([^:]+):(\d+)$/.exec(spec);
    if (bracketed) {
      host = bracketed[1] ?? '';
      if (bracketed[2]) port = Number(bracketed[2]);
    } else if (plain) {
      host = plain[1] ?? '';
      port = Number(plain[2]);
    }
    if (!host || (port !== undefined && (!Number.isInteger(port) || port < 1 || port > 65535))) {
      throw new OnggiError(ErrorCode.InvalidParams, 'invalid_ssh_config', `ProxyJump "${raw}" is not [user@]host[:port]`);
    }
    return { host, ...(port !== undefined ? { port } : {}), ...(user ? { user } : {}) };
  });
}

/** What ~/.ssh/config says about connecting to `alias`, with OpenSSH's defaults filled in. */
export async function resolveSshConfig(alias: string, context: SshConfigContext = {}): Promise<SshConfigHost> {
  const home = context.home ?? homedir();
  const localUser = context.localUser ?? safeUserName();
  const file = context.file ?? join(home, '.ssh', 'config');
  const state: State = { values: new Map(), alias, localUser, home, sshDir: join(home, '.ssh') };
  await evaluate(file, state, true, 0).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  });
  const first = (keyword: string): string | undefined => state.values.get(keyword)?.[0];
  const hostName = expandHostName(first('hostname') ?? alias, alias);
  const portText = first('port');
  const port = portText === undefined ? 22 : Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new OnggiError(ErrorCode.InvalidParams, 'invalid_ssh_config', `${file}: Port "${portText}" for ${alias} is not a port number`);
  }
  const user = first('user') ?? localUser;
  const tokens = { home, localUser, host: hostName, alias, user, port };
  const explicit = state.values.get('identityfile') ?? [];
  const identityFiles = (explicit.length > 0 ? explicit : ['~/.ssh/id_ed25519', '~/.ssh/id_ecdsa', '~/.ssh/id_rsa']).map((path) =>
    expandTokens(path, tokens),
  );
  const agent = first('identityagent');
  const jump = first('proxyjump');
  return {
    alias,
    hostName,
    port,
    user,
    identityFiles,
    identityFilesExplicit: explicit.length > 0,
    identitiesOnly: (first('identitiesonly') ?? 'no').toLowerCase() === 'yes',
    ...(agent !== undefined ? { identityAgent: agent.toLowerCase() === 'none' ? 'none' : expandTokens(agent, tokens) } : {}),
    proxyJump: jump === undefined ? [] : parseProxyJump(jump),
  };
}

/** The concrete host aliases a config names (no wildcards, no negations), for a host picker. */
export async function listSshConfigHosts(context: SshConfigContext = {}): Promise<string[]> {
  const home = context.home ?? homedir();
  const file = context.file ?? join(home, '.ssh', 'config');
  const seen = new Set<string>();
  const walk = async (path: string, depth: number): Promise<void> => {
    if (depth > MAX_INCLUDE_DEPTH) return;
    // an Include naming a file that cannot be read is skipped, as ssh does
    const directives = await readDirectives(path).catch(() => [] as Directive[]);
    for (const directive of directives) {
      if (directive.keyword === 'host') {
        for (const pattern of directive.args) if (!/[*?!]/.test(pattern)) seen.add(pattern);
      } else if (directive.keyword === 'include') {
        for (const pattern of directive.args)
          for (const included of await expandInclude(pattern, home, join(home, '.ssh'))) await walk(included, depth + 1);
      }
    }
  };
  await walk(file, 0);
  return [...seen];
}

function safeUserName(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'root';
  }
}
