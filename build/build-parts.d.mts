// Types for build/build-parts.mjs (imported by build/build.mjs and its test).
export declare const PARTS: readonly string[];
export declare function partsToBuild(args: readonly string[]): Set<string>;
