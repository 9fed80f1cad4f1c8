/**
 * PortForwarder under a FakeClock, against in-process fakes of a UPnP IGD (SSDP + HTTP/SOAP) and a
 * NAT-PMP/PCP gateway that use the project's own codecs: renewal scheduling, PCP-first with NAT-PMP
 * fallback, epoch (reboot) handling, 725/718 handling, port changes, retries without storms, a quiet
 * 'no gateway', and bounded dispose.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../../src/core/fake-clock.js';
import { SeededRandom } from '../../../src/core/node-random.js';
import { PortForwarder } from '../../../src/nat/index.js';
import type { NatHttp, NatUdpFactory, PortForwarderOptions, PortForwarderStatus, UdpRemote } from '../../../src/nat/index.js';
import { decodeNatPmpResponse, decodePcpResponse } from '../../../src/nat/natpmp/index.js';

const GW = '192.168.1.1';
const ME = '192.168.1.50';

async function flush(): Promise<void> {
  for (let i = 0; i < 30; i++) await new Promise<void>((r) => setImmediate(r));
}

// ---- fake NAT-PMP / PCP gateway ---------------------------------------------------------------------------

interface PmpRequest {
  kind: 'pcp-announce' | 'pcp-map' | 'natpmp-address' | 'natpmp-map';
  protocol?: 'tcp' | 'udp';
  internalPort?: number;
  lifetime?: number;
  nonce?: string;
  at: number;
}

class FakePmpGateway {
  pcp = true;
  answer = true;
  bootAt: number;
  readonly mappings = new Map<string, { external: number; expires: number }>();
  readonly requests: PmpRequest[] = [];
  constructor(private readonly clock: FakeClock) {
    this.bootAt = clock.now();
  }
  reboot(): void {
    this.bootAt = this.clock.now();
    this.mappings.clear();
  }
  private epoch(): number {
    return Math.floor((this.clock.now() - this.bootAt) / 1000);
  }
  handle(b: Uint8Array): Uint8Array | undefined {
    const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
    const at = this.clock.now();
    if (!this.answer) return undefined;
    if (b[0] === 2) {
      if (!this.pcp) {
        // a NAT-PMP-only gateway: version 0, opcode + 128, result 1 (Unsupported Version)
        const r = new Uint8Array(8);
        r[1] = 128 + (b[1]! & 0x7f);
        new DataView(r.buffer).setUint16(2, 1);
        new DataView(r.buffer).setUint32(4, this.epoch());
        return r;
      }
      const op = b[1]! & 0x7f;
      const r = new Uint8Array(op === 1 ? 60 : 24);
      const rv = new DataView(r.buffer);
      r[0] = 2;
      r[1] = 0x80 | op;
      rv.setUint32(8, this.epoch());
      if (op === 0) {
        this.requests.push({ kind: 'pcp-announce', at });
        return r;
      }
      const protocol = b[36] === 6 ? 'tcp' : 'udp';
      const internalPort = v.getUint16(40);
      const lifetime = v.getUint32(4);
      this.requests.push({ kind: 'pcp-map', protocol, internalPort, lifetime, nonce: Buffer.from(b.subarray(24, 36)).toString('hex'), at });
      r.set(b.subarray(24, 44), 24);
      const k = `${protocol}/${internalPort}`;
      if (lifetime === 0) this.mappings.delete(k);
      else this.mappings.set(k, { external: internalPort, expires: at + lifetime * 1000 });
      rv.setUint32(4, lifetime);
      rv.setUint16(42, internalPort);
      r.set([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 203, 0, 113, 7], 44);
      return r;
    }
    if (b[1] === 0) {
      this.requests.push({ kind: 'natpmp-address', at });
      const r = new Uint8Array(12);
      r[1] = 128;
      new DataView(r.buffer).setUint32(4, this.epoch());
      r.set([100, 64, 1, 2], 8);
      return r;
    }
    const protocol = b[1] === 1 ? 'udp' : 'tcp';
    const internalPort = v.getUint16(4);
    const lifetime = v.getUint32(8);
    this.requests.push({ kind: 'natpmp-map', protocol, internalPort, lifetime, at });
    const k = `${protocol}/${internalPort}`;
    if (lifetime === 0) this.mappings.delete(k);
    else this.mappings.set(k, { external: internalPort, expires: at + lifetime * 1000 });
    const r = new Uint8Array(16);
    const rv = new DataView(r.buffer);
    r[1] = 128 + b[1]!;
    rv.setUint32(4, this.epoch());
    rv.setUint16(8, internalPort);
    rv.setUint16(10, lifetime === 0 ? 0 : internalPort);
    rv.setUint32(12, lifetime);
    return r;
  }
}

// ---- fake UPnP IGD ------------------------------------------------------------------------------------------

const DESC = `<?xml version="1.0"?><root xmlns="urn:schemas-upnp-org:device-1-0"><device>
<deviceType>urn:schemas-upnp-org:device:InternetGatewayDevice:1</deviceType><deviceList><device><deviceList><device><serviceList><service>
<serviceType>urn:schemas-upnp-org:service:WANIPConnection:1</serviceType><controlURL>/ctl/IPConn</controlURL></service></serviceList>
</device></deviceList></device></deviceList></device></root>`;

function envelope(inner: string): string {
  return `<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>${inner}</s:Body></s:Envelope>`;
}

interface SoapCall {
  action: string;
  args: Record<string, string>;
  at: number;
}

class FakeIgd {
  present = true;
  permanentOnly = false;
  /** AddPortMapping fails with this code for these external ports. */
  conflictPorts = new Set<number>();
  alwaysFault: number | undefined;
  deleteHangs = false;
  readonly mappings = new Map<string, { internalPort: number; client: string; lease: number }>();
  readonly calls: SoapCall[] = [];
  constructor(private readonly clock: FakeClock) {}

  http: NatHttp = async (req) => {
    if (req.method === 'GET') return { status: 200, body: DESC, localAddress: ME };
    const action = /#(\w+)"/.exec(req.headers?.['soapaction'] ?? '')![1]!;
    const args: Record<string, string> = {};
    for (const m of (req.body ?? '').matchAll(/<(New\w+)>([^<]*)<\/\1>/g)) args[m[1]!] = m[2]!;
    this.calls.push({ action, args, at: this.clock.now() });
    const fault = (code: number): { status: number; body: string; localAddress: string } => ({
      status: 500,
      body: envelope(
        `<s:Fault><faultcode>s:Client</faultcode><faultstring>UPnPError</faultstring><detail><UPnPError xmlns="urn:schemas-upnp-org:control-1-0"><errorCode>${code}</errorCode><errorDescription>E${code}</errorDescription></UPnPError></detail></s:Fault>`,
      ),
      localAddress: ME,
    });
    const ok = (inner = ''): { status: number; body: string; localAddress: string } => ({
      status: 200,
      body: envelope(`<u:${action}Response xmlns:u="urn:schemas-upnp-org:service:WANIPConnection:1">${inner}</u:${action}Response>`),
      localAddress: ME,
    });
    if (action === 'GetExternalIPAddress') return ok('<NewExternalIPAddress>81.2.69.160</NewExternalIPAddress>');
    const k = `${args['NewProtocol']}/${args['NewExternalPort']}`;
    if (action === 'AddPortMapping') {
      if (this.alwaysFault) return fault(this.alwaysFault);
      if (this.permanentOnly && args['NewLeaseDuration'] !== '0') return fault(725);
      if (this.conflictPorts.has(Number(args['NewExternalPort']))) return fault(718);
      this.mappings.set(k, { internalPort: Number(args['NewInternalPort']), client: args['NewInternalClient']!, lease: Number(args['NewLeaseDuration']) });
      return ok();
    }
    if (action === 'DeletePortMapping') {
      if (this.deleteHangs) return new Promise(() => undefined);
      if (!this.mappings.delete(k)) return fault(714);
      return ok();
    }
    return fault(401);
  };
}

