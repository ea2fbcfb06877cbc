// Types for build/node-pty.mjs.
export declare function nodePtyStageDir(builderOs: string, arch: string): string;
export declare function stageNodePty(target: {
  platform: string;
  arch: string;
  outDir: string;
  log?: (line: string) => void;
}): Promise<string[]>;
