/**
 * Port forwarding against a real router: Debian's miniupnpd (UPnP IGD v2, NAT-PMP, PCP) in network
 * namespaces this test creates (test/helpers/upnp-router.ts). The PortForwarder runs as a separate process
 * inside the client namespace (test/helpers/nat-client.ts), because Node cannot enter a namespace itself.
 * Each method is checked on its own: TCP and UDP mapped, visible to upnpc and in the router's nftables
 * DNAT chain, renewed before short leases expire, external address reported (10.77.0.1, a private address
 * the router learnt by STUN, so a double NAT), and everything removed on dispose. Without a router the
 * forwarder reports 'no gateway found' once, quietly, within bounded time.
 */
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Harness } from '../helpers/harness.js';
import { pollUntil, withHarness } from '../helpers/harness.js';
import type { Proc } from '../helpers/procs.js';
import { requireTools } from '../helpers/tools.js';
import { CLIENT_IP, Namespaces, ROUTER_WAN_IP, removeStaleNamespaces, sh, startUpnpRouter } from '../helpers/upnp-router.js';
import type { UpnpRouter } from '../helpers/upnp-router.js';

const NAT_CLIENT = join(dirname(fileURLToPath(import.meta.url)), '..', 'helpers', 'nat-client.js');

interface Ev {
  ev: string;
  t: number;
  status?: { state: string; message?: string; methods?: string[] };
  mapping?: { protocol: string; internalPort: number; externalPort?: number; method: string; state: string; expiresAt?: number; error?: { message: string } };
  report?: { address: string; class: string; doubleNat: boolean; cgnat: boolean; method: string };
  ms?: number;
  mappings?: unknown[];
}

function events(p: Proc): Ev[] {
  return p.stdoutLines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Ev);
}

function startClient(h: Harness, ns: string, name: string, cfg: Record<string, unknown>): Proc {
  return h.procs.spawn('ip', ['netns', 'exec', ns, process.execPath, NAT_CLIENT, JSON.stringify(cfg)], { name });
}

/** The 'created' events of one mapping, in order. */
function created(p: Proc, method: string, protocol: string, port: number): Ev[] {
  return events(p).filter(
    (e) => e.ev === 'mapping' && e.mapping!.method === method && e.mapping!.protocol === protocol && e.mapping!.internalPort === port && e.mapping!.state === 'created',
  );
}

async function waitCreated(p: Proc, method: string, port: number, count = 1, timeoutMs = 15_000): Promise<void> {
  await p.whileRunning(
    pollUntil(
      () => {
        const failed = events(p).find((e) => e.ev === 'mapping' && e.mapping!.state === 'failed');
        if (failed) throw new Error(`mapping failed: ${JSON.stringify(failed.mapping)}`);
        return created(p, method, 'tcp', port).length >= count && created(p, method, 'udp', port).length >= count;
      },
      timeoutMs,
      `${method} TCP+UDP ${port} created x${count}`,
    ),
    'nat-client',
  );
}

async function stopClient(p: Proc): Promise<Ev> {
  p.signal('SIGTERM');
  await p.waitForExit(10_000);
  const d = events(p).find((e) => e.ev === 'disposed');
  assert.ok(d, 'nat-client printed no "disposed" line');
  return d;
}

/**
 * The common scenario for one method: map TCP+UDP `port` with a short lease, check the router has them,
 * see them renewed and still there after the first lease ran out, then dispose and check they are gone.
 */
