/** UtpSocket: demultiplexing with the other UDP handlers, and hostile datagrams that must not create state. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../../src/core/fake-clock.js';
import { SeededRandom } from '../../../src/core/node-random.js';
import { ST_DATA, ST_RESET, ST_STATE, ST_SYN, UtpSocket, decodePacket, encodePacket, type UtpConnection, type UtpType } from '../../../src/transport/utp/index.js';

function setup(o: Partial<ConstructorParameters<typeof UtpSocket>[0]> = {}) {
  const clock = new FakeClock();
  const sent: { to: string; port: number; bytes: Uint8Array }[] = [];
  const s = new UtpSocket({ clock, random: new SeededRandom(3), send: (bytes, to, port) => sent.push({ to, port, bytes }), ...o });
  const accepted: UtpConnection[] = [];
  s.onAccept = (c) => accepted.push(c);
  return { clock, sent, s, accepted };
}
const pkt = (type: UtpType, id: number, extra: { seqNr?: number; ackNr?: number; sack?: Uint8Array; payload?: Uint8Array } = {}) =>
  encodePacket({ type, connectionId: id, timestamp: 1, timestampDiff: 0, wndSize: 65536, seqNr: extra.seqNr ?? 1, ackNr: extra.ackNr ?? 0, sack: extra.sack, payload: extra.payload });

test('datagrams that are not uTP are left for the DHT / tracker handlers', () => {
  const { s } = setup();
  assert.equal(s.handlePacket(Buffer.from('d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe'), '1.2.3.4', 5), false);
  assert.equal(s.handlePacket(Buffer.from('000000010000abcd0000000000000000000000000000', 'hex'), '1.2.3.4', 5), false);
  assert.equal(s.handlePacket(new Uint8Array(10), '1.2.3.4', 5), false);
  assert.equal(s.stats.notUtp, 3);
  assert.equal(s.handlePacket(pkt(ST_STATE, 77), '1.2.3.4', 5), true, 'uTP is claimed even when unknown');
});

test('packets for unknown connections get a rate-limited RESET; a RESET never gets one', () => {
  const { s, sent, clock } = setup({ resetsPerSecond: 5 });
  for (let i = 0; i < 100; i++) s.handlePacket(pkt(ST_DATA, 1000 + i, { payload: new Uint8Array(10) }), '6.6.6.6', 66);
  assert.equal(sent.length, 5);
  const r = decodePacket(sent[0]!.bytes);
  assert.equal(r.type, ST_RESET);
  assert.equal(r.connectionId, 1000);
  assert.equal(s.stats.resetsSuppressed, 95);
  s.handlePacket(pkt(ST_RESET, 5), '6.6.6.6', 66);
  clock.advance(1000);
  s.handlePacket(pkt(ST_RESET, 5), '6.6.6.6', 66);
  assert.equal(sent.length, 5);
  s.handlePacket(pkt(ST_STATE, 5), '6.6.6.6', 66);
  assert.equal(sent.length, 6, 'tokens refill over time');
  assert.equal(s.connectionCount, 0);
});

test('SYN flood: half-open connections are bounded, never reach the accept callback, and expire', () => {
  const { s, accepted, clock } = setup({ maxHalfOpen: 32, connection: { connectTimeoutMs: 5000 } });
  for (let i = 0; i < 1000; i++) s.handlePacket(pkt(ST_SYN, i * 7), '10.9.8.7', 1000 + i);
  assert.equal(s.halfOpenCount, 32);
  assert.equal(s.connectionCount, 32);
  assert.equal(s.stats.synDropped, 968);
  assert.equal(accepted.length, 0);
  clock.advance(6000);
  assert.equal(s.connectionCount, 0);
  assert.equal(s.halfOpenCount, 0);
  assert.equal(clock.pending(), 0);
});

test('a repeated SYN is answered again without a second connection; the real follow-up is accepted', () => {
  const { s, sent, accepted } = setup();
  s.handlePacket(pkt(ST_SYN, 500, { seqNr: 9 }), '1.1.1.1', 1);
  s.handlePacket(pkt(ST_SYN, 500, { seqNr: 9 }), '1.1.1.1', 1);
  assert.equal(s.connectionCount, 1);
  const acks = sent.map((x) => decodePacket(x.bytes));
  assert.equal(acks.length, 2);
  assert.ok(acks.every((p) => p.type === ST_STATE && p.ackNr === 9 && p.connectionId === 500));
  // Same id from another endpoint is another connection.
  s.handlePacket(pkt(ST_SYN, 500, { seqNr: 9 }), '1.1.1.1', 2);
  assert.equal(s.connectionCount, 2);
  // The initiator's DATA (on id 501) acknowledging our STATE completes the handshake.
  s.handlePacket(pkt(ST_DATA, 501, { seqNr: 10, ackNr: acks[0]!.seqNr - 1, payload: Buffer.from('hi') }), '1.1.1.1', 1);
  assert.equal(accepted.length, 1);
});

test('hostile packets on a live connection: huge SACK, ack for unsent data, bad version are dropped without effect', () => {
  const { s, sent, accepted } = setup();
  s.handlePacket(pkt(ST_SYN, 900, { seqNr: 1 }), '2.2.2.2', 2);
  const S = decodePacket(sent[0]!.bytes).seqNr;
  s.handlePacket(pkt(ST_DATA, 901, { seqNr: 2, ackNr: S - 1, payload: Buffer.from('a') }), '2.2.2.2', 2);
  const c = accepted[0]!;
  const got: string[] = [];
  c.setHandlers({ onData: (d) => got.push(Buffer.from(d).toString()), onDrain: () => {}, onClose: () => {} });
  const before = c.debugState();
  // SACK longer than 128 bytes: malformed.
  const huge = Buffer.from(pkt(ST_STATE, 901, { seqNr: 3, ackNr: S - 1 }));
  huge[1] = 1;
  assert.equal(s.handlePacket(Buffer.concat([huge, Buffer.from([0, 252]), Buffer.alloc(252, 0xff)]), '2.2.2.2', 2), true);
  assert.equal(s.stats.malformed, 1);
  // Acknowledges data we never sent: ignored, including its payload.
  s.handlePacket(pkt(ST_DATA, 901, { seqNr: 3, ackNr: S + 500, payload: Buffer.from('evil') }), '2.2.2.2', 2);
  // A SACK naming unsent packets: those bits are ignored.
  s.handlePacket(pkt(ST_STATE, 901, { seqNr: 3, ackNr: S - 1, sack: new Uint8Array(128).fill(0xff) }), '2.2.2.2', 2);
  // Version 2: not ours.
  const v2 = Buffer.from(pkt(ST_DATA, 901, { seqNr: 3, ackNr: S - 1, payload: Buffer.from('v2') }));
  v2[0] = (ST_DATA << 4) | 2;
  assert.equal(s.handlePacket(v2, '2.2.2.2', 2), false);
  // Data far beyond the reorder window: dropped, not buffered.
  s.handlePacket(pkt(ST_DATA, 901, { seqNr: 30_000, ackNr: S - 1, payload: Buffer.alloc(1000) }), '2.2.2.2', 2);
  const after = c.debugState();
  assert.deepEqual(got, ['a']);
  assert.equal(after.ackNr, before.ackNr);
  assert.equal(after.reorderCount, 0);
  assert.equal(after.inFlight, 0);
  assert.equal(c.closed, false);
});
