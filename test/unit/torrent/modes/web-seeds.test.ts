/** Web seeds (BEP 19) through the rig: a download from a fake fetchRange alone; a lying web seed is disabled. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { RangeFetch } from '../../../../src/webseed/http-range.js';
import { ScriptedPeer, TorrentRig, makeTestTorrent } from '../../../helpers/torrent-rig.js';

describe('web seeds on the rig', () => {
  it('a torrent downloads from its web seed alone', async () => {
    const t = makeTestTorrent({ pieces: 8, urlList: ['http://ws.example/rig'] });
    const calls: string[] = [];
    const fetchRange: RangeFetch = async (url, start, length) => {
      calls.push(`${url} ${start}+${length}`);
      return t.content.slice(start, start + length);
    };
    const rig = new TorrentRig({ torrent: t, fetchRange });
    await rig.start();
    assert.equal(calls.length, 0, 'web seeds are first asked on the next tick');
    await rig.advance(1000);
    assert.equal(rig.torrent.state, 'seeding');
    assert.ok(calls.length >= 1 && calls.every((c) => c.startsWith('http://ws.example/rig ')));
    assert.deepEqual(rig.torrent.webSeeds, [{ url: 'http://ws.example/rig', state: 'active', downloaded: t.meta.info.totalLength }]);
    assert.equal(rig.torrent.stats().downloaded, t.meta.info.totalLength);
  });

  it('a web seed whose data fails the hash check is disabled; a peer finishes the download', async () => {
    const t = makeTestTorrent({ pieces: 4, urlList: ['http://bad.example/rig'] });
    const fetchRange: RangeFetch = async (_url, start, length) => t.content.slice(start, start + length).map((b) => b ^ 1);
    const rig = new TorrentRig({ torrent: t, fetchRange, settings: { hashFailuresToBan: 3 } });
    await rig.start();
    await rig.advance(1000);
    const [ws] = rig.torrent.webSeeds;
    assert.equal(ws!.state, 'disabled');
    assert.equal(ws!.error, 'its data failed the hash check');
    assert.ok(rig.eventsOf('hash-failed').length >= 2);
    assert.ok(rig.eventsOf('warning').some(([w]) => w === 'web seed http://bad.example/rig disabled: its data failed the hash check'));
    assert.equal(rig.torrent.state, 'downloading');
    const p = await rig.connect();
    p.servePieces(rig.content, rig.meta.info.pieceLength);
    p.send({ type: 'bitfield', bits: ScriptedPeer.bits(4) }, { type: 'unchoke' });
    await rig.settle();
    assert.equal(rig.torrent.state, 'seeding');
  });

  it('a failing web seed waits and is retried by the ticker', async () => {
    const t = makeTestTorrent({ pieces: 2, urlList: ['http://flaky.example/rig'] });
    let fail = true;
    let calls = 0;
    const fetchRange: RangeFetch = async (_url, start, length) => {
      calls++;
      if (fail) throw new Error('HTTP 503');
      return t.content.slice(start, start + length);
    };
    const rig = new TorrentRig({ torrent: t, fetchRange });
    await rig.start();
    await rig.advance(1000);
    const [ws] = rig.torrent.webSeeds;
    assert.equal(ws!.state, 'waiting');
    assert.equal(ws!.retryAt, rig.clock.now() + 5000);
    const n = calls;
    fail = false;
    await rig.advance(4000);
    assert.equal(calls, n);
    await rig.advance(1000);
    assert.equal(rig.torrent.state, 'seeding');
  });
});
