/**
 * PeerConnection as a message pipe: shapeError (pure), and who is blamed for what — a message that cannot be
 * decoded or has the wrong shape is the peer's protocol error; an exception in the handler is ours (onError).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../../src/core/fake-clock.js';
import { PeerConnection, shapeError } from '../../../src/peer/peer-connection.js';
import type { PeerHandler } from '../../../src/peer/peer-connection.js';
import { memoryPair } from '../../../src/transport/memory/memory-transport.js';
import type { Connection } from '../../../src/transport/types.js';
import { FrameDecoder, encodeHandshake, encodeMessage, makeReserved } from '../../../src/wire/index.js';
import type { Message } from '../../../src/wire/index.js';
import { settle } from '../../helpers/torrent-rig.js';

describe('shapeError', () => {
  it('checks piece indices, bitfield length and spare bits, and fast-only messages', () => {
    assert.equal(shapeError({ type: 'have', index: 9 }, 10, false), undefined);
    assert.equal(shapeError({ type: 'have', index: 10 }, 10, false), 'have for piece 10 out of range');
    assert.equal(shapeError({ type: 'piece', index: 10, begin: 0, block: new Uint8Array(1) }, 10, false), 'piece index out of range');
    assert.equal(shapeError({ type: 'bitfield', bits: new Uint8Array([0xff, 0xc0]) }, 10, false), undefined);
    assert.equal(shapeError({ type: 'bitfield', bits: new Uint8Array([0xff, 0xe0]) }, 10, false), 'bitfield has the wrong length or spare bits set');
    assert.equal(shapeError({ type: 'bitfield', bits: new Uint8Array([0xff]) }, 10, false), 'bitfield has the wrong length or spare bits set');
    for (const m of [{ type: 'have-all' }, { type: 'have-none' }, { type: 'reject', index: 0, begin: 0, length: 1 }] as Message[]) {
      assert.equal(shapeError(m, 10, true), undefined);
      assert.equal(shapeError(m, 10, false), `${m.type} without the fast extension`);
    }
    assert.equal(shapeError({ type: 'request', index: 99, begin: 0, length: 1 }, 10, false), undefined, 'requests are the torrent\'s to check');
    assert.equal(shapeError({ type: 'unchoke' }, 10, false), undefined);
  });
});

interface Pipe {
  peer: PeerConnection;
  remote: Connection;
  messages: Message[];
  closes: string[];
  errors: { err: unknown; msg: Message }[];
}

/** A started PeerConnection over a memory pair; `handle` may throw; `onError` absent when `withOnError` is false. */
function pipe(o: { pieceCount?: number; fast?: boolean; handle?: (m: Message) => void; withOnError?: boolean; before?: Uint8Array } = {}): Pipe {
  const [local, remote] = memoryPair();
  const messages: Message[] = [];
  const closes: string[] = [];
  const errors: Pipe['errors'] = [];
  const handler: PeerHandler = {
    onMessage: (_p, m) => {
      messages.push(m);
      o.handle?.(m);
    },
    onClose: (_p, r) => closes.push(r),
    onDrain: () => {},
  };
  if (o.withOnError !== false) handler.onError = (_p, err, msg) => errors.push({ err, msg });
  const decoder = new FrameDecoder({ maxMessageLength: 64 * 1024 });
  if (o.before) decoder.push(o.before);
  const peer = new PeerConnection({
    conn: local,
    peerId: new Uint8Array(20),
    reserved: makeReserved({ fast: o.fast === true }),
    decoder,
    pieceCount: o.pieceCount ?? 10,
    clock: new FakeClock(),
    handler,
  });
  remote.setHandlers({ onData: () => {}, onDrain: () => {}, onClose: () => {} });
  peer.start();
  return { peer, remote, messages, closes, errors };
}

