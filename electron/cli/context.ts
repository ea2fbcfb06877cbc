import { resolve } from 'node:path';
import { createHostCore, type HostCore, type HostCoreOptions } from '../core/host-core.js';
import { currentFacts, prepareDataDir, type DesktopArch, type DesktopOs, type PlatformFacts } from '../core/platform/platform.js';
import { terminalPrompts } from './commands/machines.js';

/** Where the built pieces sit relative to the CLI bundle (dist/electron/cli.cjs). */
export const ASSETS = {
  agentDir: resolve(__dirname, '../../vm-assets/dist/agent'),
  rendererDir: resolve(__dirname, '../renderer'),
};

/**
 * `forwardPublishedPorts`: only for a long-lived process (`onggi serve`), never a one-shot command.
 * `promptsInWindow`: host-key and passphrase questions go to the window as events (`onggi serve`,
 * whose terminal nobody watches), as in the Electron app; else they are asked on this terminal.
 */
export function createCliCore(
  extra: Pick<HostCoreOptions, 'forwardPublishedPorts' | 'watchNetwork'> & { promptsInWindow?: boolean } = {},
  { facts, dataDir }: CliPlace = cliPlace(),
): HostCore {
  const { promptsInWindow, ...options } = extra;
  return createHostCore({
    ...options,
    facts,
    dataDir,
    agentDir: ASSETS.agentDir,
    // The CLI already runs on Node; the local agent runs on the same binary.
    nodeRuntime: { command: process.execPath },
    ...(promptsInWindow ? {} : { prompts: terminalPrompts() }),
  });
}

export interface CliPlace {
  facts: PlatformFacts;
  /** The data folder shared with the app and browser mode. */
  dataDir: string;
}

/** This process's facts (or, tests only, those of the OS ONGGI_TEST_PLATFORM names) and the data folder. */
export function cliPlace(): CliPlace {
  const facts = testPlatform(process.env) ?? currentFacts();
  const dataDir = prepareDataDir(facts, (move) => process.stderr.write(`onggi: moved the data folder ${move.from} to ${move.to}\n`));
  return { facts, dataDir };
}

/**
 * TEST ONLY — `ONGGI_TEST_PLATFORM=darwin[/arm64]` (or `win32[/x64]`) makes the host core of this
 * process behave as on that OS where it can be told: no local machine, and the first-run check
 * looks for that OS's programs and gives its install commands. The e2e specs use it to show on
 * this Linux machine the window a Mac or Windows user sees first. Nothing else sets it.
 */
export function testPlatform(env: NodeJS.ProcessEnv): PlatformFacts | undefined {
  const value = env.ONGGI_TEST_PLATFORM;
  if (!value) return undefined;
  const match = /^(linux|darwin|win32)(?:\/(x64|arm64))?$/.exec(value);
  if (!match) throw new Error(`ONGGI_TEST_PLATFORM must be linux, darwin or win32, optionally /x64 or /arm64 (got "${value}")`);
  const facts = currentFacts(env);
  return { ...facts, os: match[1] as DesktopOs, arch: (match[2] as DesktopArch | undefined) ?? facts.arch };
}
