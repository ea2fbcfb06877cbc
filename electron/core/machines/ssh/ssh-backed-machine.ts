// What a machine driven as an SSH machine once its provider says where it is (a Vagrant VM, an
// EC2 instance) does the same way: everything but lifecycle goes to the SSH machine it attaches,
// and lifecycle operations run one at a time. Its shared folders are stored with its own
// definition (they hold while the machine is stopped) and handed to the SSH machine it attaches.
import type { Duplex } from 'node:stream';
import type { MachineClock } from '../../../../shared/clock.js';
import { OnggiError, errorMessage } from '../../../../shared/errors.js';
import type { MachineState } from '../../../../shared/host-api.js';
import { ErrorCode } from '../../../../shared/jsonrpc.js';
import type { DeployReport } from '../../../../shared/machines.js';
import type { SharedFolder, ShareResolution } from '../../../../shared/shares.js';
import type { AgentLink } from '../../agent/agent-link.js';
import type { Terminal, TerminalOptions } from '../machine.js';
import type { PortForward, PortForwardSpec } from './port-forward.js';
import type { SshConnection } from './ssh-connection.js';
import type { SshMachine } from './ssh-machine.js';
import type { UploadedFile } from './upload.js';

export abstract class SshBackedMachine {
  abstract readonly name: string;
  private busy: Promise<unknown> = Promise.resolve();

  /** The SSH machine at the provider's current address, made on demand (or a refusal saying why not). */
  protected abstract attach(): Promise<SshMachine>;
  /** The SSH machine while one is attached. */
  protected abstract get attached(): SshMachine | undefined;
  /** The desktop folders shared with the machine, as its definition holds them. */
  abstract sharedFolders(): SharedFolder[];
  /** Stores the definition with these shared folders (machines.json). */
  protected abstract storeShares(shares: SharedFolder[]): Promise<void>;

  /** Stores the new list, then serves it on the attached SSH machine's link (a stopped machine takes it at its next attach). */
  async setShares(shares: SharedFolder[]): Promise<void> {
    await this.storeShares(shares);
    await this.attached?.setShares(shares);
  }

  async resolveShare(desktopPath: string): Promise<ShareResolution> {
    return (await this.attach()).resolveShare(desktopPath);
  }

  async agent(): Promise<AgentLink> {
    return (await this.attach()).agent();
  }

  /** The machine's clock, once attached (a stopped machine has none to report). */
  async clock(): Promise<MachineClock | undefined> {
    return this.attached?.clock();
  }

  async verifyLink(): Promise<void> {
    await this.attached?.verifyLink();
  }

  execCommand(): Promise<{ command: string; args: string[]; env: Record<string, string> }> {
    return Promise.reject(
      new OnggiError(
        ErrorCode.OperationFailed,
        'use_terminal',
        `${this.name} is reached over SSH: open a terminal instead of a local process`,
      ),
    );
  }

  async openTerminal(options: TerminalOptions): Promise<Terminal> {
    return (await this.attach()).openTerminal(options);
  }

  async sshConnection(): Promise<SshConnection> {
    return (await this.attach()).ssh();
  }

  async deploy(): Promise<Omit<DeployReport, 'machine'>> {
    return (await this.attach()).deploy();
  }

  async upload(file: string, onProgress: (bytes: number, total: number) => void): Promise<UploadedFile> {
    return (await this.attach()).upload(file, onProgress);
  }

  async dialDocker(): Promise<Duplex> {
    return (await this.attach()).dialDocker();
  }

  async syncPublishedPorts(): Promise<void> {
    await this.attached?.syncPublishedPorts();
  }

  async download(localPath: string, produce: (remotePath: string) => Promise<unknown>): Promise<void> {
    return (await this.attach()).download(localPath, produce);
  }

  async forwardPort(spec: PortForwardSpec): Promise<PortForward> {
    return (await this.attach()).forwardPort(spec);
  }

  async close(): Promise<void> {
    await this.attached?.close();
  }

  /** The machine's state as the window shows it: kept, and told to who listens. */
  protected abstract setState(state: MachineState, error?: string): void;

  /** A start, in turn with the other lifecycle operations: `starting` while it runs, `error` with why when it fails. */
  protected starting<T>(work: () => Promise<T>): Promise<T> {
    return this.serial(async () => {
      this.setState('starting');
      try {
        return await work();
      } catch (error) {
        this.setState('error', errorMessage(error));
        throw error;
      }
    });
  }

  protected serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.busy.then(work, work);
    // the chain only orders the next operation; its caller gets the error from `next`
    this.busy = next.catch(() => undefined);
    return next;
  }
}
