/** DhtNode server and client behaviour under a FakeClock: tokens, peer store, errors, rate limits, hostile input. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FakeClock } from '../../../src/core/fake-clock.js';
import { SeededRandom } from '../../../src/core/node-random.js';
import { BtError } from '../../../src/core/errors.js';
import { bencode } from '../../../src/bencode/index.js';
import { DhtNode, decodeKrpc, encodeQuery } from '../../../src/dht/index.js';
import type { KrpcErrorMessage, KrpcMessage, KrpcQuery, KrpcResponseMessage, PeerAddress } from '../../../src/dht/index.js';

const IH = new Uint8Array(20).fill(0x11);

interface Sent {
  msg: KrpcMessage;
  host: string;
  port: number;
  bytes: Uint8Array;
}

function makeNode(opts: Partial<ConstructorParameters<typeof DhtNode>[0]> = {}): { node: DhtNode; clock: FakeClock; sent: Sent[] } {
  const clock = (opts.clock as FakeClock | undefined) ?? new FakeClock();
  const sent: Sent[] = [];
  const node = new DhtNode({
    clock,
    random: new SeededRandom(42),
    send: (bytes, host, port) => sent.push({ msg: decodeKrpc(bytes), host, port, bytes }),
    ...opts,
  });
  return { node, clock, sent };
}

let tcount = 0;
function ask(node: DhtNode, sent: Sent[], q: KrpcQuery, host = '10.0.0.2', port = 7000, ro = false): KrpcMessage | undefined {
  const t = new Uint8Array([0x71, tcount++ & 0xff]);
  const before = sent.length;
  assert.equal(node.handlePacket(encodeQuery(t, q, { ro }), host, port), true);
  const out = sent.slice(before).find((s) => s.host === host && s.port === port);
  if (out) assert.deepEqual(out.msg.t, t);
  return out?.msg;
}

const peerId = (b: number): Uint8Array => new Uint8Array(20).fill(b);

test('handlePacket: non-KRPC datagrams are passed on, garbage starting with d is swallowed', () => {
  const { node, sent } = makeNode();
  assert.equal(node.handlePacket(new Uint8Array([0x41, 0x02, 0, 0]), '10.0.0.2', 1), false); // uTP SYN
  assert.equal(node.handlePacket(new Uint8Array([0, 0, 0, 1]), '10.0.0.2', 1), false); // UDP tracker
  assert.equal(node.handlePacket(new Uint8Array(0), '10.0.0.2', 1), false);
  assert.equal(node.handlePacket(new TextEncoder().encode('d1:x'), '10.0.0.2', 1), true);
  assert.equal(sent.length, 0);
  assert.equal(node.stats().invalid, 1);
});

test('ping, find_node (BEP 32 want), and the BEP 42 ip field', () => {
  const { node, sent } = makeNode();
  const pong = ask(node, sent, { q: 'ping', id: peerId(1) }) as KrpcResponseMessage;
  assert.equal(pong.y, 'r');
  assert.deepEqual(pong.r.id, node.id);
  assert.deepEqual(pong.ip, { host: '10.0.0.2', port: 7000 });
  // The querier is now known (IPv4 table); an IPv6 querier goes to the IPv6 table.
  ask(node, sent, { q: 'ping', id: peerId(2) }, '2001:db8::2', 7001);
  assert.equal(node.stats().nodes, 1);
  assert.equal(node.stats().nodes6, 1);
  const fn = ask(node, sent, { q: 'find_node', id: peerId(3), target: peerId(9), want: ['n4', 'n6'] }, '10.0.0.3') as KrpcResponseMessage;
  assert.ok(fn.r.nodes!.some((n) => n.host === '10.0.0.2'));
  assert.ok(fn.r.nodes6!.some((n) => n.host === '2001:db8::2'));
  const fn6 = ask(node, sent, { q: 'find_node', id: peerId(4), target: peerId(9) }, '2001:db8::4', 1) as KrpcResponseMessage;
  assert.equal(fn6.r.nodes, undefined, 'an IPv6 query without want gets nodes6 only');
  assert.ok(fn6.r.nodes6);
  // BEP 43: a read-only querier is not added.
  ask(node, sent, { q: 'ping', id: peerId(5) }, '10.0.0.5', 1, true);
  assert.equal(node.stats().nodes, 2);
});

test('get_peers / announce_peer: tokens, implied_port, values, and 203 for a bad token', () => {
  const { node, sent } = makeNode();
  const gp = ask(node, sent, { q: 'get_peers', id: peerId(1), infoHash: IH }) as KrpcResponseMessage;
  const token = gp.r.token!;
  assert.ok(token.length > 0);
  assert.equal(gp.r.values, undefined);

  const ok = ask(node, sent, { q: 'announce_peer', id: peerId(1), infoHash: IH, port: 6881, token, impliedPort: false }) as KrpcResponseMessage;
  assert.equal(ok.y, 'r');
  const ok2 = ask(node, sent, { q: 'announce_peer', id: peerId(1), infoHash: IH, port: 0, token, impliedPort: true }) as KrpcResponseMessage;
  assert.equal(ok2.y, 'r');

  // The token is bound to the IP: another address cannot use it.
  const bad = ask(node, sent, { q: 'announce_peer', id: peerId(2), infoHash: IH, port: 1, token, impliedPort: false }, '10.0.0.99') as KrpcErrorMessage;
  assert.equal(bad.y, 'e');
  assert.equal(bad.code, 203);
  const bad2 = ask(node, sent, { q: 'announce_peer', id: peerId(2), infoHash: IH, port: 1, token: new Uint8Array(8), impliedPort: false }) as KrpcErrorMessage;
  assert.equal(bad2.code, 203);

  const got = ask(node, sent, { q: 'get_peers', id: peerId(3), infoHash: IH }, '10.0.0.3') as KrpcResponseMessage;
  assert.deepEqual(
    got.r.values!.map((p) => `${p.host}:${p.port}`).sort(),
    ['10.0.0.2:6881', '10.0.0.2:7000'],
  );
  assert.equal(node.stats().peersStored, 2);
});

test('tokens: valid for 5 to 10 minutes (secret rotated every 5, previous accepted)', () => {
  const { node, clock, sent } = makeNode();
  const token = (ask(node, sent, { q: 'get_peers', id: peerId(1), infoHash: IH }) as KrpcResponseMessage).r.token!;
  const announce = (): KrpcMessage => ask(node, sent, { q: 'announce_peer', id: peerId(1), infoHash: IH, port: 1, token, impliedPort: false })!;
  clock.advance(4 * 60_000);
  assert.equal(announce().y, 'r');
  clock.advance(2 * 60_000); // 6 min: previous secret
  assert.equal(announce().y, 'r');
  clock.advance(5 * 60_000); // 11 min: gone
  const e = announce() as KrpcErrorMessage;
  assert.equal(e.y, 'e');
  assert.equal(e.code, 203);
});

test('peer store: 30-minute expiry, values capped, limits per info-hash', () => {
  const { node, clock, sent } = makeNode({ maxPeersPerInfoHash: 50, maxValuesReturned: 20, rateLimit: { perSecond: 1e6, burst: 1e6 } });
  for (let i = 0; i < 80; i++) {
    const host = `10.1.${i}.1`;
    const token = (ask(node, sent, { q: 'get_peers', id: peerId(1), infoHash: IH }, host) as KrpcResponseMessage).r.token!;
    ask(node, sent, { q: 'announce_peer', id: peerId(1), infoHash: IH, port: 5000, token, impliedPort: false }, host);
  }
  assert.equal(node.stats().peersStored, 50, 'bounded per info-hash (oldest evicted)');
  const r = ask(node, sent, { q: 'get_peers', id: peerId(2), infoHash: IH }, '10.9.9.9') as KrpcResponseMessage;
  assert.equal(r.r.values!.length, 20, 'values capped (no amplification)');
  const resp = sent[sent.length - 1]!.bytes;
  assert.ok(resp.length < 700, `response of ${resp.length} bytes`);
  clock.advance(31 * 60_000);
  const r2 = ask(node, sent, { q: 'get_peers', id: peerId(2), infoHash: IH }, '10.9.9.9') as KrpcResponseMessage;
  assert.equal(r2.r.values, undefined, 'expired');
});

test('errors: unknown method is 204, malformed query is 203', () => {
  const { node, sent } = makeNode();
  node.handlePacket(bencode({ t: 'zz', y: 'q', q: 'put', a: { id: peerId(1) } }), '10.0.0.2', 1);
  assert.equal((sent.at(-1)!.msg as KrpcErrorMessage).code, 204);
  node.handlePacket(bencode({ t: 'zy', y: 'q', q: 'get_peers', a: { id: peerId(1), info_hash: 'short' } }), '10.0.0.2', 1);
  assert.equal((sent.at(-1)!.msg as KrpcErrorMessage).code, 203);
  assert.deepEqual(sent.at(-1)!.msg.t, new TextEncoder().encode('zy'));
});

test('a flood from one source is rate limited; other sources are still served', () => {
  const { node, clock, sent } = makeNode({ rateLimit: { perSecond: 10, burst: 20 } });
  for (let i = 0; i < 1000; i++) node.handlePacket(encodeQuery(new Uint8Array([1, i & 255]), { q: 'ping', id: peerId(1) }), '10.6.6.6', 666);
  const answered = sent.filter((s) => s.host === '10.6.6.6').length;
  assert.equal(answered, 20);
  assert.equal(node.stats().rateLimited, 980);
  assert.ok(ask(node, sent, { q: 'ping', id: peerId(2) }, '10.0.0.7'));
  clock.advance(1000);
  for (let i = 0; i < 100; i++) node.handlePacket(encodeQuery(new Uint8Array([2, i]), { q: 'ping', id: peerId(1) }), '10.6.6.6', 666);
  assert.equal(sent.filter((s) => s.host === '10.6.6.6').length, 30, '10 more after one second');
});

test('fuzz: hostile datagrams never throw and never break the node', () => {
  const { node, sent } = makeNode({ rateLimit: { perSecond: 1e9, burst: 1e9 } });
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 400 }), fc.constantFrom('10.0.0.1', '::1', 'not-an-ip', '2001:db8::1'), fc.integer({ min: -5, max: 70000 }), (b, host, port) => {
      assert.equal(node.handlePacket(Uint8Array.of(0x64, ...b), host, port), true);
    }),
    { numRuns: 2000 },
  );
  fc.assert(
    fc.property(fc.constantFrom('ping', 'find_node', 'get_peers', 'announce_peer'), fc.dictionary(fc.constantFrom('id', 'target', 'info_hash', 'port', 'token', 'implied_port', 'want'), fc.oneof(fc.integer(), fc.uint8Array({ maxLength: 30 }), fc.constant(peerId(7)), fc.array(fc.constant('n6')))), (q, a) => {
      node.handlePacket(bencode({ t: 'ab', y: 'q', q, a }), '10.0.0.1', 1);
      node.handlePacket(bencode({ t: 'ab', y: 'r', r: a }), '10.0.0.1', 1);
    }),
    { numRuns: 2000 },
  );
  // still answers
  assert.equal(ask(node, sent, { q: 'ping', id: peerId(1) })!.y, 'r');
});

test('responses are matched to the address asked; spoofed replies are ignored', () => {
  const { node, clock, sent } = makeNode();
  node.addNode('10.0.0.50', 6881);
  const q = sent.at(-1)!;
  assert.equal((q.msg as { query: KrpcQuery }).query.q, 'ping');
  const reply = bencode({ t: q.msg.t, y: 'r', r: { id: peerId(50) } });
  node.handlePacket(reply, '10.0.0.51', 6881);
  assert.equal(node.stats().nodes, 0, 'wrong source ignored');
  node.handlePacket(reply, '10.0.0.50', 6881);
  assert.equal(node.stats().nodes, 1);
  // A query that is never answered times out and is counted.
  node.addNode('10.0.0.60', 6881);
  clock.advance(5000);
  assert.ok(node.stats().timeouts >= 1);
});

test('saveState / loadState round trip; malformed state entries are skipped', () => {
  const { node, sent } = makeNode();
  for (let i = 1; i <= 5; i++) ask(node, sent, { q: 'ping', id: peerId(i) }, `10.0.0.${i}`, 6881);
  ask(node, sent, { q: 'ping', id: peerId(9) }, '2001:db8::9', 6881);
  const state = JSON.parse(JSON.stringify(node.saveState())) as ReturnType<DhtNode['saveState']>;
  assert.equal(state.nodes.length, 5);
  assert.equal(state.nodes6!.length, 1);
  const { node: other } = makeNode();
  other.loadState({ ...state, nodes: [...state.nodes, { id: 'zz', host: '1.2.3.4', port: 1 }, { id: state.nodes[0]!.id, host: '::1', port: 1 }, null] });
  assert.deepEqual(other.id, node.id);
  assert.equal(other.stats().nodes, 5);
  assert.equal(other.stats().nodes6, 1);
  assert.throws(() => other.loadState('nope'), BtError);
});

test('BEP 42: external address votes from responses give us a compliant id', () => {
  const { node, clock, sent } = makeNode();
  const before = node.id;
  let changed = 0;
  node.on('id', () => changed++);
  for (let i = 1; i <= 3; i++) {
    node.addNode(`10.0.1.${i}`, 6881);
    const q = sent.at(-1)!;
    node.handlePacket(bencode({ t: q.msg.t, y: 'r', ip: new Uint8Array([8, 8, 8, 8, 0x1a, 0xe1]), r: { id: peerId(i) } }), `10.0.1.${i}`, 6881);
  }
  clock.advance(1);
  assert.equal(changed, 1);
  assert.notDeepEqual(node.id, before);
  assert.equal(node.stats().nodes, 3, 'the table survives the id change');
});

/** Two or more nodes wired through the FakeClock (1 ms latency), for the promise-based API. */
function wire(count: number): { clock: FakeClock; nodes: DhtNode[]; hosts: string[] } {
  const clock = new FakeClock();
  const nodes: DhtNode[] = [];
  const hosts: string[] = [];
  const byHost = new Map<string, DhtNode>();
  for (let i = 0; i < count; i++) {
    const host = `127.0.0.${i + 1}`;
    const n = new DhtNode({
      clock,
      random: new SeededRandom(100 + i),
      bootstrap: i === 0 ? [] : [{ host: '127.0.0.1', port: 6881 }],
      send: (b, h) => {
        const copy = b.slice();
        clock.setTimeout(() => byHost.get(h)?.handlePacket(copy, host, 6881), 1);
      },
    });
    nodes.push(n);
    hosts.push(host);
    byHost.set(host, n);
  }
  return { clock, nodes, hosts };
}