// ---- wiring -------------------------------------------------------------------------------------------------

function fakeUdp(gw: FakePmpGateway | undefined, igd: FakeIgd | undefined): NatUdpFactory {
  return async (opts) => {
    const listeners: ((b: Uint8Array, from: UdpRemote) => void)[] = [];
    let closed = false;
    const deliver = (b: Uint8Array, from: UdpRemote): void => {
      queueMicrotask(() => {
        if (!closed) for (const fn of listeners) fn(b, from);
      });
    };
    return {
      send: async (bytes, port, address) => {
        if (opts.connect) {
          if (!gw || opts.connect.address !== GW) return;
          const r = gw.handle(bytes);
          if (r) deliver(r, { address: GW, port: 5351 });
          return;
        }
        if (address === '239.255.255.250' && port === 1900 && igd?.present) {
          const st = /\r\nST: ([^\r]+)/.exec(new TextDecoder().decode(bytes))![1]!;
          deliver(new TextEncoder().encode(`HTTP/1.1 200 OK\r\nST: ${st}\r\nLOCATION: http://${GW}:5000/rootDesc.xml\r\n\r\n`), { address: GW, port: 1900 });
        }
      },
      onMessage: (fn) => {
        listeners.push(fn);
      },
      localAddress: () => (opts.connect ? ME : '0.0.0.0'),
      close: () => {
        closed = true;
      },
    };
  };
}