async function mapRenewRemove(h: Harness, r: UpnpRouter, method: 'upnp' | 'natpmp' | 'pcp', port: number, leaseS: number, cfg: Record<string, unknown>): Promise<void> {
  const c = startClient(h, r.clientNs, `nat-client-${method}`, { ...cfg, ports: { tcp: [port], udp: [port] } });
  await waitCreated(c, method, port);
  const first = created(c, method, 'tcp', port)[0]!;
  h.note(`${method}: TCP+UDP ${port} mapped at ${first.t} ms: ${JSON.stringify(first.mapping)}`);

  const list = r.listMappings();
  h.note(`upnpc -l: ${JSON.stringify(list)}`);
  assert.ok(list.some((l) => l.startsWith(`TCP  ${port}->${CLIENT_IP}:${port}`)), `TCP ${port} not listed by upnpc: ${list.join(' | ')}`);
  assert.ok(list.some((l) => l.startsWith(`UDP  ${port}->${CLIENT_IP}:${port}`)), `UDP ${port} not listed by upnpc: ${list.join(' | ')}`);
  assert.match(r.nftRules(), new RegExp(`dnat ip to ${CLIENT_IP.replace(/\./g, '\\.')}:${port}`));

  // external address: the router's WAN address, private (double NAT)
  await c.whileRunning(pollUntil(() => events(c).find((e) => e.ev === 'external'), 10_000, 'external address event'), 'nat-client');
  const ext = events(c).find((e) => e.ev === 'external')!.report!;
  assert.equal(ext.address, ROUTER_WAN_IP);
  assert.equal(ext.class, 'private');
  assert.equal(ext.doubleNat, true);

  // renewal before expiry (renewFraction 0.5): a second 'created' with a later expiry, and the mapping still
  // there once the first lease would have run out
  await waitCreated(c, method, port, 2, leaseS * 1000 + 5000);
  const renewals = created(c, method, 'tcp', port);
  assert.ok(renewals[1]!.t < first.t + leaseS * 1000, `renewed at ${renewals[1]!.t} ms, after the lease (${first.t} + ${leaseS * 1000} ms) ran out`);
  assert.ok(renewals[1]!.mapping!.expiresAt! > first.mapping!.expiresAt!, 'renewal did not move the expiry');
  await c.whileRunning(pollUntil(() => created(c, method, 'udp', port).length >= 3, leaseS * 1000 + 5000, 'third UDP renewal'), 'nat-client');
  const later = r.listMappings();
  assert.ok(later.some((l) => l.startsWith(`TCP  ${port}->`)) && later.some((l) => l.startsWith(`UDP  ${port}->`)), `mappings gone after renewal: ${later.join(' | ')}`);

  // dispose removes everything, within its bound
  const d = await stopClient(c);
  h.note(`${method}: disposed in ${d.ms} ms`);
  assert.ok(d.ms! < 3500, `dispose took ${d.ms} ms`);
  const after = r.listMappings();
  assert.ok(!after.some((l) => new RegExp(`^(TCP|UDP)\\s+${port}->`).test(l)), `mappings left after dispose: ${after.join(' | ')}`);
  assert.doesNotMatch(r.nftRules(), new RegExp(`dnat ip to ${CLIENT_IP.replace(/\./g, '\\.')}:${port}\\b`));
  assert.equal(events(c).filter((e) => e.ev === 'mapping' && e.mapping!.state === 'failed').length, 0);
}

