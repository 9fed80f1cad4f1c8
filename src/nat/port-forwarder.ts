/**
 * PortForwarder: keeps the engine's listening ports mapped on the home router with every method that
 * found a gateway (UPnP IGD, and PCP or else NAT-PMP), renews each mapping before it expires, follows
 * port changes, re-maps after a gateway reboot (NAT-PMP/PCP epoch), and removes everything on dispose().
 *
 * With no gateway it reports one quiet status ('no gateway found') and looks again much later: no error
 * storm. Time, randomness, sockets, HTTP and the default-route lookup are injected.
 */
import type { Clock, Timer, Logger, Random } from '../core/index.js';
import { BtError, NullLogger } from '../core/index.js';
import { TypedEmitter } from '../util/index.js';
import { reportExternalAddress } from './classify.js';
import type { ExternalAddressReport } from './classify.js';
import { NatPmpClient } from './natpmp/client.js';
import { NatError } from './types.js';
import type { GatewayLookup, NatHttp, NatMethod, NatProtocol, NatUdpFactory } from './types.js';
import { UPNP_CONFLICT, UPNP_ONLY_PERMANENT } from './upnp/soap.js';
import { discoverUpnpGateway } from './upnp/upnp-client.js';
import type { UpnpGateway } from './upnp/upnp-client.js';

export type MappingState = 'pending' | 'created' | 'failed';

export interface PortMapping {
  protocol: NatProtocol;
  internalPort: number;
  /** The port the gateway opened (may differ from internalPort); undefined until created. */
  externalPort: number | undefined;
  method: NatMethod;
  /** Gateway address (the IGD host for UPnP). */
  gateway: string;
  state: MappingState;
  /** Why the last attempt failed (state 'failed'). */
  error?: BtError;
  /** Clock time (ms) the mapping expires at; undefined while pending, or for a permanent UPnP mapping. */
  expiresAt?: number;
}

export type PortForwarderStatus =
  | { state: 'idle' }
  | { state: 'discovering' }
  | { state: 'ready'; methods: NatMethod[] }
  | { state: 'no-gateway'; message: string }
  | { state: 'disposed' };

export interface PortForwarderEvents {
  [k: string]: unknown[];
  /** Any mapping changed: the whole list. */
  mappings: [mappings: readonly PortMapping[]];
  /** One mapping changed. */
  mapping: [mapping: PortMapping];
  status: [status: PortForwarderStatus];
  externalAddress: [report: ExternalAddressReport & { method: NatMethod }];
}

export interface PortForwarderMethods {
  upnp?: boolean;
  natpmp?: boolean;
  /** PCP is tried before NAT-PMP on the same gateway (default true when natpmp is on). */
  pcp?: boolean;
}

export interface PortForwarderOptions {
  clock: Clock;
  random: Random;
  udp: NatUdpFactory;
  http: NatHttp;
  /** Default IPv4 gateway for NAT-PMP/PCP (Linux: procNetRouteGateway()). */
  gatewayLookup: GatewayLookup;
  logger?: Logger;
  /** Methods to use (default all). */
  methods?: PortForwarderMethods;
  /** IP_MULTICAST_IF for SSDP. */
  multicastInterface?: string;
  /** SSDP wait (default 3 s). */
  ssdpTimeoutMs?: number;
  /** UPnP HTTP deadline per request (default 5 s). */
  httpTimeoutMs?: number;
  /** UPnP lease requested (default 3600 s; 0 asks for a permanent mapping). */
  upnpLeaseSeconds?: number;
  /** NAT-PMP/PCP lifetime requested (default 7200 s, RFC 6886's recommendation). */
  natpmpLifetimeSeconds?: number;
  /** Renew when this fraction of the granted lifetime has passed (default 0.5). */
  renewFraction?: number;
  /** NAT-PMP/PCP retransmissions: first timeout (default 250 ms) and attempts (default 9). */
  natpmpInitialTimeoutMs?: number;
  natpmpMaxAttempts?: number;
  /** On UPnP 718 ConflictInMappingEntry, try other external ports (default true). */
  tryOtherExternalPorts?: boolean;
  /** Attempts in all when external ports conflict (default 4). */
  maxExternalPortAttempts?: number;
  /** UPnP mapping description (default 'torrentkit'). */
  description?: string;
  /** First retry after a failed mapping, doubling up to maxRetryMs (defaults 60 s, 1 h). */
  retryMs?: number;
  maxRetryMs?: number;
  /** With no gateway found, look again after this long (default 15 min; 0: never). */
  rediscoverMs?: number;
  /** dispose() waits at most this long for deletions (default 3 s). */
  disposeTimeoutMs?: number;
}