function setup(o: { pmp?: boolean; upnp?: boolean; opts?: Partial<PortForwarderOptions> } = {}) {
  const clock = new FakeClock(0);
  const gw = o.pmp === false ? undefined : new FakePmpGateway(clock);
  const igd = new FakeIgd(clock);
  igd.present = o.upnp !== false;
  const statuses: PortForwarderStatus[] = [];
  const pf = new PortForwarder({
    clock,
    random: new SeededRandom(7),
    udp: fakeUdp(gw, igd),
    http: igd.http,
    gatewayLookup: async () => (gw ? GW : undefined),
    ssdpTimeoutMs: 1000,
    ...o.opts,
  });
  pf.on('status', (s) => statuses.push(s));
  return { clock, gw, igd, pf, statuses };
}

/** Advance the fake clock in small steps, letting promises settle in between. */
async function advance(clock: FakeClock, ms: number, step = 250): Promise<void> {
  await flush(); // let pending I/O settle before time moves
  for (let t = 0; t < ms; t += step) {
    clock.advance(Math.min(step, ms - t));
    await flush();
  }
}

test('NAT-PMP (PCP off): maps TCP and UDP, renews at half the lifetime, deletes with lifetime 0 on dispose', async () => {
  const { clock, gw, pf } = setup({ upnp: false, opts: { methods: { upnp: false, pcp: false }, natpmpLifetimeSeconds: 100 } });
  pf.setPorts({ tcp: [6881], udp: [6881] });
  await advance(clock, 1000);
  assert.deepEqual(pf.methods, ['natpmp']);
  const m = pf.mappings;
  assert.equal(m.length, 2);
  for (const x of m) {
    assert.equal(x.state, 'created');
    assert.equal(x.externalPort, 6881);
    assert.ok(x.expiresAt! >= 100_000 && x.expiresAt! <= 101_000, String(x.expiresAt));
  }
  assert.equal(pf.externalAddress, '100.64.1.2');
  assert.equal(pf.externalAddressReport?.cgnat, true);
  const maps = () => gw!.requests.filter((r) => r.kind === 'natpmp-map' && r.lifetime! > 0);
  assert.equal(maps().length, 2);
  await advance(clock, 48_000);
  assert.equal(maps().length, 2, 'no renewal before half the lifetime');
  await advance(clock, 3000);
  assert.equal(maps().length, 4, 'renewed at half the lifetime');
  assert.ok(pf.mappings.every((x) => x.expiresAt! >= 150_000));
  await advance(clock, 50_000);
  assert.equal(maps().length, 6);

  const d = pf.dispose();
  await advance(clock, 500);
  await d;
  const dels = gw!.requests.filter((r) => r.kind === 'natpmp-map' && r.lifetime === 0);
  assert.deepEqual(dels.map((r) => r.protocol).sort(), ['tcp', 'udp']);
  assert.equal(gw!.mappings.size, 0);
  assert.equal(pf.status.state, 'disposed');
  assert.equal(clock.pending(), 0, 'no timers left');
});

