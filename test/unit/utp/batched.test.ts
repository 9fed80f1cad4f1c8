/**
 * uTP batched receive (UtpSocket option `batched`, what UtpTransport uses over NodeUdpMux): the in-order data of
 * a batch of datagrams reaches the reader as one chunk at endBatch(), acknowledged by one ACK; a paused reader
 * holds it; an orderly close is reported only after the data before the FIN.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../../src/core/fake-clock.js';
import { SeededRandom } from '../../../src/core/node-random.js';
import { ST_DATA, ST_STATE, UtpSocket, decodePacket, type UtpConnection } from '../../../src/transport/utp/index.js';

interface Dgram {
  from: string;
  to: string;
  bytes: Uint8Array;
}

/**
 * A (10.0.0.1:1) sends, B (10.0.0.2:2) receives in batched mode; datagrams wait in `wire`. B acknowledges every
 * batch at once unless `batchAckMin` says otherwise.
 */
function rig(batchAckMin = 1) {
  const clock = new FakeClock();
  const wire: Dgram[] = [];
  const mk = (host: string, port: number, seed: number, batched: boolean) =>
    new UtpSocket({
      clock,
      random: new SeededRandom(seed),
      send: (bytes, to) => wire.push({ from: host, to, bytes: bytes.slice() }),
      localPort: () => port,
      batched,
      connection: { nagle: false, batchAckMin },
    });
  const A = mk('10.0.0.1', 1, 1, false);
  const B = mk('10.0.0.2', 2, 2, true);
  const accepted: UtpConnection[] = [];
  B.onAccept = (c) => accepted.push(c);
  /** Deliver every queued datagram (including replies) without ending B's batch. */
  const pump = (): Dgram[] => {
    const seen: Dgram[] = [];
    while (wire.length > 0) {
      const d = wire.shift()!;
      seen.push(d);
      if (d.to === '10.0.0.1') A.handlePacket(d.bytes, d.from, 2);
      else B.handlePacket(d.bytes, d.from, 1);
    }
    return seen;
  };
  const a = A.connect('10.0.0.2', 2);
  pump(); // SYN, STATE
  a.write(new Uint8Array(0));
  return { clock, wire, A, B, a, accepted, pump };
}

function collect(c: UtpConnection) {
  const got = { chunks: [] as Uint8Array[], closed: false, err: undefined as Error | undefined };
  c.setHandlers({
    onData: (d) => got.chunks.push(d.slice()),
    onDrain: () => undefined,
    onClose: (e) => {
      got.closed = true;
      got.err = e;
    },
  });
  return got;
}

const pattern = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);

test('a batch of in-order packets is delivered as one chunk with one ACK at endBatch()', () => {
  const { a, B, wire, accepted, pump } = rig();
  const data = pattern(10 * 1380, 7);
  a.write(data);
  // The first packets establish the connection at B; deliver them, then end the batch.
  const sent = wire.filter((d) => decodePacket(d.bytes).type === ST_DATA).length;
  assert.ok(sent >= 2, `A sent ${sent} data packets`);
  pump();
  B.endBatch();
  pump();
  assert.equal(accepted.length, 1);
  const b = accepted[0]!;
  const got = collect(b); // data received before the handlers were set is held, then delivered at once
  // The rest of the transfer: each pump delivers A's window of packets as one batch.
  const before = got.chunks.length;
  for (let i = 0; i < 50 && Buffer.concat(got.chunks).length < data.length; i++) {
    const batch = pump();
    const dataPackets = batch.filter((d) => d.to === '10.0.0.2' && decodePacket(d.bytes).type === ST_DATA).length;
    const acksBefore = wire.length;
    const chunksBefore = got.chunks.length;
    B.endBatch();
    if (dataPackets > 0) {
      assert.equal(got.chunks.length, chunksBefore + 1, `${dataPackets} packets arrive as one chunk`);
      const acks = wire.slice(acksBefore).filter((d) => d.from === '10.0.0.2' && decodePacket(d.bytes).type === ST_STATE);
      assert.equal(acks.length, 1, 'one ACK per batch');
    }
  }
  assert.ok(got.chunks.length > before);
  assert.deepEqual(Buffer.concat(got.chunks), Buffer.from(data));
});