export interface PortSet {
  tcp: readonly number[];
  udp: readonly number[];
}

/** What one method can do, as the forwarder sees it. */
interface Backend {
  method: NatMethod;
  gateway: string;
  /** For logs: what was found (UPnP service type and control URL). */
  detail: string;
  lifetime: number;
  map(protocol: NatProtocol, internalPort: number, externalPort: number, lifetime: number): Promise<{ externalPort: number; lifetime: number }>;
  unmap(protocol: NatProtocol, internalPort: number, externalPort: number): Promise<void>;
  externalAddress(): Promise<string | undefined>;
  close(): void;
}

interface Entry {
  backend: Backend;
  mapping: PortMapping;
  timer: Timer | undefined;
  retryMs: number;
  live: boolean;
  busy: boolean;
}

const key = (method: NatMethod, protocol: NatProtocol, port: number): string => `${method}/${protocol}/${port}`;

export class PortForwarder extends TypedEmitter<PortForwarderEvents> {
  private readonly o: PortForwarderOptions;
  private readonly log: Logger;
  private wanted: PortSet = { tcp: [], udp: [] };
  private readonly backends: Backend[] = [];
  private readonly entries = new Map<string, Entry>();
  private statusValue: PortForwarderStatus = { state: 'idle' };
  private external: (ExternalAddressReport & { method: NatMethod }) | undefined;
  private started = false;
  private disposed = false;
  private rediscoverTimer: Timer | undefined;
  private discovering: Promise<void> | undefined;
  private noGatewayReported = false;
  private readonly inflight = new Set<Promise<unknown>>();
  private readonly abort = new AbortController();

  constructor(opts: PortForwarderOptions) {
    super();
    this.o = opts;
    this.log = opts.logger?.forComponent('nat') ?? new NullLogger();
  }

  get status(): PortForwarderStatus {
    return this.statusValue;
  }

  /** Every mapping (copies), in creation order. */
  get mappings(): PortMapping[] {
    return [...this.entries.values()].map((e) => ({ ...e.mapping }));
  }

  /** External address reported by a gateway (UPnP GetExternalIPAddress, NAT-PMP opcode 0 or PCP MAP). */
  get externalAddress(): string | undefined {
    return this.external?.address;
  }

  /** The external address with its classification (double NAT / CGNAT flags). */
  get externalAddressReport(): (ExternalAddressReport & { method: NatMethod }) | undefined {
    return this.external ? { ...this.external } : undefined;
  }

  /** Which methods found a gateway. */
  get methods(): NatMethod[] {
    return this.backends.map((b) => b.method);
  }

  /** Start discovery without ports (setPorts starts it too). */
  start(): void {
    if (this.started || this.disposed) return;
    this.started = true;
    this.discovering = this.discover();
    this.track(this.discovering);
  }

  /** Resolves when the current discovery round has finished (for tests and the CLI's report). */
  async whenDiscovered(): Promise<void> {
    this.start();
    await this.discovering;
  }

  /** Map exactly these ports (duplicates and invalid ports ignored); mappings of other ports are removed. */
  setPorts(ports: PortSet): void {
    if (this.disposed) throw new BtError('ERR_STATE', 'PortForwarder is disposed', { op: 'map' });
    const clean = (xs: readonly number[]): number[] => [...new Set(xs.filter((p) => Number.isInteger(p) && p > 0 && p < 65536))].sort((a, b) => a - b);
    this.wanted = { tcp: clean(ports.tcp), udp: clean(ports.udp) };
    this.start();
    this.sync();
  }

  // ---- discovery -------------------------------------------------------------------------------------

  private setStatus(s: PortForwarderStatus): void {
    this.statusValue = s;
    this.emit('status', s);
  }

