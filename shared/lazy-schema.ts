// Schemas built on their first use. Every zod schema is an object graph of its own (about 3 KiB a
// node, closures included), and the agent's bundle evaluates every module of `shared/` at start-up:
// a family that only some requests need (networks, images, volumes, the Docker API's bodies,
// results only the host checks) would sit in the idle daemon's heap for nothing (issue 12: idle
// RSS, bench case 5). Wrapped, such a family costs one small proxy until something uses it.
//
// The wrapper stands in for the schema itself, typed as it: `.shape`, `.unwrap()`, `.extend()`,
// `instanceof` and parsing all reach the built schema (and build it), so a wrapped schema is used,
// extended and nested exactly as the plain one, and its type (`z.infer`) and single definition
// stay as they were.
import type * as z from 'zod';

/** `build` runs once, on the first use of any of the schema's properties (parse, shape, unwrap...). */
export function lazySchema<T extends z.ZodType>(build: () => T): T {
  let built: T | undefined;
  const schema = (): T => (built ??= build());
  // The target stays an empty, extensible object: no invariant of the traps below can bind it.
  return new Proxy({} as T, {
    // The schema's own `this`: zod's methods (bound on first read) and its internals see the real schema.
    get: (_target, key) => Reflect.get(schema(), key),
    set: (_target, key, value) => Reflect.set(schema(), key, value),
    has: (_target, key) => Reflect.has(schema(), key),
    getPrototypeOf: () => Reflect.getPrototypeOf(schema()),
    ownKeys: () => Reflect.ownKeys(schema()),
    // Reported configurable: the target does not hold the property (zod's `_zod` is not configurable).
    getOwnPropertyDescriptor: (_target, key) => {
      const descriptor = Reflect.getOwnPropertyDescriptor(schema(), key);
      return descriptor && { ...descriptor, configurable: true };
    },
    defineProperty: (_target, key, descriptor) => Reflect.defineProperty(schema(), key, descriptor),
    deleteProperty: (_target, key) => Reflect.deleteProperty(schema(), key),
  });
}
