/**
 * uTP wire interop (BEP 29): libtorrent seeds uTP-only (TCP disabled, encryption off); torrentkit's UtpTransport
 * on a real UDP socket (NodeUdpMux) dials it, does the BitTorrent handshake, receives its bitfield, then asks for
 * every piece and checks each SHA-1 against the torrent: the handshake, data, ACK and window logic all interoperate.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { NodeClock } from '../../src/core/node-clock.js';
import { NodeRandom } from '../../src/core/node-random.js';
import { parseTorrent, pieceHash } from '../../src/metainfo/index.js';
import { NodeUdpMux } from '../../src/transport/udp/udp-mux.js';
import { UtpTransport, type UtpConnection } from '../../src/transport/utp/index.js';
import { HANDSHAKE_LENGTH, decodeHandshake, decodeMessage, encodeHandshake, encodeMessage, encodeRequest, makePeerId, makeReserved } from '../../src/wire/index.js';
import type { Message } from '../../src/wire/index.js';
import { withHarness } from '../helpers/harness.js';
import { makePayload, KiB, MiB } from '../helpers/payload.js';
import { ltMakeTorrent, startLtSeed } from '../helpers/lt.js';
import { requireTools } from '../helpers/tools.js';

test('libtorrent (uTP only) and UtpTransport: handshake, bitfield and verified pieces over BEP 29', { timeout: 120_000 }, async (t) => {
  if (!requireTools(t, ['libtorrent'])) return;
  await withHarness(t, 'utp-raw-lt', async (h) => {
    const payload = await makePayload(h.path('src'), { totalSize: 4 * MiB });
    const made = ltMakeTorrent(payload.root, h.path('t.torrent'), 256 * KiB);
    const meta = parseTorrent(readFileSync(made.torrent));
    const seed = await startLtSeed(h, made.torrent, payload.dir, { transport: 'utp', encryption: 'disabled' });

    const mux = new NodeUdpMux();
    await mux.bind([{ host: '127.0.0.1', port: 0 }]);
    const utp = new UtpTransport(mux, { clock: new NodeClock(), random: new NodeRandom() });
    h.defer(async () => {
      utp.close();
      await mux.close();
    });

    const conn = await seed.proc.whileRunning(utp.dial('127.0.0.1', seed.port, { timeoutMs: 15_000 }), 'libtorrent seeder');
    h.note(`uTP connected to libtorrent on udp/${seed.port} from udp/${mux.port}`);

    // A tiny framer: the 68-byte handshake, then length-prefixed messages.
    let buf = Buffer.alloc(0);
    let gotHandshake = false;
    const messages: Message[] = [];
    let waiter: (() => void) | undefined;
    let closed: Error | string | undefined;
    conn.setHandlers({
      onData: (d) => {
        buf = Buffer.concat([buf, d]);
        if (!gotHandshake && buf.length >= HANDSHAKE_LENGTH) {
          const hs = decodeHandshake(buf.subarray(0, HANDSHAKE_LENGTH));
          assert.deepEqual(Buffer.from(hs.infoHash), Buffer.from(meta.infoHash));
          gotHandshake = true;
          buf = buf.subarray(HANDSHAKE_LENGTH);
        }
        while (gotHandshake && buf.length >= 4) {
          const len = buf.readUInt32BE(0);
          if (buf.length < 4 + len) break;
          if (len > 0) messages.push(decodeMessage(buf[4]!, buf.subarray(5, 4 + len)));
          buf = buf.subarray(4 + len);
        }
        waiter?.();
      },
      onDrain: () => {},
      onClose: (err) => {
        closed = err ?? 'closed';
        waiter?.();
      },
    });
    const waitFor = async <T extends Message['type']>(type: T, ms = 20_000): Promise<Extract<Message, { type: T }>> => {
      const deadline = Date.now() + ms;
      for (;;) {
        const m = messages.find((x) => x.type === type);
        if (m) return m as Extract<Message, { type: T }>;
        if (closed) throw new Error(`connection closed while waiting for ${type}: ${String(closed)}`);
        if (Date.now() > deadline) throw new Error(`no ${type} within ${ms} ms (got ${messages.map((x) => x.type).join(',')})`);
        await new Promise<void>((res) => {
          waiter = res;
          setTimeout(res, 200);
        });
      }
    };

    conn.write(encodeHandshake({ reserved: makeReserved({}), infoHash: meta.infoHash, peerId: makePeerId('-TK0001-', new NodeRandom().bytes(12)) }));
    const bf = await seed.proc.whileRunning(waitFor('bitfield'), 'libtorrent seeder');
    const bits = Buffer.from(bf.bits);
    assert.equal(bits.length, Math.ceil(made.pieces / 8));
    for (let i = 0; i < made.pieces; i++) assert.ok(bits[i >> 3]! & (0x80 >> (i & 7)), `libtorrent has piece ${i}`);
    h.note(`bitfield received over uTP: ${made.pieces} pieces`);

    conn.write(encodeMessage({ type: 'interested' }));
    await seed.proc.whileRunning(waitFor('unchoke'), 'libtorrent seeder');
    // Every block of every piece (4 MiB), all requested at once: libtorrent's sender runs flat out over uTP.
    const t0 = Date.now();
    const perPiece = made.pieceSize / (16 * KiB);
    for (let i = 0; i < made.pieces; i++) for (let b = 0; b < perPiece; b++) conn.write(encodeRequest(i, b * 16 * KiB, 16 * KiB));
    const deadline = Date.now() + 60_000;
    const blocks = () => messages.filter((m): m is Extract<Message, { type: 'piece' }> => m.type === 'piece');
    while (blocks().length < made.pieces * perPiece && Date.now() < deadline && !closed) {
      await new Promise<void>((res) => {
        waiter = res;
        setTimeout(res, 200);
      });
    }
    const secs = (Date.now() - t0) / 1000;
    const got = blocks();
    assert.equal(got.length, made.pieces * perPiece, `all blocks arrived (closed: ${String(closed)})`);
    for (let i = 0; i < made.pieces; i++) {
      const sha = createHash('sha1');
      for (const b of got.filter((x) => x.index === i).sort((a, b) => a.begin - b.begin)) sha.update(b.block);
      assert.deepEqual(sha.digest(), Buffer.from(pieceHash(meta.info, i)), `piece ${i} hashes to the torrent's SHA-1`);
    }
    h.note(`${made.pieces} pieces (${made.totalSize} bytes) received over uTP and verified in ${secs.toFixed(2)} s`);
    h.note(`uTP stats: ${JSON.stringify((conn as UtpConnection).stats)} ${JSON.stringify((conn as UtpConnection).debugState())}`);
    conn.close(true);
  });
});
