/* global process, URL */
// `npm install` / `npm ci` run this (package.json "prepare"): build dist/ with tsc unless it is already newer than
// every source file. npm 11's `npx torrentkit` in this checkout installs the project into its cache as a
// `file:` package and runs prepare again each time; skipping the up-to-date build keeps that start-up fast.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const stamp = join(root, 'dist', '.build-stamp');

function newest(path) {
  let st;
  try {
    st = statSync(path);
  } catch {
    return 0;
  }
  if (!st.isDirectory()) return st.mtimeMs;
  let m = 0;
  for (const name of readdirSync(path)) m = Math.max(m, newest(join(path, name)));
  return m;
}

const sources = ['src', 'test', 'bench', 'tsconfig.json', 'package.json'].map((p) => newest(join(root, p)));
if (existsSync(stamp) && existsSync(join(root, 'dist/src/cli/main.js')) && statSync(stamp).mtimeMs > Math.max(...sources)) {
  process.exit(0);
}
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.json')], { stdio: 'inherit' });
if (r.status !== 0) process.exit(r.status ?? 1);
writeFileSync(stamp, `${new Date().toISOString()}\n`);
