// ESLint flat config. Besides correctness, it enforces the layers (src/main/README.md):
// the core, shared code, the renderer and the SDK never import Electron, shared
// code imports no other layer, and the renderer never reaches into main or preload;
// and, inside the core, the layers of src/main/core/README.md (CORE_LAYERS below).
// tests/unit/layering.test.ts proves each rule on files that break it.
import { builtinModules } from 'node:module'
import js from '@eslint/js'
import { defineConfig, globalIgnores } from 'eslint/config'
import prettier from 'eslint-config-prettier/flat'
import vue from 'eslint-plugin-vue'
import globals from 'globals'
import tseslint from 'typescript-eslint'
import layers from './scripts/eslint/layers.mjs'

const ELECTRON_ONLY_IN =
  'electron may be imported only by src/main/index.ts, src/main/launch.ts, src/main/shell/ and src/preload/ (layer rule, src/main/README.md).'
const NO_NODE = 'This layer also runs in the browser: no Node built-ins.'

// `paths` match a specifier exactly; `patterns` use .gitignore syntax, where a bare
// name matches any path segment (`events` would catch '../shared/events'), so Node
// built-ins go in `paths` and only the layer folders in `patterns`.
const NODE_BUILTIN_PATHS = builtinModules.map((name) => ({ name, message: NO_NODE }))
const NODE_PREFIX_PATTERN = { group: ['node:*'], message: NO_NODE }

/**
 * `no-restricted-imports` options. For one file a later block replaces an
 * earlier block's options, so every layer block lists everything it bans.
 */
function restrict({ patterns = [], paths = [] } = {}) {
  return [
    'error',
    {
      paths: [{ name: 'electron', message: ELECTRON_ONLY_IN }, ...paths],
      patterns: [{ group: ['electron/*'], message: ELECTRON_ONLY_IN }, ...patterns],
    },
  ]
}
const folders = (...names) => names.flatMap((name) => [`**/${name}`, `**/${name}/**`])

/**
 * Inside src/main/core, lowest first: a folder (`name/`) or a file at the
 * core's root (`name`) imports only from the layers below its own, and the
 * units of one layer do not import each other (scripts/eslint/layers.mjs).
 * What each is for: src/main/core/README.md.
 */
const CORE_LAYERS = [
  { name: 'base', units: ['process-identity', 'private-file', 'start-error', 'version'] },
  { name: 'log', units: ['logger'] },
  { name: 'settings', units: ['config/', 'auth/'] },
  { name: 'state', units: ['coordinator/', 'storage/'] },
  { name: 'around the coordinator', units: ['agents/', 'demo/', 'metrics/', 'schedules/'] },
  { name: 'alerts', units: ['alerts/'] },
  { name: 'pipeline', units: ['pipeline/'] },
  { name: 'cluster', units: ['cluster/'] },
  { name: 'server', units: ['server/'] },
  { name: 'composition', units: ['core'] },
  { name: 'entry', units: ['index'] },
]

export default defineConfig(
  globalIgnores([
    'out/',
    'dist/',
    'node_modules/',
    'coverage/',
    'test-results/',
    'playwright-report/',
    'bench/results/',
  ]),

  js.configs.recommended,
  tseslint.configs.recommended,
  vue.configs['flat/recommended'],

  {
    files: ['**/*.vue'],
    languageOptions: {
      parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.vue'], sourceType: 'module' },
    },
  },
  {
    languageOptions: { ecmaVersion: 2023, sourceType: 'module', globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
    },
  },
  {
    // package.json has no "type": "module", so plain .js outside src/ (bin/) is CommonJS.
    files: ['**/*.cjs', 'bin/**/*.js'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // The renderer, and the sandboxed preload, run in a browser environment.
    files: ['src/renderer/**', 'src/preload/**'],
    languageOptions: { globals: { ...globals.browser } },
  },

  // ── Layer rules ────────────────────────────────────────────────────────────
  {
    // Everywhere by default (the headless cli.ts, tests, bench, scripts): no electron.
    files: ['**/*.{ts,mts,cts,js,mjs,cjs,vue}'],
    ignores: [
      'src/main/index.ts',
      // launch.ts may use electron ONLY to resolve the runtime's binary path (what
      // `require('electron')` returns under plain Node), never its API.
      'src/main/launch.ts',
      'src/main/shell/**',
      'src/preload/**',
    ],
    rules: { 'no-restricted-imports': restrict() },
  },
  {
    // Where electron is allowed, raw ipcMain still lives in one file (typed, sender-checked handlers).
    files: ['src/main/index.ts', 'src/main/launch.ts', 'src/main/shell/**'],
    ignores: ['src/main/shell/ipc.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: 'electron',
              importNames: ['ipcMain'],
              message: 'Register IPC handlers in src/main/shell/ipc.ts only.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/main/core/**'],
    rules: {
      'no-restricted-imports': restrict({
        patterns: [
          { group: folders('shell'), message: 'The core is Electron-free: it may not use the Electron shell.' },
          { group: folders('renderer', 'preload'), message: 'The core may not import the renderer or the preload.' },
        ],
      }),
    },
  },
  {
    files: ['src/main/core/**/*.ts'],
    plugins: { layers },
    rules: {
      'layers/ordered': ['error', { root: 'src/main/core', layers: CORE_LAYERS, readme: 'src/main/core/README.md' }],
    },
  },
  {
    files: ['src/shared/**'],
    rules: {
      'no-restricted-imports': restrict({
        patterns: [
          { group: folders('main', 'renderer', 'preload', 'sdk'), message: 'src/shared imports no other layer.' },
          NODE_PREFIX_PATTERN,
        ],
        paths: NODE_BUILTIN_PATHS,
      }),
    },
  },
  {
    files: ['src/renderer/**'],
    rules: {
      'no-restricted-imports': restrict({
        patterns: [
          {
            group: folders('main', 'preload'),
            message: 'The renderer reaches main only through window.swarmMonitor (the preload) and the network.',
          },
          NODE_PREFIX_PATTERN,
        ],
        paths: NODE_BUILTIN_PATHS,
      }),
    },
  },
  {
    files: ['src/sdk/**'],
    rules: {
      'no-restricted-imports': restrict({
        patterns: [{ group: folders('main', 'renderer', 'preload'), message: 'The SDK depends on src/shared only.' }],
      }),
    },
  },

  prettier,
)
