// The handshake hands its decoder over with every byte that followed the handshake, including bytes that arrive
// after it resolved but before the message loop took the connection over (found by the swarm simulation).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../../src/core/index.js';
import { PeerConnection, performHandshake } from '../../../src/peer/index.js';
import { memoryPair } from '../../../src/transport/index.js';
import type { Message } from '../../../src/wire/index.js';
import { encodeHandshake, encodeMessage } from '../../../src/wire/index.js';

const infoHash = new Uint8Array(20).fill(7);
const idA = new Uint8Array(20).fill(1);
const idB = new Uint8Array(20).fill(2);
const reserved = new Uint8Array(8);

test('bytes that arrive between the handshake and the message loop reach the message loop', async () => {
  const clock = new FakeClock();
  const [a, b] = memoryPair();
  const done = performHandshake(b, { clock, timeoutMs: 10_000, reserved, peerId: idB, maxMessageLength: 1 << 20, route: () => infoHash });
  a.setHandlers({ onData: () => {}, onDrain: () => {}, onClose: () => {} });
  a.write(encodeHandshake({ reserved, infoHash, peerId: idA }));
  // Delivered at once, in a chunk of its own, before the handshake's promise callbacks run.
  a.write(encodeMessage({ type: 'have', index: 3 }));
  const { remote, decoder } = await done;
  assert.deepEqual(remote.peerId, idA);
  a.write(encodeMessage({ type: 'have', index: 4 }));
  const got: Message[] = [];
  const peer = new PeerConnection({
    conn: b,
    peerId: remote.peerId,
    reserved: remote.reserved,
    decoder,
    pieceCount: 8,
    clock,
    handler: { onMessage: (_p, m) => got.push(m), onClose: () => {}, onDrain: () => {} },
  });
  peer.start();
  await new Promise((r) => setImmediate(r)); // memory connections deliver in a microtask
  assert.deepEqual(
    got.map((m) => (m.type === 'have' ? `have ${m.index}` : m.type)),
    ['have 3', 'have 4'],
  );
});
