// Types for build/init.mjs.
export interface InitResult {
  name: string;
  path: string;
  status: 'built' | 'current' | 'skipped' | 'copied' | 'missing';
}

export declare const INIT_TARGETS: ReadonlyArray<{ name: string; nodeArch: 'x64' | 'arm64'; cross: string }>;
export declare const INIT_CFLAGS: readonly string[];
export declare function initHelperHint(name: string): string;
export declare function buildInit(options?: {
  outDir?: string;
  log?: Pick<Console, 'warn'>;
  platform?: NodeJS.Platform;
  prebuiltDir?: string;
}): Promise<InitResult[]>;
