// Tells the agent when the kernel's links, addresses or routes change, whoever changed them
// (`ip monitor`, a netlink listener). Only the fact of a change is used — subscribers re-read the
// topology as JSON — so the monitor's text output is never parsed.
import { spawn, type ChildProcess } from 'node:child_process';
import { findBinary } from './commands.js';

export class KernelMonitor {
  private child: ChildProcess | undefined;
  private closed = false;

  constructor(private readonly onChange: () => void) {}

  async start(): Promise<void> {
    const command = ['ip', 'monitor', 'link', 'address', 'route'];
    // The monitor must not outlive a daemon that is killed with -9: setpriv's parent-death
    // signal ends it with us (setpriv is util-linux, present wherever nsenter is).
    const argv = (await findBinary('setpriv')) ? ['setpriv', '--pdeathsig', 'KILL', '--', ...command] : command;
    if (this.closed) return;
    const [file, ...args] = argv;
    if (file === undefined) return;
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'ignore'] });
    this.child = child;
    child.on('error', () => undefined);
    child.stdout?.on('data', () => this.onChange());
    child.once('exit', () => {
      if (this.child === child) this.child = undefined;
    });
  }

  close(): void {
    this.closed = true;
    this.child?.kill('SIGKILL');
    this.child = undefined;
  }
}