test('port forwarding against miniupnpd (UPnP IGD, NAT-PMP, PCP) in network namespaces', { timeout: 240_000 }, async (t) => {
  if (!requireTools(t, ['netns', 'miniupnpd', 'nftables', 'stund', 'miniupnpc', 'natpmpc'])) return;
  removeStaleNamespaces();
  await withHarness(t, 'upnp-miniupnpd', async (h) => {
    const nss = new Namespaces();
    h.defer(() => nss.deleteAll());
    const r = await startUpnpRouter(h, nss);
    h.note(`router up: ${r.rootDescUrl}`);

    await t.test('UPnP only: TCP+UDP mapped, renewed, external address, removed on dispose', async () => {
      await mapRenewRemove(h, r, 'upnp', 6881, 6, {
        methods: { upnp: true, natpmp: false, pcp: false },
        multicastInterface: CLIENT_IP,
        ssdpTimeoutMs: 2000,
        upnpLeaseSeconds: 6,
      });
    });

    await t.test('NAT-PMP only: TCP+UDP mapped, renewed at half lifetime, removed on dispose', async () => {
      await mapRenewRemove(h, r, 'natpmp', 6882, 4, {
        methods: { upnp: false, natpmp: true, pcp: false },
        natpmpLifetimeSeconds: 4,
        natpmpMaxAttempts: 4,
      });
    });

    await t.test('PCP (tried first on 5351): TCP+UDP mapped, renewed, removed on dispose', async () => {
      await mapRenewRemove(h, r, 'pcp', 6883, 4, {
        methods: { upnp: false, natpmp: true, pcp: true },
        natpmpLifetimeSeconds: 4,
        natpmpMaxAttempts: 4,
      });
    });

    await t.test('all methods at once, then setPorts change: old port removed, new one mapped', async () => {
      const c = startClient(h, r.clientNs, 'nat-client-all', {
        multicastInterface: CLIENT_IP,
        ssdpTimeoutMs: 2000,
        natpmpMaxAttempts: 4,
        ports: { tcp: [6884], udp: [6884] },
        portsOnUsr1: { tcp: [6885], udp: [6885] },
      });
      await waitCreated(c, 'upnp', 6884);
      await waitCreated(c, 'pcp', 6884);
      const methods = events(c).filter((e) => e.ev === 'status' && e.status!.state === 'ready').at(-1)!.status!.methods!;
      assert.deepEqual([...methods].sort(), ['pcp', 'upnp']);
      const list = r.listMappings();
      assert.ok(list.some((l) => l.startsWith(`TCP  6884->${CLIENT_IP}:6884`)), list.join(' | '));
      // the engine's port changes: 6884 goes, 6885 comes, with both methods
      c.signal('SIGUSR1');
      await waitCreated(c, 'upnp', 6885);
      await waitCreated(c, 'pcp', 6885);
      await pollUntil(() => !r.listMappings().some((l) => l.includes(`->${CLIENT_IP}:6884 `)), 5000, '6884 removed after the port change');
      const now = r.listMappings();
      h.note(`after the port change: ${JSON.stringify(now)}`);
      assert.ok(now.some((l) => l.startsWith(`TCP  6885->${CLIENT_IP}:6885 `)), now.join(' | '));
      assert.ok(now.some((l) => l.startsWith(`UDP  6885->${CLIENT_IP}:6885 `)), now.join(' | '));
      const d = await stopClient(c);
      assert.ok(d.ms! < 3500, `dispose took ${d.ms} ms`);
      const left = r.listMappings().filter((l) => /->[\d.]+:688[45] /.test(l));
      assert.deepEqual(left, [], 'mappings left after dispose');
    });

    await t.test('IGD v1 router (force_igd_desc_v1): WANIPConnection:1 found and used', async () => {
      await r.stop();
      const r1 = await startUpnpRouter(h, nss, { igdV1: true, tag: '1' });
      const c = startClient(h, r1.clientNs, 'nat-client-igd1', {
        methods: { upnp: true, natpmp: false, pcp: false },
        multicastInterface: CLIENT_IP,
        ssdpTimeoutMs: 2000,
        ports: { tcp: [6886], udp: [6886] },
      });
      await waitCreated(c, 'upnp', 6886);
      assert.match(c.stderr, /upnp gateway 192\.168\.77\.1 \(urn:schemas-upnp-org:service:WANIPConnection:1 at http:\/\/192\.168\.77\.1:5000\//);
      const list = r1.listMappings();
      assert.ok(list.some((l) => l.startsWith(`TCP  6886->${CLIENT_IP}:6886 `)), list.join(' | '));
      assert.ok(list.some((l) => l.startsWith(`UDP  6886->${CLIENT_IP}:6886 `)), list.join(' | '));
      await stopClient(c);
      assert.deepEqual(r1.listMappings().filter((l) => l.includes(':6886 ')), []);
    });
  });
});

test('port forwarding with no router: one quiet "no gateway found" within bounded time', { timeout: 60_000 }, async (t) => {
  if (!requireTools(t, ['netns'])) return;
  removeStaleNamespaces();
  await withHarness(t, 'upnp-no-gateway', async (h) => {
    const nss = new Namespaces();
    h.defer(() => nss.deleteAll());
    // a LAN with a default route to a gateway that does not exist
    const lonely = nss.add('lonely');
    const peer = nss.add('void');
    nss.veth(lonely, 'eth0', peer, 'eth0');
    sh('ip', ['-n', lonely, 'addr', 'add', '192.168.78.2/24', 'dev', 'eth0']);
    sh('ip', ['-n', lonely, 'route', 'add', 'default', 'via', '192.168.78.1']);
    const c = startClient(h, lonely, 'nat-client-none', {
      ssdpTimeoutMs: 1500,
      natpmpMaxAttempts: 3,
      multicastInterface: '192.168.78.2',
      ports: { tcp: [6881], udp: [6881] },
    });
    const t0 = Date.now();
    await c.whileRunning(
      pollUntil(() => events(c).find((e) => e.ev === 'status' && e.status!.state === 'no-gateway'), 10_000, 'no-gateway status'),
      'nat-client',
    );
    const took = Date.now() - t0;
    h.note(`no gateway reported after ${took} ms`);
    // stay a while: nothing more may be reported
    await new Promise((res) => setTimeout(res, 1500));
    const d = await stopClient(c);
    const evs = events(c);
    const statuses = evs.filter((e) => e.ev === 'status').map((e) => e.status!.state);
    assert.deepEqual(statuses.filter((s) => s === 'no-gateway'), ['no-gateway']);
    assert.equal(evs.find((e) => e.ev === 'status' && e.status!.state === 'no-gateway')!.status!.message, 'no gateway found');
    assert.equal(evs.filter((e) => e.ev === 'mapping').length, 0, 'no mapping may be attempted without a gateway');
    const errors = c.stderr.split('\n').filter((l) => /\b(error|warn):/.test(l));
    assert.deepEqual(errors, [], 'no error or warning logs');
    assert.ok(d.ms! < 500, `dispose took ${d.ms} ms`);
  });
});
