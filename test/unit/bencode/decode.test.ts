// bdecode's maxTokens limit (issue 14: a token budget checked before anything is built, like libtorrent's).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bdecode } from '../../../src/bencode/index.js';

test('maxTokens: counted by a scan before anything is built; malformed input is left to the decoder', () => {
  const list = new TextEncoder().encode(`l${'i1e'.repeat(10)}e`);
  assert.deepEqual(bdecode(list, { maxTokens: 11 }), Array.from({ length: 10 }, () => 1));
  assert.throws(() => bdecode(list, { maxTokens: 10 }), /more than 10 values \(maxTokens\)/);
  const dict = new TextEncoder().encode('d1:ai1e1:b3:xyze');
  assert.ok(bdecode(dict, { maxTokens: 5 }));
  assert.throws(() => bdecode(dict, { maxTokens: 4 }), /maxTokens/);
  // A string's body is skipped whole, whatever bytes it holds.
  assert.deepEqual(bdecode(new TextEncoder().encode('l4:llll4:iiiie'), { maxTokens: 3 }), [new TextEncoder().encode('llll'), new TextEncoder().encode('iiii')]);
  for (const bad of ['l', 'i12', '5:ab', 'x', 'l99999999999999999999:e']) {
    assert.throws(() => bdecode(new TextEncoder().encode(bad), { maxTokens: 100 }), (e: unknown) => (e as { code?: string }).code === 'ERR_BENCODE');
  }
});
