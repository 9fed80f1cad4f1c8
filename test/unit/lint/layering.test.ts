/**
 * The layering rules in eslint.config.js (docs/architecture.md "Rules") bite: ESLint's Node API lints small
 * snippets as if they were files under src/ (nothing is written) and each forbidden shape is reported by its rule.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';

/** The repository root: the nearest directory above this file with eslint.config.js (runs from dist/ or test/). */
function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'eslint.config.js'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('eslint.config.js not found above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
  return dir;
}

const root = repoRoot();
const eslint = new ESLint({ cwd: root });
// The same config without no-cycle, which would otherwise parse the whole graph below each probe (seconds for
// an import of engine/): only the cycle test needs it.
const eslintNoCycle = new ESLint({ cwd: root, overrideConfig: { rules: { 'import-x/no-cycle': 'off' } } });

type Reported = { ruleId: string | null; message: string }[];

async function lint(file: string, code: string, withCycles = false): Promise<Reported> {
  const [result] = await (withCycles ? eslint : eslintNoCycle).lintText(code, { filePath: path.join(root, file) });
  return result.messages.map((m) => ({ ruleId: m.ruleId, message: m.message }));
}

function assertReported(messages: Reported, ruleId: string, text: string): void {
  assert.ok(
    messages.some((m) => m.ruleId === ruleId && m.message.includes(text)),
    `expected ${ruleId} mentioning "${text}", got ${JSON.stringify(messages, null, 2)}`,
  );
}

test('an upward import (wire -> engine) is refused', async () => {
  const m = await lint(
    'src/wire/messages.ts',
    "import { ClientEngine as __Up } from '../engine/index.js';\nexport const __up = __Up;\n",
  );
  assertReported(m, 'import-x/no-restricted-paths', 'Layering: wire may not import engine');
});

test('an upward import of a file that does not exist is refused too', async () => {
  const m = await lint('src/wire/messages.ts', "import { X } from '../engine/no-such-file.js';\nexport const x = X;\n");
  assertReported(m, 'import-x/no-unresolved', 'no-such-file');
});

test('node:fs in the engine is refused (client-engine.ts and any other engine file)', async () => {
  const code = "import { readFileSync as __r } from 'node:fs';\nexport const __fs = __r;\n";
  assertReported(await lint('src/engine/client-engine.ts', code), 'no-restricted-imports', 'Only adapters do I/O');
  assertReported(await lint('src/engine/other.ts', code), 'no-restricted-imports', 'Only adapters do I/O');
});

test('node:http in a pure folder is refused', async () => {
  const m = await lint('src/webseed/plan.ts', "import * as http from 'node:http';\nexport const h = http;\n");
  assertReported(m, 'no-restricted-imports', 'Only adapters do I/O');
});

test('a deep cross-folder import (dht -> util/bytes.js) is refused', async () => {
  const m = await lint('src/dht/addr.ts', "import { toHex } from '../util/bytes.js';\nexport const h = toHex;\n");
  assertReported(m, 'import-x/no-restricted-paths', 'Import util/ through its index.ts');
});

test('Date.now, Math.random and setTimeout outside core/ are refused', async () => {
  const m = await lint(
    'src/torrent/choker.ts',
    'export const t = Date.now();\nexport const r = Math.random();\nsetTimeout(() => {}, 1);\n',
  );
  assertReported(m, 'no-restricted-properties', 'Inject a Clock');
  assertReported(m, 'no-restricted-properties', 'Inject a Random');
  assertReported(m, 'no-restricted-globals', 'Inject a Clock');
});

test('an import cycle is refused', async () => {
  // util/index.ts imports ./bytes.js, so bytes.ts importing the index closes a cycle.
  const m = await lint('src/util/bytes.ts', "import { Bitfield } from './index.js';\nexport const b = new Bitfield(8);\n", true);
  assertReported(m, 'import-x/no-cycle', 'Dependency cycle');
});

test('a downward import through the folder index passes', async () => {
  const m = await lint(
    'src/dht/probe.ts',
    "import { toHex } from '../util/index.js';\nimport type { Clock } from '../core/index.js';\nexport const f = (c: Clock): string => toHex(new Uint8Array([c.now() & 255]));\n",
    true,
  );
  assert.deepEqual(m, []);
});
