/** The engine's PortForwarder wiring (issue 8): ports handed over after start, events, reachability, dispose. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClientEngine, resolveSettings } from '../../../src/index.js';
import type { PortMapping, ReachabilityReport } from '../../../src/index.js';
import { reportExternalAddress } from '../../../src/nat/index.js';
import type { NodePortForwarderOptions, PortForwarder, PortForwarderEvents, PortForwarderStatus, PortSet } from '../../../src/nat/index.js';
import { TypedEmitter } from '../../../src/util/typed-emitter.js';

class FakeForwarder extends TypedEmitter<PortForwarderEvents> {
  ports: PortSet[] = [];
  disposed = 0;
  mappings: PortMapping[] = [];
  status: PortForwarderStatus = { state: 'idle' };
  externalAddressReport: ReturnType<typeof reportExternalAddress> & { method: 'upnp' } | undefined;
  setPorts(p: PortSet): void {
    this.ports.push(p);
  }
  start(): void {}
  fire<K extends keyof PortForwarderEvents & string>(ev: K, ...args: PortForwarderEvents[K]): void {
    this.emit(ev, ...args);
  }
  dispose(): Promise<void> {
    this.disposed++;
    return Promise.resolve();
  }
}

const base = { listenEndpoints: ['127.0.0.1:0'], lsdEnabled: false, dhtEnabled: false };

test('engine maps its TCP and UDP ports, relays mapping events, reports double NAT, disposes the forwarder', async () => {
  const fake = new FakeForwarder();
  let opts: NodePortForwarderOptions | undefined;
  const engine = new ClientEngine(
    { ...base, natLeaseSeconds: 120, natMethods: ['upnp', 'natpmp'] },
    {
      createPortForwarder: (o) => {
        opts = o;
        return fake as unknown as PortForwarder;
      },
    },
  );
  try {
    await engine.start();
    assert.deepEqual(fake.ports, [{ tcp: [engine.listenPort], udp: [engine.udpPort] }]);
    assert.ok(engine.udpPort > 0);
    assert.deepEqual(opts?.methods, { upnp: true, natpmp: true, pcp: false });
    assert.equal(opts?.upnpLeaseSeconds, 120);
    assert.equal(opts?.natpmpLifetimeSeconds, 120);

    const seen: PortMapping[] = [];
    engine.on('port-mapping', (m) => seen.push(m));
    const m: PortMapping = { protocol: 'tcp', internalPort: engine.listenPort, externalPort: engine.listenPort, method: 'upnp', gateway: '192.168.1.1', state: 'created', expiresAt: 1 };
    fake.mappings = [m];
    fake.fire('mapping', m);
    assert.deepEqual(seen, [m]);
    assert.deepEqual(engine.portMappings, [m]);

    const reports: ReachabilityReport[] = [];
    engine.on('reachability', (r) => reports.push(r));
    fake.externalAddressReport = { ...reportExternalAddress('10.1.2.3'), method: 'upnp' };
    fake.fire('externalAddress', fake.externalAddressReport);
    assert.equal(reports.length, 1);
    assert.equal(reports[0]!.address, '10.1.2.3');
    assert.equal(reports[0]!.doubleNat, true);
    assert.equal(reports[0]!.cgnat, false);
    assert.equal(reports[0]!.mismatch, false);

    fake.externalAddressReport = { ...reportExternalAddress('100.64.9.9'), method: 'upnp' };
    assert.equal(engine.reachability.cgnat, true);
  } finally {
    await engine.dispose();
  }
  assert.equal(fake.disposed, 1);
});

test('portForwarding off: no forwarder, status off; settings are validated', async () => {
  let made = 0;
  const engine = new ClientEngine(
    { ...base, portForwarding: false },
    {
      createPortForwarder: () => {
        made++;
        return new FakeForwarder() as unknown as PortForwarder;
      },
    },
  );
  try {
    await engine.start();
    assert.equal(made, 0);
    assert.deepEqual(engine.portForwardingStatus, { state: 'off' });
    assert.deepEqual(engine.portMappings, []);
  } finally {
    await engine.dispose();
  }
  assert.equal(resolveSettings().portForwarding, true);
  assert.throws(() => resolveSettings({ natMethods: ['upnp', 'bogus' as 'pcp'] }), /natMethods/);
  assert.throws(() => resolveSettings({ natMethods: [] }), /natMethods/);
  assert.throws(() => resolveSettings({ natLeaseSeconds: 0 }), /natLeaseSeconds/);
  assert.throws(() => resolveSettings({ portForwarding: 'yes' as unknown as boolean }), /portForwarding/);
});
