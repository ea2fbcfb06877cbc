// Types for build/runtime.mjs (imported by tests and, later, build/build.mjs).
export interface RuntimeFile {
  format: 'xz' | 'gz';
  name: string;
  bytes: number;
  sha256: string;
}

export interface RuntimeManifest {
  kind: 'onggi-runtime';
  schema: 1;
  arch: 'x64' | 'arm64';
  node: string;
  id: string;
  glibcMin: string;
  source: { package: string; version: string; integrity: string };
  binary: { rawBytes: number; bytes: number; stripped: boolean };
  tarBytes: number;
  files: RuntimeFile[];
  /** Set when an already staged runtime was reused. */
  reused?: boolean;
}

export declare const NODE_RUNTIME: {
  version: string;
  packages: Record<'x64' | 'arm64', { name: string; integrity: string }>;
};

export declare const DEFAULT_BUNDLES_DIR: string;

export declare function manifestPath(outDir: string, arch: 'x64' | 'arm64'): string;

export declare function stageRuntime(options: {
  arch: 'x64' | 'arm64';
  outDir?: string;
  formats?: Array<'xz' | 'gz'>;
  log?: (line: string) => void;
}): Promise<RuntimeManifest>;

/** Each entry of the runtime tar and the mode it gets there, whatever the file system says. */
export declare const RUNTIME_ENTRIES: Record<string, number>;

/** Packs a staged runtime tree (bin/node, LICENSE) as a deterministic tar with the modes above. */
export declare function packRuntimeTree(tree: string, tarPath: string): Promise<void>;
