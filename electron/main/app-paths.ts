// Where the built pieces sit, in a checkout and in an installed app. main.cjs lives in
// dist/electron/ (inside app.asar once packaged); the agent is copied beside app.asar by
// electron-builder's extraResources, because the agent runs as a plain Node process.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export interface AppLayout {
  /** The sandboxed preload script. */
  preload: string;
  /** The renderer's index.html, loaded with loadFile. */
  rendererFile: string;
  /** The same page as the file:// URL the IPC guard compares senders against. */
  rendererUrl: string;
  /** The folder holding agent.cjs and manifest.json. */
  agentDir: string;
}

export interface LayoutInputs {
  /** The folder of the running main.cjs (its __dirname). */
  mainDir: string;
  /** Electron's app.isPackaged. */
  isPackaged: boolean;
  /** Electron's process.resourcesPath (the folder that holds app.asar). */
  resourcesPath: string;
}

export function appLayout({ mainDir, isPackaged, resourcesPath }: LayoutInputs): AppLayout {
  const rendererFile = join(mainDir, '..', 'renderer', 'index.html');
  return {
    preload: join(mainDir, 'preload.cjs'),
    rendererFile,
    rendererUrl: pathToFileURL(rendererFile).href,
    agentDir: isPackaged ? join(resourcesPath, 'vm-assets', 'agent') : join(mainDir, '..', '..', 'vm-assets', 'dist', 'agent'),
  };
}
