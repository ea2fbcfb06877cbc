import js from '@eslint/js';
import globals from 'globals';
import reactHooks from 'eslint-plugin-react-hooks';
import tseslint from 'typescript-eslint';
import { layersPlugin } from './build/eslint-layers.mjs';
import { noSilentCatchPlugin } from './build/eslint-no-silent-catch.mjs';

export default tseslint.config(
  { ignores: ['node_modules', 'dist', 'vm-assets/dist', 'e2e/artifacts', 'test-results', 'playwright-report', '.cache'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Building a shell line from data is how injection happens; spawn argv arrays instead.
      'no-restricted-imports': [
        'error',
        ...['child_process', 'node:child_process'].map((name) => ({
          name,
          importNames: ['exec', 'execSync'],
          message: 'Spawn an argv array (spawn/execFile) instead of a shell command line.',
        })),
      ],
      'no-restricted-syntax': [
        'error',
        {
          selector: "Property[key.name='shell'][value.value=true]",
          message: 'Never run through a shell: pass an argv array.',
        },
        {
          // esbuild cannot tree-shake zod's re-exported `z` object: it pulls every locale and the
          // JSON-schema converters into a bundle (the agent's: 1.5 -> 0.93 MB, -2 MiB idle RSS).
          selector: "ImportDeclaration[source.value='zod'][importKind='value'] > ImportSpecifier[imported.name='z']",
          message: "Import zod as a namespace (import * as z from 'zod'): the named `z` keeps all of zod in a bundle.",
        },
      ],
    },
  },
  {
    // DESIGN.md §2's import direction, from the table in build/eslint-layers.mjs.
    files: ['**/*.{ts,tsx,mts,cts,js,mjs}'],
    plugins: { layers: layersPlugin },
    rules: { 'layers/import-direction': 'error' },
  },
  {
    // A swallowed error needs a comment saying why that is safe (build/eslint-no-silent-catch.mjs).
    // Tests may drop errors in their clean-up.
    files: ['**/*.{ts,tsx,mts,cts,js,mjs}'],
    ignores: ['**/*.test.ts', '**/*.test.tsx', '**/*.vm-test.ts', '**/test-*.ts', 'build/testing/**'],
    plugins: { onggi: noSilentCatchPlugin },
    rules: { 'onggi/no-silent-catch': 'error' },
  },
  {
    files: ['renderer/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
    plugins: { 'react-hooks': reactHooks },
    rules: reactHooks.configs.recommended.rules,
  },
);
