/**
 * DHT interop on 127.0.0.1 (BEP 5): a torrentkit DhtNode on a real UDP socket (NodeUdpMux) joins a small DHT of
 * npm `bittorrent-dht` nodes (in this process) and, when python3-libtorrent is available, libtorrent sessions.
 * Announces go both ways: ours is found by bittorrent-dht's lookup and libtorrent's dht_get_peers; theirs by
 * our getPeers. Nothing leaves loopback: every third-party node gets an explicit loopback bootstrap (or none).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile, mkdir } from 'node:fs/promises';
import { NodeClock } from '../../src/core/node-clock.js';
import { NodeRandom } from '../../src/core/node-random.js';
import { NodeUdpMux } from '../../src/transport/udp/udp-mux.js';
import { DhtNode } from '../../src/dht/index.js';
import type { PeerAddress } from '../../src/dht/index.js';
import { toHex } from '../../src/util/bytes.js';
import { pollUntil, withHarness } from '../helpers/harness.js';
import type { Harness } from '../helpers/harness.js';
import { LT_PYTHON, requireTools } from '../helpers/tools.js';
import { freePort } from '../helpers/ports.js';

interface BtDht {
  listen(port: number, host: string, cb: () => void): void;
  address(): { address: string; port: number };
  addNode(n: { host: string; port: number }): void;
  announce(ih: string, port: number, cb: (err: Error | null) => void): void;
  lookup(ih: string, cb: (err: Error | null) => void): void;
  on(ev: string, fn: (...a: never[]) => void): void;
  toJSON(): { nodes: unknown[] };
  destroy(cb?: () => void): void;
}

const LOOP = '127.0.0.1';
// bittorrent-dht ships no types: import it by a non-literal name and describe the little we use.
const BT_DHT = 'bittorrent-dht';
const { default: DHT } = (await import(BT_DHT)) as { default: new (o: object) => BtDht };

async function startBtDht(h: Harness, bootstrap: string[] | false): Promise<BtDht & { port: number }> {
  const d = new DHT({ bootstrap, host: LOOP });
  d.on('error', () => {});
  d.on('warning', () => {});
  await new Promise<void>((res) => d.listen(0, LOOP, res));
  h.defer(() => new Promise<void>((res) => d.destroy(() => res())));
  return Object.assign(d, { port: d.address().port });
}

async function collectPeers(node: DhtNode, ih: Uint8Array, want: (p: PeerAddress) => boolean, timeoutMs: number): Promise<PeerAddress | undefined> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), 5000);
    try {
      for await (const p of node.getPeers(ih, { signal: ac.signal })) {
        if (want(p)) return p;
      }
    } catch {
      // aborted round
    } finally {
      clearTimeout(timer);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  return undefined;
}

const LT_SCRIPT = String.raw`
import json, sys, time
import libtorrent as lt
port, nodes, get_ih, ann_ih, save, secs = int(sys.argv[1]), sys.argv[2].split(','), sys.argv[3], sys.argv[4], sys.argv[5], float(sys.argv[6])
def out(**k):
    print(json.dumps(k), flush=True)
s = lt.session({'listen_interfaces': '127.0.0.1:%d' % port, 'enable_dht': True, 'dht_bootstrap_nodes': '',
    'dht_restrict_routing_ips': False, 'dht_restrict_search_ips': False, 'enable_lsd': False,
    'enable_upnp': False, 'enable_natpmp': False, 'alert_mask': lt.alert.category_t.all_categories})
def add_nodes():
    for n in nodes:
        h, p = n.rsplit(':', 1)
        s.add_dht_node((h, int(p)))
add_nodes()
atp = lt.add_torrent_params()
sha = lt.sha1_hash(bytes.fromhex(ann_ih))
try:
    atp.info_hashes = lt.info_hash_t(sha)
except Exception:
    atp.info_hash = sha
atp.save_path = save
atp.flags &= ~lt.torrent_flags.auto_managed
th = s.add_torrent(atp)
th.resume()
out(event='started', port=port)
t0 = time.time()
last = 0
while time.time() - t0 < secs:
    if time.time() - last > 2:
        last = time.time()
        st = s.status()
        out(event='dht', nodes=st.dht_nodes)
        if st.dht_nodes < 2:
            add_nodes()
        th.force_dht_announce()
        s.dht_get_peers(lt.sha1_hash(bytes.fromhex(get_ih)))
    for a in s.pop_alerts():
        if isinstance(a, lt.dht_get_peers_reply_alert):
            out(event='peers', peers=['%s:%d' % (e[0], e[1]) for e in a.peers()])
        elif isinstance(a, lt.dht_announce_alert):
            out(event='incoming_announce', ip=str(a.ip), port=a.port)
    time.sleep(0.1)
`;

test('DHT interop: torrentkit with bittorrent-dht (and libtorrent) on loopback', { timeout: 150_000 }, async (t) => {
  await withHarness(t, 'dht-real', async (h) => {
    // Three bittorrent-dht nodes, started one after another.
    const d0 = await startBtDht(h, false);
    const d1 = await startBtDht(h, [`${LOOP}:${d0.port}`]);
    const d2 = await startBtDht(h, [`${LOOP}:${d0.port}`, `${LOOP}:${d1.port}`]);
    h.note(`bittorrent-dht nodes on ${d0.port}, ${d1.port}, ${d2.port}`);

    // Our node on a real UDP socket.
    const mux = new NodeUdpMux();
    await mux.bind([{ host: LOOP, port: 0 }]);
    h.defer(() => mux.close());
    const tk = new DhtNode({ clock: new NodeClock(), random: new NodeRandom(), queryTimeoutMs: 1500 });
    tk.attach(mux);
    h.defer(() => tk.stop());
    tk.start();
    for (const d of [d0, d1, d2]) tk.addNode(LOOP, d.port);
    d0.addNode({ host: LOOP, port: mux.port });
    await pollUntil(() => tk.stats().nodes >= 3, 20_000, 'our table to hold the 3 bittorrent-dht nodes');
    h.note(`torrentkit DHT on ${mux.port}: ${tk.stats().nodes} nodes`);

    // Ours -> theirs: we announce, a fresh bittorrent-dht node finds us by lookup.
    const ihOurs = new Uint8Array(20).map((_, i) => i + 1);
    const res = await tk.announce(ihOurs, 40001);
    h.note(`our announce acked by ${res.acked} nodes`);
    assert.ok(res.acked >= 1, 'some bittorrent-dht node took our announce');
    const d3 = await startBtDht(h, [`${LOOP}:${d1.port}`]);
    const seen: string[] = [];
    d3.on('peer', ((p: { host: string; port: number }) => seen.push(`${p.host}:${p.port}`)) as (...a: never[]) => void);
    await pollUntil(
      async () => {
        await new Promise<void>((r) => d3.lookup(toHex(ihOurs), () => r()));
        return seen.includes(`${LOOP}:40001`);
      },
      30_000,
      'bittorrent-dht lookup to find our announce',
      500,
    );
    h.note('bittorrent-dht found our announce');

    // Theirs -> ours: bittorrent-dht announces, we find it.
    const ihTheirs = new Uint8Array(20).fill(0xab);
    await new Promise<void>((res2, rej) => d2.announce(toHex(ihTheirs), 40002, (e) => (e ? rej(e) : res2())));
    const found = await collectPeers(tk, ihTheirs, (p) => p.port === 40002, 30_000);
    assert.deepEqual(found, { host: LOOP, port: 40002 });
    h.note('we found bittorrent-dht announce');
    const st = tk.stats();
    assert.ok(st.queriesIn > 0 && st.responsesIn > 0 && st.invalid === 0, JSON.stringify(st));

    // libtorrent, when it is installed.
    if (!requireTools(t, ['libtorrent'])) return;
    await mkdir(h.path('lt'), { recursive: true });
    await writeFile(h.path('lt-dht.py'), LT_SCRIPT);
    const ltPort = await freePort();
    const ihLt = new Uint8Array(20).fill(0xcd);
    const nodes = [`${LOOP}:${mux.port}`, `${LOOP}:${d0.port}`].join(',');
    const lt = h.procs.spawn(LT_PYTHON, [h.path('lt-dht.py'), String(ltPort), nodes, toHex(ihOurs), toHex(ihLt), h.path('lt'), '90'], { name: 'lt-dht' });
    tk.addNode(LOOP, ltPort);
    // libtorrent's dht_get_peers finds our announce (re-announce so its node is among the closest).
    await lt.whileRunning(
      pollUntil(
        async () => {
          if (lt.stdoutLines.some((l) => l.includes('"peers"') && l.includes(`${LOOP}:40001`))) return true;
          if (tk.stats().nodes > 0) await tk.announce(ihOurs, 40001).catch(() => undefined);
          return false;
        },
        60_000,
        'libtorrent dht_get_peers to return our announce',
        1000,
      ),
      'libtorrent',
    );
    h.note('libtorrent found our announce');
    // libtorrent announces its torrent (force_dht_announce); we find 127.0.0.1:<its listen port>.
    const ltPeer = await lt.whileRunning(collectPeers(tk, ihLt, (p) => p.port === ltPort, 60_000), 'libtorrent');
    assert.deepEqual(ltPeer, { host: LOOP, port: ltPort });
    h.note('we found libtorrent announce');
  });
});
