import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { appLayout } from './app-paths.js';

describe('appLayout', () => {
  it('finds the build outputs of a checkout', () => {
    const root = join('/', 'src', 'onggi');
    const layout = appLayout({ mainDir: join(root, 'dist', 'electron'), isPackaged: false, resourcesPath: '/unused' });
    expect(layout.preload).toBe(join(root, 'dist', 'electron', 'preload.cjs'));
    expect(layout.rendererFile).toBe(join(root, 'dist', 'renderer', 'index.html'));
    expect(layout.rendererUrl).toBe(pathToFileURL(join(root, 'dist', 'renderer', 'index.html')).href);
    expect(layout.agentDir).toBe(join(root, 'vm-assets', 'dist', 'agent'));
  });

  it('finds the agent beside app.asar in an installed app', () => {
    const resources = join('/', 'opt', 'Onggi', 'resources');
    const layout = appLayout({ mainDir: join(resources, 'app.asar', 'dist', 'electron'), isPackaged: true, resourcesPath: resources });
    expect(layout.preload).toBe(join(resources, 'app.asar', 'dist', 'electron', 'preload.cjs'));
    expect(layout.rendererFile).toBe(join(resources, 'app.asar', 'dist', 'renderer', 'index.html'));
    expect(layout.agentDir).toBe(join(resources, 'vm-assets', 'agent'));
  });
});
