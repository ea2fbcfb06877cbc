// A teardown (a container's resources released, a removal) runs every step even when an earlier
// one failed, since each frees something of its own; what failed is not swallowed but collected
// and logged once through the daemon's logger. A kernel step's failure is in the activity log
// too: the ActivityLog records every command and write with its error.
import { errorMessage } from '../../../shared/errors.js';
import type { Logger } from './logger.js';

export class Teardown {
  private readonly failures: string[] = [];

  /** `what`: whose teardown, as the log line starts ("container web: releasing its resources"). */
  constructor(
    private readonly log: Logger,
    private readonly what: string,
  ) {}

  /** Runs one step; a failure is collected and `fallback` returned, so the teardown goes on. */
  async step<T>(name: string, operation: () => Promise<T> | T, fallback: T): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      this.failures.push(`${name}: ${errorMessage(error)}`);
      return fallback;
    }
  }

  /** Logs what failed, once; nothing when every step succeeded. */
  report(): void {
    if (this.failures.length > 0) this.log.error(`${this.what}: ${this.failures.length} step(s) failed: ${this.failures.join('; ')}`);
  }
}
