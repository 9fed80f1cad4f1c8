/** The streaming HTTP server over a seeded rig torrent: Range edge cases, HEAD, names, index, playlist, routes. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { TorrentRig } from '../../helpers/torrent-rig.js';
import { StreamManager, contentDisposition, contentType, createStreamHandler, createStreamServer } from '../../../src/stream/index.js';
import type { StreamServer } from '../../../src/stream/index.js';
import type { TorrentManager } from '../../../src/torrent/index.js';

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

function get(url: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

const NAME = 'my movie – été.mp4';

describe('stream HTTP server', () => {
  let rig: TorrentRig;
  let server: StreamServer;
  let url: string;
  let size: number;
  const source = {
    get torrentList(): TorrentManager[] {
      return [rig.torrent];
    },
    getTorrent: (h: string) => (h === rig.torrent.infoHashHex ? rig.torrent : undefined),
  };

  before(async () => {
    rig = new TorrentRig({ pieces: 5, lastPieceShort: 1000, name: NAME, seeded: true });
    await rig.start();
    assert.equal(rig.torrent.state, 'seeding');
    size = rig.meta.info.totalLength;
    server = await createStreamServer(source, new StreamManager());
    url = server.url(rig.torrent, 0);
  });
  after(async () => {
    await server.close();
  });

  it('builds URLs with the name percent-encoded; any name (or none) works', async () => {
    assert.ok(url.endsWith(`/${rig.torrent.infoHashHex}/0/${encodeURIComponent(NAME)}`), url);
    assert.ok(url.startsWith('http://127.0.0.1:'));
    for (const u of [url, url.replace(/\/[^/]*$/, ''), url.replace(/\/[^/]*$/, '/other%20name.mp4')]) {
      const a = await get(u);
      assert.equal(a.status, 200, u);
      assert.deepEqual(new Uint8Array(a.body), rig.content);
    }
  });

  it('answers a whole file with Accept-Ranges, type and disposition', async () => {
    const a = await get(url);
    assert.equal(a.status, 200);
    assert.equal(a.headers['accept-ranges'], 'bytes');
    assert.equal(a.headers['content-type'], 'video/mp4');
    assert.equal(a.headers['content-length'], String(size));
    assert.equal(a.headers['content-disposition'], `inline; filename="my movie _ _t_.mp4"; filename*=UTF-8''${encodeURIComponent(NAME)}`);
  });

  it('Range: N-M, open N-, suffix -N, past the end, unsatisfiable, malformed, several', async () => {
    const c = rig.content;
    const cases: [string, number, number, number][] = [
      ['bytes=0-0', 206, 0, 0],
      ['bytes=100-20000', 206, 100, 20000],
      ['bytes=70000-', 206, 70000, size - 1],
      ['bytes=-500', 206, size - 500, size - 1],
      ['bytes=-999999999', 206, 0, size - 1],
      [`bytes=${size - 10}-${size + 1000}`, 206, size - 10, size - 1],
      ['bytes=10-20,30-40', 206, 10, 20], // several: the first is answered
      ['bytes=10-20,15-40', 206, 10, 40], // overlapping ones are merged
      ['bytes=x', 200, 0, size - 1], // malformed: ignored
      ['pages=1-2', 200, 0, size - 1],
    ];
    for (const [range, status, s, e] of cases) {
      const a = await get(url, { Range: range });
      assert.equal(a.status, status, range);
      assert.equal(a.headers['accept-ranges'], 'bytes');
      assert.equal(a.headers['content-length'], String(e - s + 1), range);
      if (status === 206) assert.equal(a.headers['content-range'], `bytes ${s}-${e}/${size}`, range);
      assert.deepEqual(new Uint8Array(a.body), c.subarray(s, e + 1), range);
    }
    for (const range of ['bytes=5-1', `bytes=${size}-`, `bytes=${size + 5}-${size + 9}`, 'bytes=-0']) {
      const a = await get(url, { Range: range });
      assert.equal(a.status, 416, range);
      assert.equal(a.headers['content-range'], `bytes */${size}`);
    }
  });

  it('HEAD gives the headers without a body; other methods 405', async () => {
    const a = await get(url, { Range: 'bytes=10-' }, 'HEAD');
    assert.equal(a.status, 206);
    assert.equal(a.headers['content-length'], String(size - 10));
    assert.equal(a.body.length, 0);
    assert.equal((await get(url, {}, 'POST')).status, 405);
  });

  it('404 for an unknown torrent, file or path', async () => {
    const base = `http://127.0.0.1:${server.port}`;
    assert.equal((await get(`${base}/${'0'.repeat(40)}/0`)).status, 404);
    assert.equal((await get(`${base}/${rig.torrent.infoHashHex}/1`)).status, 404);
    assert.equal((await get(`${base}/nothing/here`)).status, 404);
  });

  it('an index page and an M3U playlist', async () => {
    const base = `http://127.0.0.1:${server.port}`;
    const idx = await get(`${base}/`);
    assert.equal(idx.status, 200);
    assert.match(idx.headers['content-type']!, /text\/html/);
    const page = idx.body.toString('utf8');
    assert.ok(page.includes(`/${rig.torrent.infoHashHex}/0/${encodeURIComponent(NAME)}`), page);
    assert.ok(page.includes(`${rig.torrent.infoHashHex}.m3u`));
    const pl = await get(`${base}/${rig.torrent.infoHashHex}.m3u`);
    assert.equal(pl.status, 200);
    assert.deepEqual(pl.body.toString('utf8').split('\n'), ['#EXTM3U', `#EXTINF:-1,${NAME}`, url, '']);
  });

  it('the handler as a route under a prefix falls through for other paths', async () => {
    const route = createStreamHandler(source, new StreamManager(), { prefix: '/stream' });
    const srv = http.createServer((req, res) => {
      void Promise.resolve(route(req, res)).then((handled) => {
        if (!handled) {
          res.writeHead(418);
          res.end();
        }
      });
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    try {
      const port = (srv.address() as { port: number }).port;
      const a = await get(`http://127.0.0.1:${port}/stream/${rig.torrent.infoHashHex}/0`, { Range: 'bytes=-3' });
      assert.equal(a.status, 206);
      assert.deepEqual(new Uint8Array(a.body), rig.content.subarray(size - 3));
      assert.equal((await get(`http://127.0.0.1:${port}/rpc`)).status, 418);
      assert.equal((await get(`http://127.0.0.1:${port}/${rig.torrent.infoHashHex}/0`)).status, 418);
      assert.equal((await get(`http://127.0.0.1:${port}/stream/`)).status, 200);
    } finally {
      srv.closeAllConnections();
      await new Promise<void>((r) => srv.close(() => r()));
    }
  });

  it('content types and dispositions', () => {
    assert.equal(contentType('a.MKV'), 'video/x-matroska');
    assert.equal(contentType('noext'), 'application/octet-stream');
    assert.equal(contentDisposition('plain name.txt'), 'inline; filename="plain name.txt"');
    assert.equal(contentDisposition('a"b\\c.txt'), `inline; filename="a_b_c.txt"; filename*=UTF-8''a%22b%5Cc.txt`);
    assert.equal(contentDisposition("日本 (1)'s.mkv"), `inline; filename="__ (1)'s.mkv"; filename*=UTF-8''%E6%97%A5%E6%9C%AC%20%281%29%27s.mkv`);
  });
});