test('PCP is tried first; a NAT-PMP-only gateway (UNSUPP_VERSION) gets NAT-PMP', async () => {
  {
    const { clock, gw, pf } = setup({ upnp: false, opts: { methods: { upnp: false }, natpmpLifetimeSeconds: 60 } });
    pf.setPorts({ tcp: [7000], udp: [] });
    await advance(clock, 1000);
    assert.deepEqual(pf.methods, ['pcp']);
    assert.equal(gw!.requests[0]!.kind, 'pcp-announce');
    assert.equal(pf.mappings[0]!.method, 'pcp');
    assert.equal(pf.externalAddress, '203.0.113.7');
    await advance(clock, 31_000);
    const maps = gw!.requests.filter((r) => r.kind === 'pcp-map');
    assert.equal(maps.length, 2, 'renewed');
    assert.equal(maps[0]!.nonce, maps[1]!.nonce, 'a renewal keeps the nonce');
    const d = pf.dispose();
    await advance(clock, 500);
    await d;
    const del = gw!.requests.filter((r) => r.kind === 'pcp-map').at(-1)!;
    assert.equal(del.lifetime, 0);
    assert.equal(del.nonce, maps[0]!.nonce, 'the delete carries the same nonce');
    assert.equal(gw!.mappings.size, 0);
  }
  {
    const { clock, gw, pf } = setup({ upnp: false, opts: { methods: { upnp: false }, natpmpLifetimeSeconds: 60 } });
    gw!.pcp = false;
    pf.setPorts({ tcp: [7000], udp: [] });
    await advance(clock, 1000);
    assert.deepEqual(pf.methods, ['natpmp']);
    assert.deepEqual(
      gw!.requests.map((r) => r.kind),
      ['natpmp-address', 'natpmp-map'],
      'the PCP probe got UNSUPP_VERSION (not recorded), then NAT-PMP',
    );
    await pf.dispose();
  }
});

test('gateway reboot (epoch went back): every mapping is re-created at once', async () => {
  const { clock, gw, pf } = setup({ upnp: false, opts: { methods: { upnp: false, pcp: false }, natpmpLifetimeSeconds: 100 } });
  pf.setPorts({ tcp: [6881], udp: [] });
  await advance(clock, 20_000);
  pf.setPorts({ tcp: [6881], udp: [6881] }); // UDP mapped 20 s later: its own renewal is due at ~70 s
  await advance(clock, 20_000);
  assert.equal(gw!.mappings.size, 2);
  gw!.reboot(); // at 40 s: state lost
  assert.equal(gw!.mappings.size, 0);
  await advance(clock, 12_000); // TCP renews at ~50 s and sees epoch ~10 instead of ~50
  assert.ok(gw!.mappings.has('udp/6881'), 'UDP re-mapped after the epoch reset, before its own renewal');
  const udpMaps = gw!.requests.filter((r) => r.kind === 'natpmp-map' && r.protocol === 'udp');
  assert.equal(udpMaps.length, 2);
  assert.ok(udpMaps[1]!.at >= 50_000 && udpMaps[1]!.at < 52_000, String(udpMaps[1]!.at));
  await pf.dispose();
});