test('a batch leaving fewer than batchAckMin packets unacknowledged defers its ACK by batchAckDelayMs', () => {
  const { a, A, B, wire, accepted, pump, clock } = rig(4);
  a.write(pattern(100, 1));
  pump();
  B.endBatch();
  clock.advance(1);
  pump();
  const got = collect(accepted[0]!);
  const acksFromB = (): number => wire.filter((d) => d.from === '10.0.0.2' && decodePacket(d.bytes).type === ST_STATE).length;
  // Two packets: below the threshold of 4, so the batch is delivered but not acknowledged at once.
  a.write(pattern(2 * 1380, 2));
  const n = got.chunks.length;
  while (wire.length > 0) {
    const d = wire.shift()!;
    if (d.to === '10.0.0.2') B.handlePacket(d.bytes, d.from, 1);
  }
  B.endBatch();
  assert.equal(got.chunks.length, n + 1, 'delivered at endBatch()');
  assert.equal(acksFromB(), 0, 'no ACK yet');
  clock.advance(1);
  assert.equal(acksFromB(), 1, 'one ACK after the delay');
  pump();
  // Batches of four packets or more are acknowledged at endBatch(), smaller ones only after the delay.
  a.write(pattern(40 * 1380, 3));
  let big = 0;
  for (let i = 0; i < 60 && wire.length > 0; i++) {
    let dataPackets = 0;
    const acks0 = acksFromB();
    while (wire.length > 0) {
      const d = wire.shift()!;
      if (d.to === '10.0.0.2') {
        if (decodePacket(d.bytes).type === ST_DATA) dataPackets++;
        B.handlePacket(d.bytes, d.from, 1);
      }
    }
    B.endBatch();
    const acked = acksFromB() - acks0;
    if (dataPackets >= 4) big++;
    assert.equal(acked, dataPackets >= 4 ? 1 : 0, `batch of ${dataPackets} packets`);
    clock.advance(1);
    if (dataPackets > 0) assert.equal(acksFromB() - acks0, 1, 'acknowledged by the delay at the latest');
    // Hand B's ACKs to A so it sends the next window.
    for (const d of wire.splice(0)) if (d.to === '10.0.0.1') A.handlePacket(d.bytes, d.from, 2);
  }
  assert.ok(big > 0, 'some batches reached the threshold');
  assert.deepEqual(Buffer.concat(got.chunks.slice(n)), Buffer.concat([pattern(2 * 1380, 2), pattern(40 * 1380, 3)]));
});

test('nothing reaches the reader before endBatch(); a paused reader holds the batch until resume()', () => {
  const { a, B, accepted, pump } = rig();
  a.write(pattern(100, 1));
  pump();
  B.endBatch();
  pump();
  const b = accepted[0]!;
  const got = collect(b);
  assert.deepEqual(Buffer.concat(got.chunks), Buffer.from(pattern(100, 1)));
  a.write(pattern(3000, 2));
  pump();
  const n = got.chunks.length;
  assert.equal(got.chunks.length, n, 'not before the batch ends');
  b.pause();
  B.endBatch();
  assert.equal(got.chunks.length, n, 'paused: held');
  b.resume();
  assert.equal(got.chunks.length, n + 1, 'one chunk on resume');
  for (let i = 0; i < 10; i++) {
    pump();
    B.endBatch();
  }
  assert.deepEqual(Buffer.concat(got.chunks.slice(n)), Buffer.from(pattern(3000, 2)));
});

test('an orderly close is reported after the data of the batch that carried the FIN', () => {
  const { a, B, accepted, pump } = rig();
  a.write(pattern(10, 3));
  pump();
  B.endBatch();
  pump();
  const b = accepted[0]!;
  const got = collect(b);
  a.write(pattern(2000, 4));
  a.close(true);
  const all = Buffer.concat([pattern(10, 3), pattern(2000, 4)]);
  // The data packets and the FIN arrive in one batch: the close waits for endBatch() to deliver the data.
  pump();
  assert.equal(got.closed, false);
  B.endBatch();
  assert.equal(got.closed, true);
  assert.deepEqual(Buffer.concat(got.chunks), all);
  for (let i = 0; i < 10; i++) {
    pump();
    // The close may come in a batch of its own, but never before every byte before the FIN was delivered.
    if (got.closed) assert.deepEqual(Buffer.concat(got.chunks), all, 'close reported after the data');
    B.endBatch();
  }
  pump();
  assert.equal(got.closed, true);
  assert.equal(got.err, undefined);
  assert.deepEqual(Buffer.concat(got.chunks), all);
});