  private async discover(): Promise<void> {
    const m = this.o.methods ?? {};
    const useUpnp = m.upnp !== false;
    const useNatpmp = m.natpmp !== false;
    const usePcp = m.pcp !== false;
    if (this.backends.length === 0) this.setStatus({ state: 'discovering' });
    const tasks: Promise<void>[] = [];
    if (useUpnp && !this.backends.some((b) => b.method === 'upnp')) tasks.push(this.discoverUpnp());
    if ((useNatpmp || usePcp) && !this.backends.some((b) => b.method !== 'upnp')) tasks.push(this.discoverNatPmp(useNatpmp, usePcp));
    await Promise.all(tasks);
    if (this.disposed) return;
    if (this.backends.length === 0) {
      if (!this.noGatewayReported) {
        this.noGatewayReported = true;
        this.log.info('port forwarding: no gateway found (no UPnP IGD answered, no NAT-PMP/PCP gateway)');
        this.setStatus({ state: 'no-gateway', message: 'no gateway found' });
      }
      const again = this.o.rediscoverMs ?? 15 * 60_000;
      if (again > 0) {
        this.rediscoverTimer = this.o.clock.setTimeout(() => {
          if (this.disposed) return;
          this.discovering = this.discover();
          this.track(this.discovering);
        }, again);
      }
    }
  }

  private addBackend(b: Backend): void {
    if (this.disposed) {
      b.close();
      return;
    }
    this.backends.push(b);
    this.noGatewayReported = false;
    this.log.info(`port forwarding: ${b.method} gateway ${b.gateway} (${b.detail})`);
    this.setStatus({ state: 'ready', methods: this.methods });
    this.track(this.refreshExternalAddress(b));
    this.sync();
  }

  private async refreshExternalAddress(b: Backend): Promise<void> {
    try {
      const addr = await b.externalAddress();
      if (!addr || this.disposed) return;
      this.setExternal(addr, b.method);
    } catch (e) {
      this.log.debug(`${b.method}: external address: ${(e as Error).message}`);
    }
  }

  private setExternal(address: string, method: NatMethod): void {
    if (this.external?.address === address) return;
    // UPnP reports what the router itself has; prefer it when both answer differently.
    if (this.external && this.external.method === 'upnp' && method !== 'upnp') return;
    this.external = { ...reportExternalAddress(address), method };
    this.emit('externalAddress', { ...this.external });
  }

  private async discoverUpnp(): Promise<void> {
    let gw: UpnpGateway | undefined;
    try {
      gw = await discoverUpnpGateway({
        udp: this.o.udp,
        http: this.o.http,
        clock: this.o.clock,
        logger: this.log,
        multicastInterface: this.o.multicastInterface,
        ssdpTimeoutMs: this.o.ssdpTimeoutMs,
        timeoutMs: this.o.httpTimeoutMs,
        signal: this.abort.signal,
      });
    } catch (e) {
      this.log.debug(`UPnP discovery failed: ${(e as Error).message}`);
    }
    if (gw) this.addBackend(this.upnpBackend(gw));
  }

  private upnpBackend(gw: UpnpGateway): Backend {
    let permanentOnly = false;
    const description = this.o.description ?? 'torrentkit';
    const signal = this.abort.signal;
    return {
      method: 'upnp',
      gateway: gw.host,
      detail: `${gw.service.serviceType} at ${gw.service.controlUrl}, we are ${gw.localAddress}`,
      lifetime: this.o.upnpLeaseSeconds ?? 3600,
      map: async (protocol, internalPort, externalPort, lifetime) => {
        const add = (lease: number): Promise<void> =>
          gw.addPortMapping({ protocol, internalPort, externalPort, internalClient: gw.localAddress, description, leaseSeconds: lease }, signal);
        const lease = permanentOnly ? 0 : lifetime;
        try {
          await add(lease);
          return { externalPort, lifetime: lease };
        } catch (e) {
          if (lease !== 0 && e instanceof NatError && e.detail.upnpCode === UPNP_ONLY_PERMANENT) {
            this.log.debug(`UPnP ${gw.host}: only permanent leases; mapping with lease 0`);
            permanentOnly = true;
            await add(0);
            return { externalPort, lifetime: 0 };
          }
          throw e;
        }
      },
      unmap: (protocol, _internalPort, externalPort) => gw.deletePortMapping(externalPort, protocol, signal),
      externalAddress: () => gw.getExternalIPAddress(signal),
      close: () => undefined,
    };
  }

