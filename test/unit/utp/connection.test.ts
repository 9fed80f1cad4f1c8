/**
 * uTP connection state machine (BEP 29) driven packet by packet under a FakeClock: the handshake's sequence
 * numbers (libtorrent's convention), wrap-around, SACK and fast retransmit, timeouts with backoff, RESET,
 * FIN, connect timeout, receive window and pause/resume.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../../src/core/fake-clock.js';
import { isBtError } from '../../../src/core/errors.js';
import { SeededRandom } from '../../../src/core/node-random.js';
import {
  ST_DATA,
  ST_FIN,
  ST_RESET,
  ST_STATE,
  ST_SYN,
  UtpConnection,
  UtpSocket,
  decodePacket,
  encodePacket,
  seqAdd,
  type UtpConnectionSettings,
  type UtpPacket,
} from '../../../src/transport/utp/index.js';

interface Dgram {
  from: string;
  to: string;
  bytes: Uint8Array;
}

/** Two sockets, A (10.0.0.1:1) and B (10.0.0.2:2); datagrams wait in `wire` until the test delivers them. */
function rig(settings: UtpConnectionSettings = {}, seqA?: number, seqB?: number) {
  const clock = new FakeClock();
  const wire: Dgram[] = [];
  const mk = (host: string, port: number, seed: number, seq?: number) =>
    new UtpSocket({
      clock,
      random: new SeededRandom(seed),
      send: (bytes, to) => wire.push({ from: host, to, bytes: bytes.slice() }),
      localPort: () => port,
      connection: settings,
      initialSeq: seq === undefined ? undefined : () => seq,
    });
  const A = mk('10.0.0.1', 1, 1, seqA);
  const B = mk('10.0.0.2', 2, 2, seqB);
  const accepted: UtpConnection[] = [];
  B.onAccept = (c) => accepted.push(c);
  const sock = (h: string) => (h === '10.0.0.1' ? A : B);
  const port = (h: string) => (h === '10.0.0.1' ? 1 : 2);
  /** Deliver queued datagrams (repeatedly, including replies) for which keep() is true; drop the others. */
  const pump = (keep: (d: Dgram, p: UtpPacket) => boolean = () => true, max = 100_000): number => {
    let n = 0;
    while (wire.length > 0 && n < max) {
      const d = wire.shift()!;
      n++;
      if (keep(d, decodePacket(d.bytes))) sock(d.to).handlePacket(d.bytes, d.from, port(d.from));
    }
    return n;
  };
  return { clock, wire, A, B, accepted, pump };
}

function collect(c: UtpConnection) {
  const got = { chunks: [] as Uint8Array[], closed: false, err: undefined as Error | undefined, drains: 0 };
  c.setHandlers({
    onData: (d) => got.chunks.push(d.slice()),
    onDrain: () => got.drains++,
    onClose: (e) => {
      got.closed = true;
      got.err = e;
    },
  });
  return { got, text: () => Buffer.concat(got.chunks).toString(), bytes: () => Buffer.concat(got.chunks) };
}

test('handshake: SYN/STATE sequence numbers as libtorrent uses them; the STATE does not consume a number', () => {
  const { A, wire, pump, accepted } = rig({}, 1000, 50_000);
  const a = A.connect('10.0.0.2', 2);
  const syn = decodePacket(wire[0]!.bytes);
  assert.equal(syn.type, ST_SYN);
  assert.equal(syn.connectionId, a.recvId, 'the SYN carries the id we receive on');
  assert.equal(a.sendId, (a.recvId + 1) & 0xffff);
  assert.equal(syn.seqNr, 1000);
  const trace: UtpPacket[] = [];
  pump((_d, p) => (trace.push(p), true));
  assert.equal(accepted.length, 0, 'the acceptor reports the connection only once the initiator speaks again');
  const synAck = trace[1]!;
  assert.equal(synAck.type, ST_STATE);
  assert.equal(synAck.connectionId, syn.connectionId, 'acceptor sends on the SYN id');
  assert.equal(synAck.seqNr, 50_000);
  assert.equal(synAck.ackNr, 1000);
  assert.equal(a.state, 'connected');
  assert.equal(a.lastAckNr, 49_999, 'initiator ack_nr = S - 1');
  const ga = collect(a);
  a.write(Buffer.from('hello'));
  const d1 = decodePacket(wire[0]!.bytes);
  assert.deepEqual([d1.type, d1.seqNr, d1.ackNr, d1.connectionId], [ST_DATA, 1001, 49_999, a.sendId]);
  pump();
  assert.equal(accepted.length, 1);
  const b = accepted[0]!;
  const gb = collect(b);
  assert.equal(gb.text(), 'hello');
  b.write(Buffer.from('world'));
  const d2 = decodePacket(wire[0]!.bytes);
  assert.deepEqual([d2.type, d2.seqNr, d2.ackNr, d2.connectionId], [ST_DATA, 50_000, 1001, syn.connectionId], "acceptor's first DATA uses the STATE's seq_nr");
  pump();
  assert.equal(ga.text(), 'world');
});

