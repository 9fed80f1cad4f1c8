// Lint: TypeScript recommended rules plus the layering rules from docs/architecture.md.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

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

const NO_IO = {
  'no-restricted-imports': [
    'error',
    {
      paths: ['net', 'node:net', 'dgram', 'node:dgram', 'fs', 'node:fs', 'fs/promises', 'node:fs/promises', 'child_process', 'node:child_process'].map(
        (name) => ({ name, message: 'Protocol cores do no I/O: take bytes in, give bytes out; the engine owns sockets and files.' }),
      ),
    },
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
  // Time and randomness are injected everywhere in src/ except core/ and the CLI front end.
  { files: ['src/**/*.ts'], ignores: ['src/core/**', 'src/cli/**'], rules: TIME_AND_RANDOM },
  // No sockets or files in the pure layers and the protocol/policy cores.
  {
    files: [
      'src/util/**/*.ts',
      'src/bencode/**/*.ts',
      'src/metainfo/**/*.ts',
      'src/wire/**/*.ts',
      'src/picker/**/*.ts',
      'src/peer/**/*.ts',
      'src/torrent/**/*.ts',
      'src/tracker/udp/**/*.ts',
      'src/mse/**/*.ts',
      'src/lsd/codec.ts',
      'src/lsd/service.ts',
      'src/dht/**/*.ts',
    ],
    rules: NO_IO,
  },
);
