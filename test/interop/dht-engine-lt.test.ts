/**
 * DHT as the engine's peer source (BEP 5), on 127.0.0.1: a private DHT of three libtorrent sessions plus a
 * libtorrent seeder that announces its torrent to the DHT (no tracker, no LSD). `torrentkit download` of the
 * .torrent with only `--dht-bootstrap 127.0.0.1:PORT` (no tracker, no --peer) finds the seeder through the DHT
 * and completes byte-identical; then the same with a magnet link that holds only the info-hash.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { withHarness } from '../helpers/harness.js';
import { makePayload, KiB, MiB } from '../helpers/payload.js';
import { ltMakeTorrent } from '../helpers/lt.js';
import { tkDownload, tkSeed } from '../helpers/cli.js';
import { freePort } from '../helpers/ports.js';
import { assertSameTree } from '../helpers/files.js';
import { LT_PYTHON, requireTools } from '../helpers/tools.js';

const LOOP = '127.0.0.1';

// One python process: DHT-only sessions on ports[0..n-2] and the seeder on ports[n-1], joined with
// add_dht_node (routers never enter libtorrent's tables; FINDINGS §4), started one after another.
// allow_multiple_connections_per_ip: on loopback every peer is 127.0.0.1, and libtorrent's default keeps one
// peer-list entry per IP. A libtorrent session gets its *own* announce back from the DHT, connects to itself,
// bans that entry ("connected to ourselves") and then refuses every other 127.0.0.1 peer as a duplicate of it,
// so whether it ever talks to torrentkit depended on which 127.0.0.1 address it learned first.
const LT_SCRIPT = String.raw`
import json, sys, time
import libtorrent as lt
ports = [int(p) for p in sys.argv[1].split(',')]
torrent, save, secs = sys.argv[2], sys.argv[3], float(sys.argv[4])
def out(**k):
    print(json.dumps(k), flush=True)
def session(port):
    return lt.session({'listen_interfaces': '%s:%d' % ('127.0.0.1', port), 'enable_dht': True, 'dht_bootstrap_nodes': '',
        'dht_restrict_routing_ips': False, 'dht_restrict_search_ips': False,
        'allow_multiple_connections_per_ip': True, 'enable_lsd': False,
        'enable_upnp': False, 'enable_natpmp': False, 'alert_mask': lt.alert.category_t.all_categories})
sessions = []
for i, p in enumerate(ports):
    s = session(p)
    sessions.append(s)
    time.sleep(0.2)
def join():
    for i, s in enumerate(sessions):
        for j in ([1] if i == 0 else [0, i - 1]):
            if j < len(sessions) and j != i:
                s.add_dht_node(('127.0.0.1', ports[j]))
join()
seeder = sessions[-1]
atp = lt.add_torrent_params()
atp.ti = lt.torrent_info(torrent)
atp.save_path = save
atp.flags &= ~lt.torrent_flags.auto_managed
th = seeder.add_torrent(atp)
th.resume()
out(event='started', ports=ports)
t0 = time.time()
last = 0
while time.time() - t0 < secs:
    if time.time() - last > 2:
        last = time.time()
        nodes = [s.status().dht_nodes for s in sessions]
        st = th.status()
        out(event='dht', nodes=nodes, seeding=st.is_seeding, peers=st.num_peers, uploaded=st.total_payload_upload)
        if min(nodes) < 2:
            join()
        th.force_dht_announce()
    for s in sessions:
        s.pop_alerts()
    time.sleep(0.1)
`;

// The reverse: DHT-only sessions plus a libtorrent *leecher* that looks the torrent up in the DHT (forcing an
// announce, i.e. get_peers + announce_peer, every 2 s) and exits 0 once finished.
const LT_LEECH_SCRIPT = LT_SCRIPT.replace("out(event='dht', nodes=nodes, seeding=st.is_seeding, peers=st.num_peers, uploaded=st.total_payload_upload)",
    "out(event='dht', nodes=nodes, seeding=st.is_seeding, peers=st.num_peers, downloaded=st.total_payload_download)\n        if st.is_seeding:\n            out(event='finished')\n            sys.exit(0)");

test('DHT peer source: torrentkit finds a libtorrent seeder through a loopback DHT and downloads', { timeout: 180_000 }, async (t) => {
  if (!requireTools(t, ['libtorrent', 'torrentkit'])) return;
  await withHarness(t, 'dht-engine-lt', async (h) => {
    const payload = await makePayload(h.path('src'), { totalSize: 8 * MiB });
    const made = ltMakeTorrent(payload.root, h.path('t.torrent'), 64 * KiB);
    await writeFile(h.path('lt-dht-swarm.py'), LT_SCRIPT);
    const ports: number[] = [];
    for (let i = 0; i < 4; i++) ports.push(await freePort());
    const lt = h.procs.spawn(LT_PYTHON, [h.path('lt-dht-swarm.py'), ports.join(','), made.torrent, payload.dir, '150'], { name: 'lt-dht-swarm' });
    const seederPort = ports[ports.length - 1]!;
    h.note(`libtorrent DHT nodes on ${ports.slice(0, -1).join(', ')}, seeder on ${seederPort}`);

    const t0 = Date.now();
    const tk = tkDownload(h, made.torrent, h.path('out'), [
      '--dht-bootstrap',
      `${LOOP}:${ports[0]},${LOOP}:${ports[1]}`,
      '--listen',
      `${LOOP}:${await freePort()}`,
      '--no-lsd',
    ]);
    await lt.whileRunning(tk.waitComplete(120_000), 'libtorrent DHT swarm');
    const secs = (Date.now() - t0) / 1000;
    h.note(`torrentkit found the seeder through the DHT and downloaded ${made.totalSize} bytes in ${secs.toFixed(2)} s`);
    await assertSameTree(payload.root, h.path('out', payload.name));

    // A magnet link (info-hash only): the metadata and the pieces come from the peer the DHT found.
    const t1 = Date.now();
    const tkm = tkDownload(
      h,
      `magnet:?xt=urn:btih:${made.infohash}`,
      h.path('out-magnet'),
      ['--dht-bootstrap', `${LOOP}:${ports[1]}`, '--listen', `${LOOP}:${await freePort()}`, '--no-lsd'],
      'tk-magnet',
    );
    await lt.whileRunning(tkm.waitComplete(120_000), 'libtorrent DHT swarm');
    h.note(`magnet through the DHT: complete in ${((Date.now() - t1) / 1000).toFixed(2)} s`);
    await assertSameTree(payload.root, h.path('out-magnet', payload.name));
    const dhtLines = lt.stdoutLines.filter((l) => l.includes('"dht"'));
    assert.ok(dhtLines.length > 0, 'the swarm reported its DHT');
    h.note(`last swarm status: ${dhtLines[dhtLines.length - 1]}`);
  });
});

interface BtDht {
  listen(port: number, host: string, cb: () => void): void;
  address(): { address: string; port: number };
  on(ev: string, fn: (...a: never[]) => void): void;
  destroy(cb?: () => void): void;
  toJSON(): { nodes: unknown[] };
}

test('DHT peer source, reverse: a libtorrent leecher finds a torrentkit seeder through a loopback DHT (with a bittorrent-dht node)', { timeout: 180_000 }, async (t) => {
  if (!requireTools(t, ['libtorrent', 'torrentkit'])) return;
  await withHarness(t, 'dht-engine-lt-reverse', async (h) => {
    const payload = await makePayload(h.path('src'), { totalSize: 8 * MiB, seed: 'dht-reverse' });
    const made = ltMakeTorrent(payload.root, h.path('t.torrent'), 64 * KiB);
    await writeFile(h.path('lt-dht-leech.py'), LT_LEECH_SCRIPT);
    const ports: number[] = [];
    for (let i = 0; i < 4; i++) ports.push(await freePort());
    // The DHT nodes start first (the leecher session is the last one), then torrentkit seeds and announces.
    const lt = h.procs.spawn(LT_PYTHON, [h.path('lt-dht-leech.py'), ports.join(','), made.torrent, h.path('out'), '150'], { name: 'lt-dht-leech' });
    // An npm bittorrent-dht node joins the libtorrent nodes, so the DHT mixes three implementations, and torrentkit
    // bootstraps from it and one libtorrent node. bittorrent-dht bootstraps once: it starts only when the libtorrent
    // sessions listen ("started"), else its table stays empty and it never learns the libtorrent nodes.
    await lt.waitForLine((l) => l.includes('"started"'), 30_000, 'libtorrent DHT nodes listening');
    const BT_DHT = 'bittorrent-dht'; // no types shipped: imported by a non-literal name
    const { default: DHT } = (await import(BT_DHT)) as { default: new (o: object) => BtDht };
    const bt = new DHT({ bootstrap: [`${LOOP}:${ports[0]}`, `${LOOP}:${ports[1]}`], host: LOOP });
    bt.on('error', () => {});
    bt.on('warning', () => {});
    await new Promise<void>((res) => bt.listen(0, LOOP, res));
    h.defer(() => new Promise<void>((res) => bt.destroy(() => res())));
    await new Promise<void>((res) => {
      const timer = setTimeout(res, 10_000);
      bt.on('ready', () => {
        clearTimeout(timer);
        res();
      });
    });
    const btNodes = bt.toJSON().nodes.length;
    h.note(`bittorrent-dht node on ${bt.address().port}, ${btNodes} nodes in its table`);
    assert.ok(btNodes > 0, 'the bittorrent-dht node learned the libtorrent nodes');
    const seed = tkSeed(h, made.torrent, payload.dir, [
      '--dht-bootstrap',
      `${LOOP}:${bt.address().port},${LOOP}:${ports[0]}`,
      '--listen',
      `${LOOP}:${await freePort()}`,
      '--no-lsd',
    ]);
    const t0 = Date.now();
    await seed.proc.whileRunning(lt.waitForLine((l) => l.includes('"finished"'), 120_000, 'libtorrent finished'), 'torrentkit seeder');
    h.note(`libtorrent found torrentkit through the DHT and finished in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    await assertSameTree(payload.root, h.path('out', payload.name));
    assert.equal((await seed.interrupt()).code, 0);
  });
});

// The same swarm on IPv6 loopback only: libtorrent runs its DHT node on the [::1] listen socket.
const LT_SCRIPT_V6 = LT_SCRIPT.replace("'%s:%d' % ('127.0.0.1', port)", "'[%s]:%d' % ('::1', port)").replace("s.add_dht_node(('127.0.0.1', ports[j]))", "s.add_dht_node(('::1', ports[j]))");

test('DHT over IPv6 (BEP 32): torrentkit on [::1] only finds a libtorrent seeder through libtorrent IPv6 DHT nodes', { timeout: 180_000 }, async (t) => {
  if (!requireTools(t, ['libtorrent', 'torrentkit'])) return;
  await withHarness(t, 'dht-engine-lt-v6', async (h) => {
    const payload = await makePayload(h.path('src'), { totalSize: 8 * MiB, seed: 'dht-v6' });
    const made = ltMakeTorrent(payload.root, h.path('t.torrent'), 64 * KiB);
    await writeFile(h.path('lt-dht-swarm6.py'), LT_SCRIPT_V6);
    const ports: number[] = [];
    for (let i = 0; i < 4; i++) ports.push(await freePort());
    const lt = h.procs.spawn(LT_PYTHON, [h.path('lt-dht-swarm6.py'), ports.join(','), made.torrent, payload.dir, '150'], { name: 'lt-dht-swarm6' });
    h.note(`libtorrent IPv6 DHT nodes on [::1]:${ports.slice(0, -1).join(', ')}, seeder on [::1]:${ports[3]}`);
    const t0 = Date.now();
    const tk = tkDownload(h, made.torrent, h.path('out'), [
      '--dht-bootstrap',
      `[::1]:${ports[0]},[::1]:${ports[1]}`,
      '--listen',
      `[::1]:${await freePort()}`,
      '--no-lsd',
    ]);
    await lt.whileRunning(tk.waitComplete(120_000), 'libtorrent IPv6 DHT swarm');
    h.note(`found through the IPv6 DHT and downloaded in ${((Date.now() - t0) / 1000).toFixed(2)} s`);
    await assertSameTree(payload.root, h.path('out', payload.name));
    const peers = tk.all<{ event: string; address?: string }>('peer').map((p) => p.address);
    h.note(`peers: ${JSON.stringify(peers.slice(0, 5))}`);
    assert.ok(peers.length > 0 && peers.every((a) => a?.startsWith('[::1]')), 'every peer over IPv6');
  });
});
