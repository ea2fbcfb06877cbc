// <dataDir>/settings.json: checked against its schema on every read, written atomically. A file
// that does not parse is never overwritten (the user may want what is in it): reads go on as if it
// were empty, writes refuse, naming the file and the field at fault.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { OnggiError, invalidInput } from '../../shared/errors.js';
import { HostSettingsFile } from '../../shared/host-settings.js';
import { ErrorCode } from '../../shared/jsonrpc.js';
import { writeJsonAtomic } from './atomic-write.js';
import type { PlatformFacts } from './platform/platform.js';

export const SETTINGS_FILE = 'settings.json';

export class SettingsStore {
  readonly path: string;

  constructor(
    dataDir: string,
    /** The desktop's facts, for how the file is made durable there (default: this process's). */
    private readonly facts?: PlatformFacts,
  ) {
    this.path = join(dataDir, SETTINGS_FILE);
  }

  /** The settings; the defaults when there is no file yet; an error for a file that cannot be used. */
  async read(): Promise<HostSettingsFile> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1 };
      throw this.invalid(error instanceof Error ? error.message : String(error));
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw this.invalid(`not valid JSON (${error instanceof Error ? error.message : String(error)})`);
    }
    const parsed = HostSettingsFile.safeParse(json);
    if (!parsed.success) throw this.invalid(invalidInput('', parsed.error).message);
    return parsed.data;
  }

  /** The settings, or the defaults when the file cannot be used (a remembered choice is a convenience, never a blocker). */
  async readOrDefaults(): Promise<HostSettingsFile> {
    try {
      return await this.read();
    } catch {
      return { version: 1 };
    }
  }

  /** Changes some settings and writes the file; refuses when the file on disk cannot be read. */
  async update(change: Partial<Omit<HostSettingsFile, 'version'>>): Promise<HostSettingsFile> {
    const next = HostSettingsFile.parse({ ...(await this.read()), ...change });
    await writeJsonAtomic(this.path, next, this.facts ? { facts: this.facts } : {});
    return next;
  }

  private invalid(why: string): OnggiError {
    return new OnggiError(
      ErrorCode.InvalidParams,
      'settings_file_invalid',
      `${this.path}: ${why}; fix or move the file away — Onggi leaves it untouched`,
    );
  }
}
