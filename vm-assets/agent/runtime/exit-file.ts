// The exit file the init helper's supervisor writes (atomically) when a container ends.
import { readFile } from 'node:fs/promises';
import { z } from 'zod';

export const ExitFile = z.object({
  exitCode: z.number().int(),
  signal: z.string().nullable().optional(),
  finishedAt: z.string().optional(),
  error: z.string().nullable().optional(),
  /** Set when the supervisor unmounted the rootfs itself (how long it took). */
  rootfsUnmountedMs: z.number().nonnegative().optional(),
});
export type ExitRecord = z.infer<typeof ExitFile>;

/** The exit record, or undefined while it is absent (or, never, half-written: it is renamed into place). */
export async function readExit(path: string): Promise<ExitRecord | undefined> {
  const text = await readFile(path, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    return ExitFile.parse(JSON.parse(text));
  } catch {
    return undefined;
  }
}
