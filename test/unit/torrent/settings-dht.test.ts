import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_SETTINGS, resolveSettings } from '../../../src/engine/settings.js';

test('DHT settings: on by default with the public routers; bootstrap entries are validated', () => {
  const s = resolveSettings();
  assert.equal(s.dhtEnabled, true);
  assert.deepEqual(s.dhtBootstrap, DEFAULT_SETTINGS.dhtBootstrap);
  assert.ok(s.dhtBootstrap.includes('router.bittorrent.com:6881'));
  assert.deepEqual(resolveSettings({ dhtBootstrap: ['127.0.0.1:6881', '[::1]:7000'] }).dhtBootstrap, ['127.0.0.1:6881', '[::1]:7000']);
  assert.deepEqual(resolveSettings({ dhtBootstrap: [] }).dhtBootstrap, []);
  for (const bad of ['router.bittorrent.com', 'host:0', 'host:70000', '']) {
    assert.throws(() => resolveSettings({ dhtBootstrap: [bad] }), (e: Error & { code?: string }) => e.code === 'ERR_SETTINGS', bad);
  }
  assert.throws(() => resolveSettings({ dhtEnabled: 'yes' as unknown as boolean }), /dhtEnabled/);
});