test('wrap-around: sequence numbers cross 0xffff -> 0 in both directions', () => {
  const { A, pump, accepted, clock } = rig({}, 0xfffd, 0xfffe);
  const a = A.connect('10.0.0.2', 2);
  pump();
  const ga = collect(a);
  const data = Buffer.alloc(20 * 1380, 7);
  for (let i = 0; i < data.length; i++) data[i] = i & 0xff;
  a.write(data);
  pump();
  const b = accepted[0]!;
  const gb = collect(b);
  b.write(data);
  for (let i = 0; i < 10; i++) {
    pump();
    clock.advance(20);
  }
  assert.ok(gb.bytes().equals(data));
  assert.ok(ga.bytes().equals(data));
  assert.ok(a.nextSeq < 100 && b.nextSeq < 100, `${a.nextSeq} ${b.nextSeq}`);
});

test('a lost DATA packet: the receiver SACKs what came after, the sender fast-retransmits before any timeout', () => {
  const { A, pump, accepted, wire, clock } = rig({ ledbat: { initialCwnd: 20 * 1400 } }, 100, 200);
  const a = A.connect('10.0.0.2', 2);
  pump();
  a.write(Buffer.from('x'));
  pump();
  const b = accepted[0]!;
  const gb = collect(b);
  a.write(Buffer.alloc(8 * 1380, 1));
  const lost = decodePacket(wire[0]!.bytes).seqNr;
  let sackSeen = 0;
  let dropped = false;
  pump((d, p) => {
    if (p.type === ST_DATA && d.from === '10.0.0.1' && p.seqNr === lost && !dropped) return !(dropped = true);
    if (p.type === ST_STATE && p.sack) sackSeen++;
    return true;
  });
  assert.ok(sackSeen >= 3, 'out-of-order arrivals are acknowledged with a SACK');
  assert.equal(a.stats.fastRetransmits, 1);
  assert.equal(a.stats.timeouts, 0, 'recovered without a timeout');
  assert.equal(Buffer.concat(gb.got.chunks).length, 1 + 8 * 1380);
  clock.advance(20); // the delayed ACK
  pump();
  assert.equal(a.bytesInFlight, 0);
});

test('three duplicate ACKs trigger a fast retransmit and halve the window', () => {
  const clock = new FakeClock();
  const out: UtpPacket[] = [];
  const c = new UtpConnection({
    clock,
    send: (b) => out.push(decodePacket(b)),
    outgoing: false,
    remoteAddress: 'x',
    remotePort: 1,
    recvId: 11,
    sendId: 10,
    initialSeq: 500,
    peerSeq: 7,
    ledbat: { initialCwnd: 10 * 1400 },
  });
  const now = () => clock.now() * 1000;
  const pkt = (o: Partial<UtpPacket>): UtpPacket => ({ type: ST_STATE, connectionId: 11, timestamp: 0, timestampDiff: 0, wndSize: 1 << 20, seqNr: 8, ackNr: 499, sack: undefined, payload: new Uint8Array(0), ...o });
  c.handlePacket(pkt({ type: ST_DATA, seqNr: 8, payload: new Uint8Array(1) }), now()); // established
  c.write(new Uint8Array(6 * 1380));
  const sent = out.filter((p) => p.type === ST_DATA).map((p) => p.seqNr);
  assert.deepEqual(sent, [500, 501, 502, 503, 504, 505]);
  c.handlePacket(pkt({ ackNr: 500 }), now()); // 500 acked, 501 lost
  const cwnd0 = c.cwnd;
  out.length = 0;
  for (let i = 0; i < 3; i++) c.handlePacket(pkt({ ackNr: 500 }), now());
  assert.equal(c.stats.fastRetransmits, 1);
  assert.deepEqual(out.filter((p) => p.type === ST_DATA).map((p) => p.seqNr), [501]);
  assert.ok(c.cwnd <= cwnd0 / 2 + 1, `window halved ${cwnd0} -> ${c.cwnd}`);
  // An ack for data never sent is ignored (and does not advance anything).
  c.handlePacket(pkt({ ackNr: 600 }), now());
  assert.equal(c.bytesInFlight > 0, true);
  c.close(false);
  assert.equal(out.at(-1)!.type, ST_RESET);
  assert.equal(clock.pending(), 0);
});

test('retransmission timeout: backoff doubles, then the connection dies with ERR_TIMEOUT and frees its state', () => {
  const { A, pump, accepted, clock, wire } = rig({ maxTimeouts: 4 }, 1, 2);
  const a = A.connect('10.0.0.2', 2);
  pump();
  const ga = collect(a);
  a.write(Buffer.from('hi'));
  pump();
  assert.equal(accepted.length, 1);
  a.write(Buffer.alloc(3000));
  const rtos: number[] = [];
  let resent = 0;
  for (let t = 0; t < 120_000 && !ga.got.closed; t += 50) {
    clock.advance(50);
    if (wire.length) {
      resent += wire.filter((d) => d.from === '10.0.0.1' && decodePacket(d.bytes).type === ST_DATA).length;
      wire.length = 0; // black hole
      rtos.push(a.rto);
    }
  }
  assert.ok(ga.got.closed && isBtError(ga.got.err, 'ERR_TIMEOUT'), String(ga.got.err));
  assert.ok(resent >= 4, `retransmitted ${resent} times`);
  for (let i = 1; i < rtos.length; i++) assert.ok(rtos[i]! >= rtos[i - 1]!, 'backoff never shrinks');
  assert.ok(rtos.at(-1)! >= 4 * rtos[0]!, `exponential backoff ${rtos.join(',')}`);
  assert.equal(A.connectionCount, 0);
});

