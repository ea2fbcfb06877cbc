// The import direction of DESIGN.md §2 as an ESLint rule that sees every import, export-from,
// dynamic import() and import type of every file. LAYERS is the one table: each folder, what of
// ours it may import, and which outside modules it may not. A relative specifier is judged by the
// folder it lands in (path arithmetic, no module resolution: `.js` specifiers naming `.ts` files
// need no resolver, and nothing goes unchecked because it failed to resolve).
import { builtinModules } from 'node:module';
import { dirname, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * DESIGN.md §2, "may import". `mayImport` lists folders of ours (a file may always import its own
 * folder); `browser` forbids Node built-ins (the code runs in the renderer); `electron` allows the
 * `electron` package. Folders not listed (build/, e2e/, bench/, the root config files) may import
 * anything. The most specific folder decides.
 */
export const LAYERS = [
  { folder: 'shared', mayImport: [], browser: true, why: 'shared/ imports nothing of ours and stays browser-safe' },
  { folder: 'electron/core', mayImport: ['shared'], why: 'the host core imports only shared/ and stays plain Node' },
  // `onggi serve` is how browser mode starts, so the CLI may import serve/ too (DESIGN.md §2 says
  // core and shared only; the CLI's `serve` command is the one front end hosting another).
  {
    folder: 'electron/cli',
    mayImport: ['electron/core', 'electron/serve', 'shared'],
    why: 'the CLI imports only the core, serve/ and shared/',
  },
  { folder: 'electron/serve', mayImport: ['electron/core', 'shared'], why: 'browser mode imports only the core and shared/' },
  {
    folder: 'electron/main',
    mayImport: ['electron/core', 'shared'],
    electron: true,
    why: 'the Electron shell imports only the core and shared/',
  },
  {
    folder: 'electron/preload',
    mayImport: ['electron/core', 'shared'],
    electron: true,
    why: 'the preload imports only the core and shared/',
  },
  { folder: 'renderer', mayImport: ['shared'], browser: true, why: 'the renderer imports only shared/, never the host or Node' },
  { folder: 'vm-assets', mayImport: ['shared'], why: 'the agent imports only shared/' },
];

// Tests (*.test.ts, the VM suites' *.vm-test.ts) and their support files (test-*.ts) are not
// shipped and join layers on purpose (a host core driving a real agent, the renderer's client
// against browser mode, build/ staging a runtime): the rule is for product code.
const isTest = (file) => /\.(vm-)?test\.tsx?$|(^|\/)test-[\w-]+\.ts$/.test(file);

const under = (path, folder) => path === folder || path.startsWith(`${folder}/`);
const isNodeBuiltin = (specifier) => specifier.startsWith('node:') || builtinModules.includes(specifier.split('/')[0] ?? '');

function layerOf(file) {
  let best;
  for (const layer of LAYERS) if (under(file, layer.folder) && (!best || layer.folder.length > best.folder.length)) best = layer;
  return best;
}

/** Why `specifier` may not be imported from repo-relative `file`, or undefined when it may. */
export function layerViolation(file, specifier) {
  const layer = layerOf(file);
  if (!layer || isTest(file)) return undefined;
  if (specifier.startsWith('.')) {
    const target = relative(REPO_ROOT, resolve(REPO_ROOT, dirname(file), specifier))
      .split(sep)
      .join('/');
    const allowed = [layer.folder, ...layer.mayImport];
    if (target.startsWith('..') || !allowed.some((folder) => under(target, folder))) return `${layer.why} (it lands in ${target})`;
    return undefined;
  }
  if (specifier === 'electron' && !layer.electron) return `${layer.why}: only electron/main and electron/preload import electron`;
  if (layer.browser && isNodeBuiltin(specifier)) return `${layer.why}: no Node built-ins`;
  return undefined;
}

const rule = {
  meta: { type: 'problem', schema: [], messages: { layer: '"{{specifier}}": {{why}} (DESIGN.md §2)' } },
  create(context) {
    const file = relative(REPO_ROOT, context.filename).split(sep).join('/');
    if (!layerOf(file) || isTest(file)) return {};
    const check = (source) => {
      if (source?.type !== 'Literal' || typeof source.value !== 'string') return;
      const why = layerViolation(file, source.value);
      if (why) context.report({ node: source, messageId: 'layer', data: { specifier: source.value, why } });
    };
    return {
      ImportDeclaration: (node) => check(node.source),
      ExportNamedDeclaration: (node) => check(node.source),
      ExportAllDeclaration: (node) => check(node.source),
      ImportExpression: (node) => check(node.source),
      TSImportType: (node) => check(node.argument?.type === 'TSLiteralType' ? node.argument.literal : node.argument),
      TSExternalModuleReference: (node) => check(node.expression),
    };
  },
};

export const layersPlugin = { rules: { 'import-direction': rule } };
