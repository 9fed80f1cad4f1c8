/**
 * RPC conformance (rpc-spec.md): every method in both formats — legacy (method/arguments/tag, Transmission ≤ 4.0)
 * and JSON-RPC 2.0 (Transmission 4.1, snake_case) — against a SessionApi over a real ClientEngine.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRpcHandler } from '../../../src/rpc/index.js';
import type { RpcHandler, RpcHandlerOptions } from '../../../src/rpc/index.js';
import { makeTestSession, makeTestTorrent } from '../../helpers/rpc-session.js';
import type { TestSession } from '../../helpers/rpc-session.js';
import { FORMATS, call, pick } from './rpc-client.js';
import type { Format } from './rpc-client.js';

const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');

async function withRig(fn: (s: TestSession, h: RpcHandler) => Promise<void>, opts: RpcHandlerOptions = {}): Promise<void> {
  const s = makeTestSession();
  const h = createRpcHandler(s, { version: '0.9.0', configDir: '/cfg', clock: s.clock, sessionId: () => 'SID', ...opts });
  try {
    await fn(s, h);
  } finally {
    await s.dispose();
  }
}

for (const fmt of FORMATS) {
  const p = (o: unknown, name: string): unknown => pick(fmt, o, name);

  test(`[${fmt}] session-get: every field, version ≥ 4.0 naming torrentkit, rpc-version 17, units`, async () => {
    await withRig(async (_s, h) => {
      const a = await call(h, fmt, 'session-get');
      assert.equal(a.ok, true);
      const v = String(p(a.args, 'version'));
      assert.match(v, /torrentkit 0\.9\.0/);
      const m = /^(\d+)\.(\d+)/.exec(v)!;
      assert.ok(Number(m[1]) * 100 + Number(m[2]) >= 400, v);
      assert.equal(p(a.args, 'rpc-version'), 17);
      assert.equal(p(a.args, 'rpc-version-minimum'), 14);
      assert.equal(p(a.args, 'download-dir'), '/downloads');
      assert.equal(p(a.args, 'config-dir'), '/cfg');
      assert.equal(p(a.args, 'session-id'), 'SID');
      assert.equal(p(a.args, 'peer-port'), 51413);
      assert.equal(p(a.args, 'seedRatioLimit'), 2);
      assert.equal(p(a.args, 'speed-limit-down-enabled'), false);
      assert.equal(p(a.args, 'encryption'), 'preferred');
      assert.equal(p(a.args, 'download-dir-free-space'), -1, 'no statfs: unknown');
      const units = p(a.args, 'units') as Record<string, unknown>;
      assert.equal(p(units, 'speed-bytes'), 1000);
      assert.deepEqual(p(units, 'size-units'), ['kB', 'MB', 'GB', 'TB']);
      if (fmt === 'jsonrpc') assert.equal('rpc-version' in a.args, false, 'JSON-RPC answers in snake_case only');
      // `fields` narrows the answer; unknown names are ignored; either spelling is accepted.
      const b = await call(h, fmt, 'session-get', { fields: ['version', 'download-dir', 'download_dir', 'no-such-field'] });
      assert.deepEqual(Object.keys(b.args).sort(), fmt === 'legacy' ? ['download-dir', 'version'] : ['download_dir', 'version']);
    });
  });

  test(`[${fmt}] session-get: tolerated encryption reads 'allowed' in JSON-RPC (4.1 rename)`, async () => {
    await withRig(async (s, h) => {
      await s.updateSettings({ encryption: 'tolerated' });
      const a = await call(h, fmt, 'session-get', { fields: ['encryption'] });
      assert.equal(p(a.args, 'encryption'), fmt === 'legacy' ? 'tolerated' : 'allowed');
    });
  });

  test(`[${fmt}] session-set: settings by any spelling, stored-only keys echoed, wrong types refused`, async () => {
    await withRig(async (s, h) => {
      let a = await call(h, fmt, 'session-set', { 'speed-limit-down': 300, 'speed-limit-down-enabled': true, seedRatioLimit: 1.5, encryption: 'required', 'incomplete-dir-enabled': true, 'no-such-key': 1 });
      assert.equal(a.ok, true, a.error);
      assert.equal(s.settings.speedLimitDown, 300);
      assert.equal(s.settings.speedLimitDownEnabled, true);
      assert.equal(s.settings.seedRatioLimit, 1.5);
      assert.equal(s.settings.encryption, 'required');
      a = await call(h, fmt, 'session-get', { fields: ['incomplete-dir-enabled', 'speed-limit-down'] });
      assert.equal(p(a.args, 'incomplete-dir-enabled'), true);
      assert.equal(p(a.args, 'speed-limit-down'), 300);
      for (const bad of [{ 'speed-limit-down': 'fast' }, { 'speed-limit-down': 1e300 }, { 'dht-enabled': 'yes' }, { 'peer-port': 70000 }, { encryption: 'maybe' }, { 'download-dir': 'relative/dir' }, { 'download-dir': '' }]) {
        const e = await call(h, fmt, 'session-set', bad);
        assert.equal(e.ok, false, JSON.stringify(bad));
        if (fmt === 'jsonrpc') assert.equal(e.code, -32602);
      }
      assert.equal(s.settings.speedLimitDown, 300, 'a refused set changes nothing');
    });
  });

  test(`[${fmt}] session-stats and session-close`, async () => {
    await withRig(async (s, h) => {
      const t = makeTestTorrent('a.bin');
      s.provide(t);
      await s.add(t.bytes);
      await s.add(makeTestTorrent('b.bin').bytes, { paused: true });
      const a = await call(h, fmt, 'session-stats');
      assert.equal(p(a.args, 'torrentCount'), 2);
      assert.equal(p(a.args, 'activeTorrentCount'), 1);
      assert.equal(p(a.args, 'pausedTorrentCount'), 1);
      assert.equal(typeof p(a.args, 'downloadSpeed'), 'number');
      assert.equal(p(p(a.args, 'cumulative-stats'), 'sessionCount'), 3);
      assert.equal(p(p(a.args, 'current-stats'), 'uploadedBytes'), 10);
      const c = await call(h, fmt, 'session-close');
      assert.equal(c.ok, true);
      assert.equal(s.closed, true);
    });
  });

  test(`[${fmt}] torrent-add: metainfo, duplicate, options, magnet, URL and path through the injected readers`, async () => {
    const fetched: string[] = [];
    const u = makeTestTorrent('from-url.bin');
    const f = makeTestTorrent('from-file.bin');
    await withRig(
      async (s, h) => {
        const t = makeTestTorrent('multi', { files: [{ path: ['a.txt'], length: 20000 }, { path: ['b.txt'], length: 30000 }] });
        let a = await call(h, fmt, 'torrent-add', { metainfo: b64(t.bytes), paused: true, 'download-dir': '/data', labels: ['x', 'y'], 'files-unwanted': [1], 'peer-limit': 7, bandwidthPriority: 1 });
        assert.equal(a.ok, true, a.error);
        const added = p(a.args, 'torrent-added');
        assert.deepEqual(added, fmt === 'legacy' ? { hashString: t.meta.infoHashHex, id: 1, name: 'multi' } : { hash_string: t.meta.infoHashHex, id: 1, name: 'multi' });
        const rec = s.get(1)!.record;
        assert.equal(rec.started, false);
        assert.equal(rec.downloadDir, '/data');
        assert.deepEqual(rec.labels, ['x', 'y']);
        assert.deepEqual(rec.wanted, [true, false]);
        assert.equal(rec.peerLimit, 7);
        assert.equal(rec.bandwidthPriority, 1);
        a = await call(h, fmt, 'torrent-add', { metainfo: b64(t.bytes) });
        assert.equal(a.ok, true, 'a duplicate is still success');
        assert.equal((p(a.args, 'torrent-duplicate') as { id: number }).id, 1);
        assert.equal(p(a.args, 'torrent-added'), undefined);
        a = await call(h, fmt, 'torrent-add', { filename: `magnet:?xt=urn:btih:${'ab'.repeat(20)}&dn=mag`, paused: true });
        assert.equal((p(a.args, 'torrent-added') as { name: string }).name, 'mag');
        a = await call(h, fmt, 'torrent-add', { filename: 'https://example.org/x.torrent', paused: true });
        assert.equal(a.ok, true, a.error);
        assert.deepEqual(fetched, ['https://example.org/x.torrent']);
        a = await call(h, fmt, 'torrent-add', { filename: '/watch/f.torrent', paused: true });
        assert.equal((p(a.args, 'torrent-added') as { name: string }).name, 'from-file.bin');
        // Failures.
        for (const [args, code] of [
          [{ metainfo: b64(new TextEncoder().encode('not a torrent')) }, 9],
          [{ metainfo: '!!!not base64!!!' }, 9],
          [{}, -32602],
          [{ filename: '/nope.torrent' }, 5],
          [{ filename: 'https://example.org/404' }, 8],
          [{ metainfo: b64(t.bytes), 'download-dir': 'relative' }, 3],
          [{ metainfo: 12 }, -32602],
          [{ metainfo: b64(makeTestTorrent('l').bytes), labels: ['a,b'] }, -32602],
        ] as const) {
          const e = await call(h, fmt, 'torrent-add', args as Record<string, unknown>);
          assert.equal(e.ok, false, JSON.stringify(args));
          assert.ok(e.error && e.error.length > 0);
          if (fmt === 'jsonrpc') assert.equal(e.code, code, JSON.stringify(args));
        }
        assert.equal(s.list().length, 4);
      },
      {
        fetchUrl: async (url) => {
          fetched.push(url);
          if (url.endsWith('404')) throw new Error('HTTP 404');
          return u.bytes;
        },
        readFile: async (path) => {
          if (path !== '/watch/f.torrent') throw new Error('ENOENT');
          return f.bytes;
        },
      },
    );
  });

  test(`[${fmt}] torrent-add by URL or path without an injected reader: a clear error`, async () => {
    await withRig(async (_s, h) => {
      for (const filename of ['http://example.org/a.torrent', '/tmp/a.torrent']) {
        const e = await call(h, fmt, 'torrent-add', { filename });
        assert.equal(e.ok, false);
        assert.match(e.error!, /not configured/);
      }
    });
  });

  test(`[${fmt}] torrent-get: ids forms, unknown fields ignored, table format, no fields refused`, async () => {
    await withRig(async (s, h) => {
      const ts = ['a', 'b', 'c'].map((n) => makeTestTorrent(n));
      for (const t of ts) await s.add(t.bytes, { paused: true });
      const ids = async (v: unknown): Promise<number[]> => {
        const a = await call(h, fmt, 'torrent-get', v === undefined ? { fields: ['id'] } : { fields: ['id'], ids: v });
        assert.equal(a.ok, true, a.error);
        return (a.args.torrents as Array<{ id: number }>).map((t) => t.id);
      };
      assert.deepEqual(await ids(undefined), [1, 2, 3]);
      assert.deepEqual(await ids(2), [2]);
      assert.deepEqual(await ids([3, 1]), [3, 1]);
      assert.deepEqual(await ids([ts[1]!.meta.infoHashHex.toUpperCase(), 99, 3]), [2, 3]);
      assert.deepEqual(await ids([]), []);
      assert.deepEqual(await ids(99), []);
      for (const bad of [{ x: 1 }, 1.5, [true], 'not-a-keyword', 2 ** 80]) {
        const a = await call(h, fmt, 'torrent-get', { fields: ['id'], ids: bad });
        if (bad === 'not-a-keyword') {
          assert.equal(a.ok, true);
          assert.deepEqual(a.args.torrents, []);
        } else assert.equal(a.ok, false, JSON.stringify(bad));
      }
      const a = await call(h, fmt, 'torrent-get', { fields: ['id', 'name', 'hashString', 'noSuchField', 'name'], ids: [1] });
      assert.deepEqual(a.args.torrents, [fmt === 'legacy' ? { id: 1, name: 'a', hashString: ts[0]!.meta.infoHashHex } : { id: 1, name: 'a', hash_string: ts[0]!.meta.infoHashHex }]);
      const tab = await call(h, fmt, 'torrent-get', { fields: ['id', 'name'], format: 'table' });
      assert.deepEqual(tab.args.torrents, [['id', 'name'], [1, 'a'], [2, 'b'], [3, 'c']]);
      const none = await call(h, fmt, 'torrent-get', {});
      assert.equal(none.ok, false);
      assert.match(none.error!, /no fields/);
      const badFormat = await call(h, fmt, 'torrent-get', { fields: ['id'], format: 'xml' });
      assert.equal(badFormat.ok, false);
    });
  });

  test(`[${fmt}] torrent-get recently-active: torrents active in the last 60 s, and removed ids`, async () => {
    await withRig(async (s, h) => {
      for (const n of ['a', 'b', 'c']) await s.add(makeTestTorrent(n).bytes, { paused: true });
      s.clock.advance(120_000);
      s.record(s.get(2)!).activityDate = s.nowSec - 10;
      await s.remove(s.get(3)!);
      const a = await call(h, fmt, 'torrent-get', { fields: ['id'], ids: fmt === 'legacy' ? 'recently-active' : 'recently_active' });
      assert.deepEqual(a.args.torrents, [{ id: 2 }]);
      assert.deepEqual(a.args.removed, [3]);
      s.clock.advance(61_000);
      const b = await call(h, fmt, 'torrent-get', { fields: ['id'], ids: 'recently-active' });
      assert.deepEqual(b.args.torrents, []);
      assert.deepEqual(b.args.removed, []);
      const c = await call(h, fmt, 'torrent-get', { fields: ['id'] });
      assert.equal(c.args.removed, undefined, 'removed only with recently-active');
    });
  });

  test(`[${fmt}] torrent actions: start, start-now, stop, verify, reannounce, remove (delete-local-data)`, async () => {
    await withRig(async (s, h) => {
      const t = makeTestTorrent('a');
      s.provide(t);
      await s.add(t.bytes, { paused: true });
      await s.add(makeTestTorrent('b').bytes, { paused: true });
      const status = async (id: number): Promise<number> => {
        const a = await call(h, fmt, 'torrent-get', { fields: ['status'], ids: [id] });
        return (a.args.torrents as Array<{ status: number }>)[0]!.status;
      };
      assert.equal(await status(1), 0);
      assert.equal((await call(h, fmt, 'torrent-start', { ids: [1] })).ok, true);
      assert.equal(await status(1), 6, 'complete data: seeding');
      assert.equal((await call(h, fmt, 'torrent-start-now', { ids: 2 })).ok, true);
      assert.equal(await status(2), 4, 'no data: downloading');
      assert.equal((await call(h, fmt, 'torrent-stop', { ids: [1] })).ok, true);
      assert.equal(await status(1), 0);
      assert.equal((await call(h, fmt, 'torrent-verify', { ids: [1] })).ok, true);
      assert.equal((await call(h, fmt, 'torrent-reannounce', { ids: [2] })).ok, true);
      assert.equal((await call(h, fmt, 'torrent-remove', { ids: [2], 'delete-local-data': true })).ok, true);
      assert.deepEqual(s.calls.filter((c) => !c.startsWith('set')), ['start 1', 'start 2 now', 'stop 1', 'verify 1', 'reannounce 2', 'remove 2 delete']);
      assert.equal(s.list().length, 1);
      const bad = await call(h, fmt, 'torrent-remove', { ids: [1], 'delete-local-data': 'yes' });
      assert.equal(bad.ok, false);
      assert.equal(s.list().length, 1);
    });
  });

  test(`[${fmt}] torrent-set: every patch key from its RPC name, empty file lists mean all, index and type checks`, async () => {
    await withRig(async (s, h) => {
      await s.add(makeTestTorrent('m', { files: [{ path: ['a'], length: 20000 }, { path: ['b'], length: 20000 }, { path: ['c'], length: 100 }] }).bytes, { paused: true });
      const a = await call(h, fmt, 'torrent-set', {
        ids: [1],
        bandwidthPriority: -1,
        downloadLimit: 50,
        downloadLimited: true,
        uploadLimit: 60,
        uploadLimited: true,
        honorsSessionLimits: false,
        'files-unwanted': [],
        'priority-high': [2],
        labels: ['tv'],
        'peer-limit': 9,
        queuePosition: 0,
        seedRatioLimit: 3.5,
        seedRatioMode: 1,
        seedIdleLimit: 10,
        seedIdleMode: 2,
        trackerAdd: ['http://tracker.example.org/announce'],
        location: '/elsewhere',
      });
      assert.equal(a.ok, true, a.error);
      const r = s.get(1)!.record;
      assert.deepEqual(
        [r.bandwidthPriority, r.downloadLimit, r.downloadLimited, r.uploadLimit, r.uploadLimited, r.honorsSessionLimits, r.peerLimit, r.seedRatioLimit, r.seedRatioMode, r.seedIdleLimit, r.seedIdleMode, r.downloadDir],
        [-1, 50, true, 60, true, false, 9, 3.5, 1, 10, 2, '/elsewhere'],
      );
      assert.deepEqual(r.wanted, [false, false, false]);
      assert.deepEqual(r.priorities, [0, 0, 1]);
      assert.deepEqual(r.labels, ['tv']);
      assert.deepEqual(r.addedTrackers, [['http://tracker.example.org/announce']]);
      const seq = await call(h, fmt, 'torrent-set', fmt === 'legacy' ? { ids: 1, sequential_download: true } : { ids: 1, sequentialDownload: true });
      assert.equal(seq.ok, true);
      assert.equal(r.sequential, true);
      const tl = await call(h, fmt, 'torrent-set', { ids: 1, trackerList: 'http://a.example/announce\n\nudp://b.example:80' });
      assert.equal(tl.ok, true, tl.error);
      assert.deepEqual(r.addedTrackers, [['http://a.example/announce'], ['udp://b.example:80']]);
      const oor = await call(h, fmt, 'torrent-set', { ids: [1], 'files-wanted': [3] });
      assert.equal(oor.ok, false);
      if (fmt === 'jsonrpc') assert.equal(oor.code, 6);
      for (const bad of [{ downloadLimit: -1 }, { downloadLimit: 'x' }, { seedRatioMode: 3 }, { labels: 'tv' }, { labels: [''] }, { 'files-wanted': [-1] }, { location: 'rel' }, { trackerList: 'not a url' }, { bandwidthPriority: 5 }]) {
        const e = await call(h, fmt, 'torrent-set', { ids: [1], ...bad });
        assert.equal(e.ok, false, JSON.stringify(bad));
      }
      assert.equal(r.downloadLimit, 50);
    });
  });

  test(`[${fmt}] torrent-set-location and torrent-rename-path`, async () => {
    await withRig(async (s, h) => {
      await s.add(makeTestTorrent('one.bin').bytes, { paused: true });
      await s.add(makeTestTorrent('two.bin').bytes, { paused: true });
      let a = await call(h, fmt, 'torrent-set-location', { ids: [1], location: '/new', move: true });
      assert.equal(a.ok, true, a.error);
      assert.ok(s.calls.includes('setLocation 1 /new true'));
      a = await call(h, fmt, 'torrent-set-location', { ids: [1], location: 'new' });
      assert.equal(a.ok, false);
      if (fmt === 'jsonrpc') assert.equal(a.code, 3);
      a = await call(h, fmt, 'torrent-set-location', { ids: [1] });
      assert.equal(a.ok, false);
      a = await call(h, fmt, 'torrent-rename-path', { ids: [1], path: 'one.bin', name: 'uno.bin' });
      assert.equal(a.ok, true, a.error);
      assert.deepEqual(a.args, { id: 1, name: 'uno.bin', path: 'one.bin' });
      const n = await call(h, fmt, 'torrent-get', { ids: [1], fields: ['name'] });
      assert.deepEqual(n.args.torrents, [{ name: 'uno.bin' }]);
      for (const bad of [
        { ids: [1, 2], path: 'one.bin', name: 'x' },
        { path: 'one.bin', name: 'x' },
        { ids: [1], path: 'uno.bin', name: '../escape' },
        { ids: [1], path: 'uno.bin', name: '..' },
        { ids: [1], path: 'missing', name: 'x' },
        { ids: [1], name: 'x' },
      ]) {
        const e = await call(h, fmt, 'torrent-rename-path', bad);
        assert.equal(e.ok, false, JSON.stringify(bad));
      }
    });
  });

  test(`[${fmt}] queue-move-top/up/down/bottom`, async () => {
    await withRig(async (s, h) => {
      for (const n of ['a', 'b', 'c', 'd']) await s.add(makeTestTorrent(n).bytes, { paused: true });
      const order = async (): Promise<number[]> => {
        const a = await call(h, fmt, 'torrent-get', { fields: ['id', 'queuePosition'] });
        return (a.args.torrents as Array<Record<string, number>>).sort((x, y) => (p(x, 'queuePosition') as number) - (p(y, 'queuePosition') as number)).map((t) => t.id!);
      };
      assert.equal((await call(h, fmt, 'queue-move-top', { ids: [3] })).ok, true);
      assert.deepEqual(await order(), [3, 1, 2, 4]);
      await call(h, fmt, 'queue-move-bottom', { ids: [3] });
      assert.deepEqual(await order(), [1, 2, 4, 3]);
      await call(h, fmt, 'queue-move-up', { ids: [4] });
      assert.deepEqual(await order(), [1, 4, 2, 3]);
      await call(h, fmt, 'queue-move-down', { ids: [1] });
      assert.deepEqual(await order(), [4, 1, 2, 3]);
    });
  });

  test(`[${fmt}] free-space, port-test, blocklist-update, group-get/set`, async () => {
    await withRig(
      async (_s, h) => {
        let a = await call(h, fmt, 'free-space', { path: '/downloads' });
        assert.equal(a.ok, true, a.error);
        assert.deepEqual(a.args, fmt === 'legacy' ? { path: '/downloads', 'size-bytes': 1234, total_size: 5678 } : { path: '/downloads', size_bytes: 1234, total_size: 5678 });
        a = await call(h, fmt, 'free-space', { path: 'rel' });
        assert.equal(a.ok, false);
        a = await call(h, fmt, 'free-space', {});
        assert.equal(a.ok, false);
        a = await call(h, fmt, 'session-get', { fields: ['download-dir-free-space'] });
        assert.equal(p(a.args, 'download-dir-free-space'), 1234);
        a = await call(h, fmt, 'port-test');
        assert.equal(a.ok, true);
        assert.equal(p(a.args, 'port-is-open'), false, 'no port mapping: not open');
        a = await call(h, fmt, 'port-test', { ip_protocol: 'ipv4' });
        assert.equal(a.args.ip_protocol, 'ipv4');
        a = await call(h, fmt, 'port-test', { ip_protocol: 'ipx' });
        assert.equal(a.ok, false);
        a = await call(h, fmt, 'blocklist-update');
        assert.equal(p(a.args, 'blocklist-size'), 42);
        a = await call(h, fmt, 'group-get');
        assert.deepEqual(a.args, { group: [] });
        a = await call(h, fmt, 'group-set', { name: 'g' });
        assert.equal(a.ok, true);
      },
      { statfs: async () => ({ free: 1234, total: 5678 }), updateBlocklist: async () => 42 },
    );
  });

  test(`[${fmt}] free-space and blocklist-update without injected helpers: clear errors`, async () => {
    await withRig(async (_s, h) => {
      const a = await call(h, fmt, 'free-space', { path: '/x' });
      assert.equal(a.ok, false);
      const b = await call(h, fmt, 'blocklist-update');
      assert.equal(b.ok, false);
      assert.match(b.error!, /not configured/);
    });
  });

  test(`[${fmt}] unknown method, bad params type`, async () => {
    await withRig(async (_s, h) => {
      const a = await call(h, fmt, 'torrent-explode');
      assert.equal(a.ok, false);
      if (fmt === 'legacy') assert.equal(a.error, 'method name not recognized');
      else assert.equal(a.code, -32601);
      const body = fmt === 'legacy' ? { method: 'torrent-get', arguments: [1, 2], tag: 7 } : { jsonrpc: '2.0', method: 'torrent_get', params: [1, 2], id: 42 };
      const r = JSON.parse((await h.handle(new TextEncoder().encode(JSON.stringify(body)))).body) as Record<string, unknown>;
      if (fmt === 'legacy') assert.match(String(r.result), /arguments must be an object/);
      else assert.equal((r.error as { code: number }).code, -32602);
    });
  });
}

export type { Format };
