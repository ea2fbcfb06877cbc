// Schemas built on their first use. Every zod schema is an object graph of its own (about 1 KiB a
// node, closures included), and the agent's bundle evaluates every module of `shared/` at start-up:
// a family that only some requests need (the Docker API's bodies, results only the host checks)
// would sit in the idle daemon's heap for nothing (issue 12: idle RSS). Wrapped, such a family
// costs one node until something parses with it; its type (`z.infer`) and its single definition
// stay as they were.
import * as z from 'zod';

/**
 * `build` runs once, on the first parse (or `unwrap()`, for deriving another schema from it: zod's
 * own `unwrap` of a lazy calls its getter again, so the result is memoized here).
 */
export function lazySchema<T extends z.ZodType>(build: () => T): z.ZodLazy<T> {
  let built: T | undefined;
  return z.lazy(() => (built ??= build()));
}
