// Schemas built on their first use. Every zod schema is an object graph of its own (about 1 KiB a
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

/** What a wrapper holds: how to build its schema, then the schema. */
interface Deferred {
  readonly build: () => z.ZodType;
  built: z.ZodType | undefined;
}

function schemaOf(deferred: Deferred): z.ZodType {
  deferred.built ??= deferred.build();
  return deferred.built;
}

/**
 * One handler for every wrapper (a wrapper costs its proxy and target only). The target is never
 * frozen and holds only configurable properties, so no invariant of these traps binds it.
 */
const forward: ProxyHandler<Deferred> = {
  // The schema's own `this`: zod's methods (bound on first read) and its internals see the real schema.
  get: (deferred, key) => Reflect.get(schemaOf(deferred), key),
  set: (deferred, key, value) => Reflect.set(schemaOf(deferred), key, value),
  has: (deferred, key) => Reflect.has(schemaOf(deferred), key),
  getPrototypeOf: (deferred) => Reflect.getPrototypeOf(schemaOf(deferred)),
  ownKeys: (deferred) => Reflect.ownKeys(schemaOf(deferred)),
  // Reported configurable: the target does not hold the property (zod's `_zod` is not configurable).
  getOwnPropertyDescriptor: (deferred, key) => {
    const descriptor = Reflect.getOwnPropertyDescriptor(schemaOf(deferred), key);
    return descriptor && { ...descriptor, configurable: true };
  },
  defineProperty: (deferred, key, descriptor) => Reflect.defineProperty(schemaOf(deferred), key, descriptor),
  deleteProperty: (deferred, key) => Reflect.deleteProperty(schemaOf(deferred), key),
};

/** `build` runs once, on the first use of any of the schema's properties (parse, shape, unwrap...). */
export function lazySchema<T extends z.ZodType>(build: () => T): T {
  const deferred: Deferred = { build, built: undefined };
  return new Proxy(deferred, forward) as unknown as T;
}
