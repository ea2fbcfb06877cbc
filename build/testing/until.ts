// Waiting on a real condition in a test: reads a value until it is the one wanted, and returns it.

/** Calls `read` until `done` accepts its value (at most `attempts` times, `intervalMs` apart); throws naming `what`. */
export async function until<T>(
  read: () => T | Promise<T>,
  done: (value: T) => boolean,
  what: string,
  { attempts = 500, intervalMs = 10 }: { attempts?: number; intervalMs?: number } = {},
): Promise<T> {
  for (let i = 0; i < attempts; i += 1) {
    const value = await read();
    if (done(value)) return value;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(`timed out waiting for ${what}`);
}