test('UPnP: maps with a lease through the discovered IGD, renews at half the lease, deletes on dispose', async () => {
  const { clock, igd, pf } = setup({ pmp: false, opts: { upnpLeaseSeconds: 60, description: 'tk-test' } });
  pf.setPorts({ tcp: [6881], udp: [6881] });
  await advance(clock, 1500);
  assert.deepEqual(pf.methods, ['upnp']);
  assert.equal(pf.externalAddress, '81.2.69.160');
  assert.equal(pf.externalAddressReport?.class, 'public');
  const adds = () => igd.calls.filter((c) => c.action === 'AddPortMapping');
  assert.equal(adds().length, 2);
  assert.deepEqual(adds()[0]!.args, {
    NewRemoteHost: '',
    NewExternalPort: '6881',
    NewProtocol: 'TCP',
    NewInternalPort: '6881',
    NewInternalClient: ME,
    NewEnabled: '1',
    NewPortMappingDescription: 'tk-test',
    NewLeaseDuration: '60',
  });
  await advance(clock, 30_000);
  assert.equal(adds().length, 4);
  const d = pf.dispose();
  await advance(clock, 500);
  await d;
  assert.equal(igd.calls.filter((c) => c.action === 'DeletePortMapping').length, 2);
  assert.equal(igd.mappings.size, 0);
});

test('UPnP 725 OnlyPermanentLeasesSupported: falls back to lease 0 (no expiry, no renewal)', async () => {
  const { clock, igd, pf } = setup({ pmp: false, opts: { upnpLeaseSeconds: 60 } });
  igd.permanentOnly = true;
  pf.setPorts({ tcp: [6881], udp: [] });
  await advance(clock, 1500);
  const m = pf.mappings[0]!;
  assert.equal(m.state, 'created');
  assert.equal(m.expiresAt, undefined);
  assert.deepEqual(
    igd.calls.filter((c) => c.action === 'AddPortMapping').map((c) => c.args['NewLeaseDuration']),
    ['60', '0'],
  );
  await advance(clock, 120_000, 5000);
  assert.equal(igd.calls.filter((c) => c.action === 'AddPortMapping').length, 2, 'a permanent mapping is not renewed');
  await pf.dispose();
});

test('UPnP 718 ConflictInMappingEntry: another external port when allowed, a failure when not', async () => {
  {
    const { clock, igd, pf } = setup({ pmp: false });
    igd.conflictPorts.add(6881);
    pf.setPorts({ tcp: [6881], udp: [] });
    await advance(clock, 1500);
    const m = pf.mappings[0]!;
    assert.equal(m.state, 'created');
    assert.notEqual(m.externalPort, 6881);
    assert.ok(m.externalPort! >= 1024 && m.externalPort! < 65536);
    assert.equal(igd.mappings.get(`TCP/${m.externalPort}`)?.internalPort, 6881);
    await pf.dispose();
  }
  {
    const { clock, igd, pf } = setup({ pmp: false, opts: { tryOtherExternalPorts: false } });
    igd.conflictPorts.add(6881);
    pf.setPorts({ tcp: [6881], udp: [] });
    await advance(clock, 1500);
    const m = pf.mappings[0]!;
    assert.equal(m.state, 'failed');
    assert.equal(m.error?.code, 'ERR_NAT');
    assert.match(m.error!.message, /718/);
    await pf.dispose();
  }
});

test('a refused mapping is retried with doubling back-off, not in a storm', async () => {
  const { clock, igd, pf } = setup({ pmp: false, opts: { retryMs: 60_000, maxRetryMs: 600_000 } });
  igd.alwaysFault = 606;
  const failures: string[] = [];
  pf.on('mapping', (m) => m.state === 'failed' && failures.push(m.error!.message));
  pf.setPorts({ tcp: [6881], udp: [] });
  await advance(clock, 10 * 60_000, 5000);
  const adds = igd.calls.filter((c) => c.action === 'AddPortMapping').map((c) => c.at);
  // at ~1 s, then +60 s, +120 s, +240 s => 4 attempts in 10 minutes
  assert.equal(adds.length, 4, JSON.stringify(adds));
  assert.equal(failures.length, 4);
  assert.match(failures[0]!, /606/);
  await pf.dispose();
});

