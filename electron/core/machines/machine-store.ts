// The machines the user added, in <dataDir>/machines.json: checked against the schema on every
// load (a bad file is reported with the field at fault and left as it is, never overwritten),
// written atomically (see atomic-write.ts).
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { OnggiError, errorMessage, formatPath } from '../../../shared/errors.js';
import { ErrorCode } from '../../../shared/jsonrpc.js';
import { MachinesFile, type MachineDefinition } from '../../../shared/machines.js';
import { sameMachineName } from '../../../shared/names.js';
import { writeJsonAtomic } from '../atomic-write.js';
import type { PlatformFacts } from '../platform/platform.js';
import { nameTaken } from './registry.js';

export const MACHINES_FILE = 'machines.json';
/** Names the providers own: a stored machine cannot take them. */
export const RESERVED_MACHINE_NAMES = ['local'];

export class MachineStore {
  readonly path: string;

  constructor(
    dataDir: string,
    private readonly facts?: PlatformFacts,
  ) {
    this.path = join(dataDir, MACHINES_FILE);
  }

  /** The stored machines; none when the file does not exist yet. */
  async load(): Promise<MachineDefinition[]> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw this.unreadable(error);
    }
    return this.parse(text);
  }

  /**
   * The stored machines, synchronously (the host core registers machines while it is being built);
   * an unreadable or invalid file gives no machines and the error that says why.
   */
  loadSyncOrError(): { machines: MachineDefinition[]; error: OnggiError | undefined } {
    try {
      return { machines: this.loadSync(), error: undefined };
    } catch (error) {
      return {
        machines: [],
        error: error instanceof OnggiError ? error : new OnggiError(ErrorCode.Unavailable, 'machines_file_unreadable', errorMessage(error)),
      };
    }
  }

  /** The same, synchronously (the host core registers machines while it is being built). */
  loadSync(): MachineDefinition[] {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw this.unreadable(error);
    }
    return this.parse(text);
  }

  async add(definition: MachineDefinition): Promise<void> {
    const machines = await this.load();
    const taken = [...RESERVED_MACHINE_NAMES, ...machines.map((machine) => machine.name)].find((name) =>
      sameMachineName(name, definition.name),
    );
    if (taken !== undefined) throw nameTaken(definition.name, taken);
    await this.save([...machines, definition]);
  }

  /** Replaces a stored machine's definition (same name); false when there was none by that name. */
  async replace(definition: MachineDefinition): Promise<boolean> {
    const machines = await this.load();
    const index = machines.findIndex((machine) => machine.name === definition.name);
    if (index < 0) return false;
    await this.save(machines.map((machine, i) => (i === index ? definition : machine)));
    return true;
  }

  /** Removes a machine; false when there was none by that name. */
  async remove(name: string): Promise<boolean> {
    const machines = await this.load();
    const kept = machines.filter((machine) => machine.name !== name);
    if (kept.length === machines.length) return false;
    await this.save(kept);
    return true;
  }

  private parse(text: string): MachineDefinition[] {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new OnggiError(
        ErrorCode.InvalidParams,
        'machines_file_invalid',
        `${this.path} is not valid JSON (${error instanceof Error ? error.message : String(error)}); fix or move it away — Onggi leaves it untouched`,
      );
    }
    const parsed = MachinesFile.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = issue ? formatPath('', issue.path) || '(top level)' : '(top level)';
      throw new OnggiError(
        ErrorCode.InvalidParams,
        'machines_file_invalid',
        `${this.path}: ${field}: ${issue?.message ?? 'invalid'}; fix or move the file away — Onggi leaves it untouched`,
        field,
      );
    }
    const names = new Set<string>();
    for (const [index, machine] of parsed.data.machines.entries()) {
      if (names.has(machine.name) || RESERVED_MACHINE_NAMES.includes(machine.name)) {
        throw new OnggiError(
          ErrorCode.InvalidParams,
          'machines_file_invalid',
          `${this.path}: machines[${index}].name: "${machine.name}" is taken; fix or move the file away — Onggi leaves it untouched`,
          `machines[${index}].name`,
        );
      }
      names.add(machine.name);
    }
    return parsed.data.machines;
  }

  private unreadable(error: unknown): OnggiError {
    return new OnggiError(
      ErrorCode.Unavailable,
      'machines_file_unreadable',
      `cannot read ${this.path}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }

  private async save(machines: MachineDefinition[]): Promise<void> {
    const content: MachinesFile = { version: 1, machines };
    await writeJsonAtomic(this.path, content, this.facts ? { facts: this.facts } : {});
  }
}