  private async discoverNatPmp(useNatpmp: boolean, usePcp: boolean): Promise<void> {
    let gateway: string | undefined;
    try {
      gateway = await this.o.gatewayLookup();
    } catch {
      gateway = undefined;
    }
    if (!gateway || this.disposed) return;
    const client = new NatPmpClient({
      gateway,
      udp: this.o.udp,
      clock: this.o.clock,
      random: this.o.random,
      logger: this.log,
      initialTimeoutMs: this.o.natpmpInitialTimeoutMs,
      maxAttempts: this.o.natpmpMaxAttempts,
      pcp: usePcp,
    });
    let version: 'pcp' | 'natpmp';
    try {
      version = await client.probe();
    } catch (e) {
      this.log.debug(`NAT-PMP/PCP: ${(e as Error).message}`);
      client.close();
      return;
    }
    if (version === 'natpmp' && !useNatpmp) {
      client.close();
      return;
    }
    const b: Backend = {
      method: version,
      gateway,
      detail: version === 'pcp' ? 'PCP (RFC 6887)' : 'NAT-PMP (RFC 6886)',
      lifetime: this.o.natpmpLifetimeSeconds ?? 7200,
      map: async (protocol, internalPort, externalPort, lifetime) => {
        const r = await client.map(protocol, internalPort, externalPort, lifetime);
        if (r.externalAddress && r.externalAddress !== '0.0.0.0') this.setExternal(r.externalAddress, version);
        return { externalPort: r.externalPort, lifetime: r.lifetime };
      },
      unmap: (protocol, internalPort, externalPort) => client.unmap(protocol, internalPort, externalPort),
      externalAddress: async () => (version === 'natpmp' ? client.lastExternalAddress ?? (await client.externalAddress()) : client.externalAddress().catch(() => client.lastExternalAddress)),
      close: () => client.close(),
    };
    client.onEpochReset(() => this.remapAll(b));
    this.addBackend(b);
  }

  // ---- mappings --------------------------------------------------------------------------------------

  private track<T>(p: Promise<T>): void {
    const q = p.catch(() => undefined);
    this.inflight.add(q);
    void q.finally(() => this.inflight.delete(q));
  }

  private changed(e: Entry): void {
    this.emit('mapping', { ...e.mapping });
    this.emit('mappings', this.mappings);
  }

  /** Bring entries in line with wanted ports × backends. */
  private sync(): void {
    if (this.disposed) return;
    const want = new Set<string>();
    for (const b of this.backends) {
      for (const protocol of ['tcp', 'udp'] as const) {
        for (const port of this.wanted[protocol]) {
          const k = key(b.method, protocol, port);
          want.add(k);
          if (this.entries.has(k)) continue;
          const e: Entry = {
            backend: b,
            mapping: { protocol, internalPort: port, externalPort: undefined, method: b.method, gateway: b.gateway, state: 'pending' },
            timer: undefined,
            retryMs: this.o.retryMs ?? 60_000,
            live: true,
            busy: false,
          };
          this.entries.set(k, e);
          this.changed(e);
          this.track(this.mapEntry(e));
        }
      }
    }
    for (const [k, e] of this.entries) {
      if (want.has(k)) continue;
      this.entries.delete(k);
      e.live = false;
      e.timer?.cancel();
      this.emit('mappings', this.mappings);
      if (e.mapping.state === 'created' && e.mapping.externalPort !== undefined) this.track(this.unmapEntry(e));
    }
  }

