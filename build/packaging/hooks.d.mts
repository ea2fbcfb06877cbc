// Types for build/packaging/hooks.mjs (the parts the packaging test calls).
export declare function missingInitHelpers(agentDir: string): Array<{ name: string; hint: string }>;
export declare function runAsNodeFor(electronPlatformName: string): boolean;
export declare function beforePack(context: { packager: { projectDir: string } }): Promise<void>;
export declare function afterPack(context: {
  electronPlatformName: string;
  appOutDir: string;
  packager: { addElectronFuses(context: unknown, fuses: never): Promise<unknown> };
}): Promise<void>;
