// Text output never passes a terminal control sequence through (issue 14 item 7).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { textSafe } from '../../../src/cli/format.js';

test('control characters are shown escaped; printable text, UTF-8 included, is left alone', () => {
  assert.equal(textSafe('\x1b]0;pwned\x07title'), '\\x1b]0;pwned\\x07title');
  assert.equal(textSafe('50%\rdownload complete'), '50%\\rdownload complete');
  assert.equal(textSafe('a\nb\tc\x7f\u009b'), 'a\\nb\\tc\\x7f\\x9b');
  assert.equal(textSafe('Ünïcödé 名前 ok'), 'Ünïcödé 名前 ok');
});
