/** LsdService under a FakeClock with an in-memory socket: schedule, rate limit, coalescing, filtering. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FakeClock, SeededRandom } from '../../../src/core/index.js';
import { LsdService, decodeLsdAnnounce, encodeLsdAnnounce } from '../../../src/lsd/index.js';
import type { LsdEndpoint, LsdServiceOptions, LsdSocket } from '../../../src/lsd/index.js';

const H = (n: number): string => n.toString(16).padStart(40, '0');

class FakeSocket implements LsdSocket {
  sent: { at: number; bytes: Uint8Array; host: string; port: number }[] = [];
  receiver: ((b: Uint8Array, from: LsdEndpoint) => void) | undefined;
  closed = false;
  failWith: unknown;
  constructor(private readonly clock: FakeClock) {}
  send(bytes: Uint8Array, host: string, port: number): void | Promise<void> {
    if (this.failWith !== undefined) return Promise.reject(this.failWith);
    this.sent.push({ at: this.clock.now(), bytes, host, port });
  }
  onMessage(cb: (b: Uint8Array, from: LsdEndpoint) => void): void {
    this.receiver = cb;
  }
  close(): void {
    this.closed = true;
  }
  deliver(b: Uint8Array, host = '192.168.1.7', port = 6771): void {
    this.receiver?.(b, { host, port });
  }
  hashes(i: number): string[] {
    return decodeLsdAnnounce(this.sent[i]!.bytes)!.infoHashes;
  }
}

async function setup(extra: Partial<LsdServiceOptions> = {}) {
  const clock = new FakeClock(0);
  const socket = new FakeSocket(clock);
  const have = new Set<string>([H(1), H(2)]);
  const peers: [string, string, number][] = [];
  const errors: unknown[] = [];
  const svc = new LsdService({
    clock,
    random: new SeededRandom(7),
    socketFactory: () => socket,
    port: 6881,
    hasTorrent: (h) => have.has(h),
    onPeer: (h, host, port) => peers.push([h, host, port]),
    onError: (e) => errors.push(e),
    ...extra,
  });
  await svc.start();
  return { clock, socket, svc, have, peers, errors };
}

describe('LsdService (BEP 14)', () => {
  it('announces a torrent at once, then every 5 minutes, with our port and cookie', async () => {
    const { clock, socket, svc } = await setup();
    svc.add(H(1).toUpperCase());
    assert.equal(socket.sent.length, 0, 'sent from the timer, not synchronously');
    clock.advance(0);
    assert.equal(socket.sent.length, 1);
    const m = decodeLsdAnnounce(socket.sent[0]!.bytes)!;
    assert.deepEqual(m.infoHashes, [H(1)]);
    assert.equal(m.port, 6881);
    assert.equal(m.cookie, svc.cookie);
    assert.match(svc.cookie, /^[0-9a-f]{8}$/);
    assert.equal(socket.sent[0]!.host, '239.192.152.143');
    assert.equal(socket.sent[0]!.port, 6771);
    clock.advance(5 * 60_000 - 1);
    assert.equal(socket.sent.length, 1);
    clock.advance(1);
    assert.equal(socket.sent.length, 2);
    clock.advance(15 * 60_000);
    assert.equal(socket.sent.length, 5);
    await svc.stop();
    assert.ok(socket.closed);
    assert.equal(clock.pending(), 0, 'no timer left');
  });

  it('coalesces hashes that are due together and sends at most one datagram a second', async () => {
    const { clock, socket, svc } = await setup();
    for (let i = 1; i <= 25; i++) svc.add(H(i));
    clock.advance(0);
    assert.equal(socket.sent.length, 1);
    assert.equal(socket.hashes(0).length, 20, 'a full message');
    clock.advance(999);
    assert.equal(socket.sent.length, 1);
    clock.advance(1);
    assert.equal(socket.sent.length, 2);
    assert.equal(socket.hashes(1).length, 5);
    // A torrent added right after a send waits for the rate limit.
    svc.add(H(100));
    clock.advance(500);
    assert.equal(socket.sent.length, 2);
    clock.advance(500);
    assert.equal(socket.sent.length, 3);
    assert.deepEqual(socket.hashes(2), [H(100)]);
    // Over a long time: never two datagrams less than a second apart.
    clock.advance(30 * 60_000);
    for (let i = 1; i < socket.sent.length; i++) assert.ok(socket.sent[i]!.at - socket.sent[i - 1]!.at >= 1000);
    await svc.stop();
  });

  it('stops announcing removed torrents; re-announces everything when the port changes', async () => {
    const { clock, socket, svc } = await setup();
    svc.add(H(1));
    svc.add(H(2));
    clock.advance(0);
    svc.remove(H(1));
    assert.deepEqual(svc.torrents, [H(2)]);
    svc.setPort(7000);
    clock.advance(1000);
    assert.equal(socket.sent.length, 2);
    const m = decodeLsdAnnounce(socket.sent[1]!.bytes)!;
    assert.deepEqual([m.port, m.infoHashes], [7000, [H(2)]]);
    svc.remove(H(2));
    clock.advance(60 * 60_000);
    assert.equal(socket.sent.length, 2);
    assert.equal(clock.pending(), 0);
    await svc.stop();
  });

  it('torrents added before start are announced on start', async () => {
    const clock = new FakeClock(0);
    const socket = new FakeSocket(clock);
    const svc = new LsdService({ clock, random: new SeededRandom(1), socketFactory: async () => socket, port: 1, hasTorrent: () => false, onPeer: () => {} });
    svc.add(H(9));
    clock.advance(10_000);
    assert.equal(socket.sent.length, 0);
    await svc.start();
    clock.advance(0);
    assert.deepEqual(socket.hashes(0), [H(9)]);
    await svc.stop();
  });

  it('reports peers for torrents we have; ignores our own cookie, unknown torrents, garbage and 0.0.0.0', async () => {
    const { socket, svc, peers, errors } = await setup();
    socket.deliver(encodeLsdAnnounce({ port: 51413, infoHashes: [H(1), H(3), H(2)], cookie: 'other' }), '192.168.1.9');
    assert.deepEqual(peers, [
      [H(1), '192.168.1.9', 51413],
      [H(2), '192.168.1.9', 51413],
    ]);
    socket.deliver(encodeLsdAnnounce({ port: 1, infoHashes: [H(1)], cookie: svc.cookie }));
    socket.deliver(encodeLsdAnnounce({ port: 1, infoHashes: [H(3)] }));
    socket.deliver(encodeLsdAnnounce({ port: 1, infoHashes: [H(1)] }), '0.0.0.0');
    socket.deliver(new TextEncoder().encode('M-SEARCH * HTTP/1.1\r\nST: ssdp:all\r\n\r\n'));
    socket.deliver(new Uint8Array(5000));
    assert.equal(peers.length, 2);
    assert.equal(svc.stats.received, 6);
    assert.equal(svc.stats.ignored, 4);
    assert.equal(errors.length, 0);
    await svc.stop();
    socket.deliver(encodeLsdAnnounce({ port: 1, infoHashes: [H(1)] }));
    assert.equal(peers.length, 2, 'nothing after stop');
  });

  it('a flood is cut off at maxMessagesPerSecond', async () => {
    const { clock, socket, svc, peers } = await setup({ maxMessagesPerSecond: 10 });
    const b = encodeLsdAnnounce({ port: 1, infoHashes: [H(1)] });
    for (let i = 0; i < 1000; i++) socket.deliver(b);
    assert.equal(peers.length, 10);
    clock.advance(1000);
    for (let i = 0; i < 1000; i++) socket.deliver(b);
    assert.equal(peers.length, 20);
    await svc.stop();
  });

  it('survives send failures and throwing callbacks', async () => {
    const { clock, socket, svc, errors } = await setup({
      hasTorrent: () => {
        throw new Error('boom');
      },
    });
    socket.failWith = Object.assign(new Error('send ENETUNREACH'), { code: 'ENETUNREACH' });
    svc.add(H(1));
    clock.advance(0);
    await new Promise((r) => setImmediate(r));
    assert.equal(svc.stats.sendErrors, 1);
    socket.deliver(encodeLsdAnnounce({ port: 1, infoHashes: [H(1)] }));
    assert.equal(errors.length, 2);
    socket.failWith = undefined;
    clock.advance(5 * 60_000);
    assert.equal(socket.sent.length, 1, 'keeps announcing');
    await svc.stop();
  });

  it('stop before start completes closes the socket; bad info-hashes are refused', async () => {
    const clock = new FakeClock(0);
    const socket = new FakeSocket(clock);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const svc = new LsdService({
      clock,
      random: new SeededRandom(1),
      socketFactory: async () => {
        await gate;
        return socket;
      },
      port: 1,
      hasTorrent: () => true,
      onPeer: () => {},
    });
    const started = svc.start();
    await svc.stop();
    release();
    await started;
    assert.ok(socket.closed);
    assert.ok(!svc.running);
    assert.throws(() => svc.add('nothex'), /40 hex/);
  });

  it('never throws on arbitrary datagrams', async () => {
    const { socket, svc } = await setup({ maxMessagesPerSecond: 1e9 });
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 1600 }), fc.string(), (b, host) => {
        socket.deliver(b, host);
      }),
      { numRuns: 300 },
    );
    await svc.stop();
  });
});