  private async mapEntry(e: Entry): Promise<void> {
    if (!e.live || e.busy || this.disposed) return;
    e.busy = true;
    e.timer?.cancel();
    e.timer = undefined;
    const b = e.backend;
    const m = e.mapping;
    const tryOthers = this.o.tryOtherExternalPorts ?? true;
    const maxAttempts = Math.max(1, this.o.maxExternalPortAttempts ?? 4);
    let external = m.externalPort ?? m.internalPort;
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          const r = await b.map(m.protocol, m.internalPort, external, b.lifetime);
          if (!e.live || this.disposed) {
            // removed while the request was in flight: take it down again
            if (!this.disposed) this.track(b.unmap(m.protocol, m.internalPort, r.externalPort));
            return;
          }
          m.externalPort = r.externalPort;
          m.state = 'created';
          delete m.error;
          const now = this.o.clock.now();
          if (r.lifetime > 0) {
            m.expiresAt = now + r.lifetime * 1000;
            const frac = Math.min(0.95, Math.max(0.05, this.o.renewFraction ?? 0.5));
            this.schedule(e, Math.max(1000, r.lifetime * 1000 * frac));
          } else {
            delete m.expiresAt; // permanent (UPnP lease 0)
          }
          e.retryMs = this.o.retryMs ?? 60_000;
          this.log.debug(`${b.method}: ${m.protocol} ${m.internalPort} -> ${r.externalPort} for ${r.lifetime} s`);
          this.changed(e);
          return;
        } catch (err) {
          const conflict = err instanceof NatError && err.detail.upnpCode === UPNP_CONFLICT;
          if (conflict && tryOthers && attempt < maxAttempts && e.live && !this.disposed) {
            external = 1024 + this.o.random.int(65536 - 1024);
            this.log.debug(`${b.method}: external ${m.protocol} port conflict; trying ${external}`);
            continue;
          }
          throw err;
        }
      }
    } catch (err) {
      if (!e.live || this.disposed) return;
      const be =
        err instanceof BtError ? err : new NatError(`${b.method} mapping of ${m.protocol} ${m.internalPort} failed: ${(err as Error).message}`, { op: 'map', cause: err });
      m.state = 'failed';
      m.error = be;
      if (m.expiresAt !== undefined && m.expiresAt <= this.o.clock.now()) delete m.expiresAt;
      this.log.info(`${b.method}: cannot map ${m.protocol} port ${m.internalPort}: ${be.message}`);
      // retry later, doubling; but before a still-valid mapping expires
      let wait = e.retryMs;
      e.retryMs = Math.min(e.retryMs * 2, this.o.maxRetryMs ?? 3_600_000);
      if (m.expiresAt !== undefined) wait = Math.max(1000, Math.min(wait, (m.expiresAt - this.o.clock.now()) / 2));
      this.schedule(e, wait);
      this.changed(e);
    } finally {
      e.busy = false;
    }
  }

  private schedule(e: Entry, ms: number): void {
    e.timer?.cancel();
    e.timer = this.o.clock.setTimeout(() => {
      e.timer = undefined;
      this.track(this.mapEntry(e));
    }, ms);
  }

  private async unmapEntry(e: Entry): Promise<void> {
    const m = e.mapping;
    if (m.externalPort === undefined) return;
    try {
      await e.backend.unmap(m.protocol, m.internalPort, m.externalPort);
      this.log.debug(`${e.backend.method}: removed ${m.protocol} ${m.externalPort}`);
    } catch (err) {
      this.log.debug(`${e.backend.method}: removing ${m.protocol} ${m.externalPort}: ${(err as Error).message}`);
    }
  }

  /** The gateway lost its state: map every entry of this backend again now. */
  private remapAll(b: Backend): void {
    if (this.disposed) return;
    for (const e of this.entries.values()) {
      if (e.backend !== b) continue;
      e.retryMs = this.o.retryMs ?? 60_000;
      if (!e.busy) this.track(this.mapEntry(e));
      else this.schedule(e, 0);
    }
  }

  /** Remove every mapping (bounded by disposeTimeoutMs), close sockets, cancel timers. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.rediscoverTimer?.cancel();
    const toRemove: Entry[] = [];
    for (const e of this.entries.values()) {
      e.live = false;
      e.timer?.cancel();
      if (e.mapping.externalPort !== undefined && e.mapping.state !== 'pending') toRemove.push(e);
      else if (e.mapping.state === 'created') toRemove.push(e);
    }
    // A map request still in flight may have been granted; remove those too (with the port we asked for).
    for (const e of this.entries.values()) {
      if (e.busy && !toRemove.includes(e)) {
        if (e.mapping.externalPort === undefined) e.mapping.externalPort = e.mapping.internalPort;
        toRemove.push(e);
      }
    }
    const limit = this.o.disposeTimeoutMs ?? 3000;
    let timer: Timer | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = this.o.clock.setTimeout(resolve, limit);
    });
    await Promise.race([Promise.all(toRemove.map((e) => this.unmapEntry(e))), deadline]);
    timer?.cancel();
    this.abort.abort();
    for (const b of this.backends) b.close();
    this.entries.clear();
    this.setStatus({ state: 'disposed' });
    this.emit('mappings', []);
  }
}
