// Types for build/npm-package.mjs.
export interface PinnedPackage {
  name: string;
  version: string;
  integrity: string;
}

export declare const PACKAGE_CACHE_DIR: string;
export declare function lockedPackage(name: string): Promise<PinnedPackage>;
export declare function packageFiles(source: PinnedPackage & { cacheDir?: string; log?: (line: string) => void }): Promise<string>;