describe('PeerConnection', () => {
  it('delivers bytes buffered behind the handshake first, then what arrives', async () => {
    const p = pipe({ before: encodeMessage({ type: 'unchoke' }) });
    await settle();
    p.remote.write(encodeMessage({ type: 'have', index: 3 }));
    await settle();
    assert.deepEqual(p.messages, [{ type: 'unchoke' }, { type: 'have', index: 3 }]);
    assert.deepEqual(p.closes, []);
  });

  it('a handler exception goes to onError (our bug): the pipe does not close the peer, the next message is still read', async () => {
    let n = 0;
    const p = pipe({
      handle: () => {
        if (n++ === 0) throw new Error('boom');
      },
    });
    p.remote.write(new Uint8Array([...encodeMessage({ type: 'have', index: 1 }), ...encodeMessage({ type: 'have', index: 2 })]));
    await settle();
    assert.equal(p.errors.length, 1);
    assert.equal((p.errors[0]!.err as Error).message, 'boom');
    assert.deepEqual(p.errors[0]!.msg, { type: 'have', index: 1 });
    assert.deepEqual(p.closes, [], 'not blamed on the peer');
    assert.equal(p.messages.length, 2);
    assert.equal(p.peer.isClosed, false);
  });

  it("without onError a handler exception closes with 'internal error', never 'protocol error'", async () => {
    const p = pipe({
      withOnError: false,
      handle: () => {
        throw new Error('kaput');
      },
    });
    p.remote.write(encodeMessage({ type: 'interested' }));
    await settle();
    assert.deepEqual(p.closes, ['internal error: kaput']);
  });

  it('a frame that cannot be decoded is a protocol error', async () => {
    const p = pipe();
    p.remote.write(new Uint8Array([0, 0, 0, 3, 4, 0, 0])); // have (id 4) with a 2-byte payload
    await settle();
    assert.equal(p.closes.length, 1);
    assert.match(p.closes[0]!, /^protocol error: /);
    assert.deepEqual(p.errors, []);
    assert.equal(p.peer.isClosed, true);
  });

  it('an oversized frame and a second handshake are protocol errors', async () => {
    const big = pipe();
    big.remote.write(new Uint8Array([0, 0x10, 0, 0, 7]));
    await settle();
    assert.match(big.closes[0]!, /^protocol error: /);
    const again = pipe();
    again.remote.write(encodeHandshake({ reserved: new Uint8Array(8), infoHash: new Uint8Array(20), peerId: new Uint8Array(20) }));
    await settle();
    assert.match(again.closes[0]!, /^protocol error: /);
  });

  it('a message of the wrong shape closes the peer with the reason; nothing after it is delivered', async () => {
    const p = pipe({ pieceCount: 4 });
    p.remote.write(new Uint8Array([...encodeMessage({ type: 'have', index: 4 }), ...encodeMessage({ type: 'unchoke' })]));
    await settle();
    assert.deepEqual(p.closes, ['have for piece 4 out of range']);
    assert.deepEqual(p.messages, []);
    // While the metadata is fetched (pieceCount 0) piece messages are not checked.
    const m = pipe({ pieceCount: 0 });
    m.remote.write(encodeMessage({ type: 'have', index: 400 }));
    await settle();
    assert.deepEqual(m.messages, [{ type: 'have', index: 400 }]);
    assert.deepEqual(m.closes, []);
  });

  it('counts piece bytes and activity times; a remote close is reported once', async () => {
    const p = pipe();
    p.remote.write(encodeMessage({ type: 'piece', index: 0, begin: 0, block: new Uint8Array(1000) }));
    await settle();
    assert.equal(p.peer.down.total, 1000);
    assert.equal(p.peer.lastPieceAt, 1_000_000);
    p.remote.close(false);
    await settle();
    assert.deepEqual(p.closes, ['closed by peer']);
    p.peer.close('again');
    assert.deepEqual(p.closes, ['closed by peer']);
    p.peer.send({ type: 'unchoke' }); // ignored once closed
  });
});