async function drive<T>(clock: FakeClock, p: Promise<T>): Promise<T> {
  let done = false;
  const wrapped = p.finally(() => (done = true));
  for (let i = 0; i < 10_000 && !done; i++) {
    clock.advance(5);
    await new Promise((r) => setImmediate(r));
  }
  return wrapped;
}

test('promise API: announce() then getPeers() finds it; abort rejects with ERR_ABORTED', async () => {
  const { clock, nodes, hosts } = wire(12);
  for (const n of nodes) n.start();
  clock.advance(2000);
  const res = await drive(clock, nodes[3]!.announce(IH, 51413));
  assert.ok(res.acked >= 8, `acked ${res.acked}`);
  const found: PeerAddress[] = [];
  await drive(
    clock,
    (async () => {
      for await (const p of nodes[9]!.getPeers(IH)) found.push(p);
    })(),
  );
  assert.deepEqual(found, [{ host: hosts[3]!, port: 51413 }]);
  const nodesFound = await drive(clock, nodes[5]!.findNode(nodes[7]!.id));
  assert.deepEqual(nodesFound[0]!.id, nodes[7]!.id);

  const ac = new AbortController();
  const it = nodes[2]!.getPeers(IH, { signal: ac.signal })[Symbol.asyncIterator]();
  ac.abort();
  await assert.rejects(it.next(), (e) => e instanceof BtError && e.code === 'ERR_ABORTED');
  await assert.rejects(nodes[2]!.announce(IH, 1, { signal: AbortSignal.abort() }), (e) => e instanceof BtError && e.code === 'ERR_ABORTED');
  for (const n of nodes) n.stop();
  assert.ok(nodes[0]!.stats().queriesIn > 0);
});