test('connect timeout: SYN resent with backoff, then ERR_TIMEOUT; an acceptor-less socket answers RESET', () => {
  const { A, clock, wire } = rig({ connectTimeoutMs: 8000 });
  let err: Error | undefined;
  A.connect('10.0.0.9', 9, { onFreed: (_c, e) => (err = e) });
  let syns = 0;
  for (let t = 0; t < 10_000; t += 100) {
    clock.advance(100);
    syns += wire.splice(0).filter((d) => decodePacket(d.bytes).type === ST_SYN).length;
  }
  assert.ok(isBtError(err, 'ERR_TIMEOUT'));
  assert.ok(syns >= 2 && syns <= 4, `SYN resent ${syns} times in 8 s`);
  assert.equal(A.connectionCount, 0);
  assert.equal(clock.pending(), 0);

  const r = rig();
  r.B.onAccept = undefined;
  let refused: Error | undefined;
  r.A.connect('10.0.0.2', 2, { onFreed: (_c, e) => (refused = e) });
  r.pump();
  assert.ok(isBtError(refused, 'ERR_CLOSED'), String(refused));
});

test('RESET from the peer closes with ERR_CLOSED; close(false) sends one', () => {
  const { A, pump, accepted } = rig();
  const a = A.connect('10.0.0.2', 2);
  pump();
  const ga = collect(a);
  a.write(Buffer.from('x'));
  pump();
  const b = accepted[0]!;
  const gb = collect(b);
  b.close(false);
  assert.equal(gb.got.closed, true);
  assert.equal(gb.got.err, undefined);
  pump();
  assert.ok(ga.got.closed && isBtError(ga.got.err, 'ERR_CLOSED'));
  assert.equal(A.connectionCount, 0);
});

test('orderly close: queued data is flushed, FIN both ways, both report a clean close and free state', () => {
  const { A, B, pump, accepted, clock } = rig();
  const a = A.connect('10.0.0.2', 2);
  pump();
  const ga = collect(a);
  a.write(Buffer.from('x'));
  pump();
  const gb = collect(accepted[0]!);
  a.write(Buffer.alloc(50_000, 3));
  a.close(true);
  assert.equal(a.write(Buffer.from('late')), false);
  const fins: string[] = [];
  for (let i = 0; i < 50; i++) {
    pump((d, p) => (p.type === ST_FIN && fins.push(d.from), true));
    clock.advance(20);
  }
  assert.equal(gb.bytes().length, 50_001);
  assert.deepEqual(fins.sort(), ['10.0.0.1', '10.0.0.2']);
  assert.ok(gb.got.closed && gb.got.err === undefined);
  assert.ok(ga.got.closed && ga.got.err === undefined);
  assert.equal(A.connectionCount + B.connectionCount, 0);
  assert.equal(clock.pending(), 0);
});

test('receive window: a paused reader advertises a shrinking window, the sender stops, resume delivers everything', () => {
  const { A, pump, accepted, clock } = rig({ recvBufferBytes: 64 * 1024 });
  const a = A.connect('10.0.0.2', 2);
  pump();
  collect(a);
  a.write(Buffer.from('x'));
  pump();
  const b = accepted[0]!;
  const gb = collect(b);
  b.pause();
  const total = 1024 * 1024;
  let written = 0;
  const pumpWrites = () => {
    while (written < total) {
      written += 16384;
      if (!a.write(Buffer.alloc(16384, 5))) break;
    }
  };
  pumpWrites();
  for (let i = 0; i < 100; i++) {
    pump();
    clock.advance(50);
  }
  assert.equal(gb.got.chunks.length, 1, 'nothing delivered while paused (beyond the first byte)');
  assert.ok(a.peerWindow < 1400, `sender sees a closed window (${a.peerWindow})`);
  assert.ok(a.writableLength > total - 64 * 1024 - 16384 * 2 - written + total, 'the rest waits at the sender');
  b.resume();
  for (let i = 0; i < 400 && gb.bytes().length < 1 + written; i++) {
    pump();
    clock.advance(20);
    pumpWrites();
  }
  assert.equal(gb.bytes().length, 1 + total);
});

test('payload handed to write() is not copied twice: DATA packets are at most the packet size', () => {
  const { A, wire, pump } = rig({ packetSize: 1000 });
  const a = A.connect('10.0.0.2', 2);
  pump();
  a.write(Buffer.alloc(5000));
  const sizes = wire.map((d) => d.bytes.length);
  assert.ok(sizes.every((s) => s <= 1000), sizes.join(','));
  void encodePacket;
  void seqAdd;
});
