// Lint: TypeScript recommended rules plus the layering rules from docs/architecture.md ("Layers" and "Rules"):
//   1. imports only point down the layer list (LAYERS below);
//   2. another folder is imported through its index.ts;
//   3. no import cycles;
//   4. sockets, files, HTTP, DNS, TLS, child processes and worker threads only in the named ADAPTERS;
//   5. timers, Date.now and Math.random only in core/ (and the CLI front end).
// 1-3 use eslint-plugin-import-x (no-restricted-paths, no-cycle) with the TypeScript resolver, so `.js`
// specifiers in TS ESM imports resolve to the `.ts` sources. test/unit/lint/layering.test.ts proves they bite.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

const ROOT = path.dirname(fileURLToPath(import.meta.url));

// ---- 1. Layers, bottom to top (docs/architecture.md). A layer may import any layer listed before it. ----
// 'index.ts' is src/index.ts, the public API: above the engine, below the CLI (which imports only it).
const LAYERS = [
  'core',
  'util',
  'bencode',
  'metainfo',
  'wire',
  'transport',
  'mse',
  'peer',
  'tracker',
  'dht',
  'lsd',
  'nat',
  'storage',
  'picker',
  'webseed',
  'torrent',
  'engine',
  'stream',
  'session',
  'rpc',
  'index.ts',
  'cli',
];
// Upward edges the code has today, allowed one by one. Each needs a reason.
const UPWARD_EXCEPTIONS = [];
const at = (layer) => `./src/${layer}`;
const isException = (low, high) => UPWARD_EXCEPTIONS.some(([a, b]) => a === low && b === high);

function directionZones() {
  const zones = [];
  LAYERS.forEach((low, i) => {
    for (const high of LAYERS.slice(i + 1)) {
      if (isException(low, high)) continue;
      zones.push({
        target: at(low),
        from: at(high),
        message: `Layering: ${low} may not import ${high} (imports only point down: ${LAYERS.join(' < ')}; see docs/architecture.md).`,
      });
    }
  });
  return zones;
}

// ---- 2. Index-only: from outside a folder, import only its index.ts. ----
// Within a folder (subfolders included) files import each other freely.
function indexOnlyZones() {
  const folders = LAYERS.filter((l) => l !== 'index.ts');
  const zones = folders.map((folder) => ({
    target: LAYERS.filter((l) => l !== folder).map(at),
    from: at(folder),
    except: ['./index.ts'],
    message: `Import ${folder}/ through its index.ts ('…/${folder}/index.js'); export the name there if it is missing.`,
  }));
  // The CLI is a client of the public API: it imports only src/index.ts.
  zones.push({
    target: at('cli'),
    from: './src',
    except: ['./index.ts', './cli'],
    message: 'The CLI imports only ../index.js (the public API); export what it needs there.',
  });
  return zones;
}

const importRules = (zones) => ({
  'import-x/no-restricted-paths': ['error', { basePath: ROOT, zones }],
});

// ---- 4. I/O only in adapters. ----
const IO_MODULES = ['fs', 'fs/promises', 'net', 'dgram', 'child_process', 'http', 'https', 'dns', 'tls', 'worker_threads'];
const noIo = (allowed = []) => ({
  'no-restricted-imports': [
    'error',
    {
      paths: IO_MODULES.filter((m) => !allowed.includes(m))
        .flatMap((m) => [m, `node:${m}`])
        .map((name) => ({
          name,
          message:
            'Only adapters do I/O (the ADAPTERS list in eslint.config.js): take bytes in, give bytes out, and get sockets, files and workers injected through Deps.',
        })),
    },
  ],
});
// The thin adapters that may touch node:net/dgram/fs/http(s)/dns/tls/child_process/worker_threads.
const ADAPTERS = [
  'src/core/node-*.ts',
  'src/transport/tcp/**',
  'src/transport/udp/**',
  'src/transport/socks5-connect.ts',
  'src/lsd/node-multicast.ts',
  'src/nat/node-*.ts',
  'src/storage/fs-storage.ts',
  'src/storage/create-torrent.ts',
  'src/storage/hasher.ts',
  'src/storage/resume-data.ts',
  'src/storage/node-state-files.ts',
  'src/tracker/http/http-get.ts',
  'src/webseed/http-range.ts',
  'src/mse/offload.ts',
  'src/rpc/node-*.ts',
  'src/stream/node-*.ts',
  'src/session/node-*.ts',
  'src/cli/**',
];

// ---- 5. Time and randomness are injected everywhere in src/ except core/ and the CLI front end. ----
const TIME_AND_RANDOM = {
  'no-restricted-globals': [
    'error',
    { name: 'setTimeout', message: 'Inject a Clock (src/core/clock.ts); only core/ touches timers.' },
    { name: 'setInterval', message: 'Inject a Clock (src/core/clock.ts); only core/ touches timers.' },
  ],
  'no-restricted-properties': [
    'error',
    { object: 'Date', property: 'now', message: 'Inject a Clock (src/core/clock.ts).' },
    { object: 'Math', property: 'random', message: 'Inject a Random (src/core/random.ts).' },
    { object: 'globalThis', property: 'setTimeout', message: 'Inject a Clock.' },
    { object: 'globalThis', property: 'setInterval', message: 'Inject a Clock.' },
  ],
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-empty-function': 'off',
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  // Import rules (1-3) over src/.
  {
    files: ['src/**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      // As in importX.flatConfigs.typescript: parse .ts dependencies (no-cycle follows them), resolve with tsconfig.
      'import-x/extensions': ['.ts', '.js'],
      'import-x/external-module-folders': ['node_modules', 'node_modules/@types'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: path.join(ROOT, 'tsconfig.json') })],
    },
    rules: {
      ...importRules([...directionZones(), ...indexOnlyZones()]),
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      // A path that does not resolve cannot be checked by the rules above: refuse it.
      'import-x/no-unresolved': 'error',
    },
  },
  { files: ['src/**/*.ts'], ignores: ['src/core/**', 'src/cli/**'], rules: TIME_AND_RANDOM },
  { files: ['src/**/*.ts'], ignores: ADAPTERS, rules: noIo() },
);