test('setPorts: a removed port is deleted, an added one mapped, unchanged ones untouched', async () => {
  const { clock, igd, pf } = setup({ pmp: false });
  pf.setPorts({ tcp: [6881, 6882], udp: [6881] });
  await advance(clock, 1500);
  assert.equal(igd.mappings.size, 3);
  const before = igd.calls.length;
  pf.setPorts({ tcp: [6882, 6883], udp: [6881, 6881, 0, 70000] });
  await advance(clock, 500);
  const newCalls = igd.calls.slice(before).map((c) => `${c.action} ${c.args['NewProtocol']} ${c.args['NewExternalPort']}`);
  assert.deepEqual(newCalls.sort(), ['AddPortMapping TCP 6883', 'DeletePortMapping TCP 6881']);
  assert.deepEqual([...igd.mappings.keys()].sort(), ['TCP/6882', 'TCP/6883', 'UDP/6881']);
  assert.deepEqual(
    pf.mappings.map((m) => `${m.protocol}/${m.internalPort}`).sort(),
    ['tcp/6882', 'tcp/6883', 'udp/6881'],
  );
  await pf.dispose();
});

test('no gateway: one quiet status within the SSDP wait and NAT-PMP retries; nothing repeated later', async () => {
  const { clock, pf, statuses } = setup({ pmp: false, upnp: false, opts: { rediscoverMs: 60_000 } });
  const mappingEvents: unknown[] = [];
  pf.on('mapping', (m) => mappingEvents.push(m));
  pf.setPorts({ tcp: [6881], udp: [6881] });
  await advance(clock, 1500);
  assert.deepEqual(statuses, [{ state: 'discovering' }, { state: 'no-gateway', message: 'no gateway found' }]);
  await advance(clock, 10 * 60_000, 10_000); // rediscovery every minute finds nothing, says nothing
  assert.equal(statuses.filter((s) => s.state === 'no-gateway').length, 1);
  assert.deepEqual(mappingEvents, []);
  assert.deepEqual(pf.mappings, []);
  await pf.dispose();
  assert.equal(clock.pending(), 0);
});

test('a NAT-PMP gateway that does not answer: given up after the bounded retransmissions (250 ms doubling)', async () => {
  const { clock, gw, pf, statuses } = setup({ upnp: false, opts: { methods: { upnp: false, pcp: false }, natpmpMaxAttempts: 4 } });
  gw!.answer = false;
  pf.setPorts({ tcp: [6881], udp: [] });
  await advance(clock, 3500, 50); // 250 + 500 + 1000 + 2000 = 3750 ms
  assert.equal(statuses.at(-1)!.state, 'discovering');
  await advance(clock, 400, 50);
  assert.deepEqual(statuses.at(-1), { state: 'no-gateway', message: 'no gateway found' });
  await pf.dispose();
});

test('dispose is bounded when the gateway does not answer deletions', async () => {
  const { clock, igd, pf } = setup({ pmp: false, opts: { disposeTimeoutMs: 2000 } });
  pf.setPorts({ tcp: [6881], udp: [] });
  await advance(clock, 1500);
  igd.deleteHangs = true;
  let done = false;
  void pf.dispose().then(() => (done = true));
  await advance(clock, 1900);
  assert.equal(done, false);
  await advance(clock, 200);
  assert.equal(done, true);
  assert.equal(pf.status.state, 'disposed');
  assert.throws(() => pf.setPorts({ tcp: [1], udp: [] }), /disposed/);
});

test('decoders agree with the fake gateway (sanity)', () => {
  const clock = new FakeClock(0);
  const gw = new FakePmpGateway(clock);
  const r = gw.handle(Uint8Array.of(0, 0))!;
  assert.equal(decodeNatPmpResponse(r)?.kind, 'address');
  gw.pcp = true;
  const a = gw.handle(Uint8Array.from([2, 0, ...new Uint8Array(22)]))!;
  assert.equal(decodePcpResponse(a)?.opcode, 0);
});
