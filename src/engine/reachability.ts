/**
 * Reachability: port forwarding on the gateway (the TCP listen ports and the shared UDP port), our external
 * address as the gateway and the trackers see it, and which host:port is this engine itself.
 */
import { reportExternalAddress } from '../nat/index.js';
import type { PortForwarder, PortMapping } from '../nat/index.js';
import type { Deps } from './deps.js';
import type { EngineEmit, PortForwardingStatus, ReachabilityReport } from './events.js';
import type { EngineSettings } from './settings.js';

export class Reachability {
  /** Port forwarding (undefined: off, or the engine has not started). */
  private forwarder: PortForwarder | undefined;
  /** TCP listen ports (the ListenManager's list also holds the uTP listener). */
  private tcpPorts: number[] = [];
  private udpPort = 0;
  private externalIp: string | undefined;
  private externalSource = '';
  private readonly selfAddresses = new Set<string>();

  constructor(
    private readonly settings: EngineSettings,
    private readonly deps: Deps,
    private readonly emit: EngineEmit,
    /** Is this one of our listen ports? */
    private readonly ownPort: (port: number) => boolean,
  ) {}

  /** The listeners are up: remember our addresses and ports, and map the ports in the background. */
  start(tcpPorts: number[], udpPort: number): void {
    this.tcpPorts = tcpPorts;
    this.udpPort = udpPort;
    this.selfAddresses.clear();
    for (const a of ['127.0.0.1', '::1', '0.0.0.0', '::', ...this.deps.localAddresses()]) this.selfAddresses.add(a);
  }

  /**
   * Map the TCP listen ports and the shared UDP port on the gateway. Runs in the background: never delays start();
   * no gateway is one quiet 'no-gateway' status.
   */
  startPortForwarding(): void {
    if (!this.settings.portForwarding || this.forwarder) return;
    const s = this.settings;
    const pf = this.deps.createPortForwarder({
      clock: this.deps.clock,
      random: this.deps.random,
      logger: this.deps.logger,
      methods: { upnp: s.natMethods.includes('upnp'), natpmp: s.natMethods.includes('natpmp'), pcp: s.natMethods.includes('pcp') },
      upnpLeaseSeconds: s.natLeaseSeconds,
      natpmpLifetimeSeconds: s.natLeaseSeconds,
      ssdpTimeoutMs: s.natDiscoveryTimeoutMs,
    });
    this.forwarder = pf;
    pf.on('mapping', (m) => this.emit('port-mapping', m));
    pf.on('mappings', (ms) => this.emit('port-mappings', ms));
    pf.on('status', (st) => this.emit('port-forwarding', st));
    pf.on('externalAddress', (r) => {
      if (!r.doubleNat && !r.cgnat) this.selfAddresses.add(r.address);
      this.emit('reachability', this.report);
    });
    pf.setPorts({ tcp: this.tcpPorts, udp: this.udpPort ? [this.udpPort] : [] });
  }

  /**
   * A tracker told us our address as it sees it. Returns whether it changed (then 'external-address' and
   * 'reachability' have been emitted, after `onChange`).
   */
  trackerSaw(address: string, from: string, onChange: (address: string) => void): boolean {
    if (address === this.externalIp) return false;
    this.externalIp = address;
    onChange(address);
    this.selfAddresses.add(address);
    this.externalSource = from;
    this.emit('external-address', address, from);
    this.emit('reachability', this.report);
    return true;
  }

  /** Is host:port this engine itself (trackers list the announcing peer too)? */
  isSelf(host: string, port: number): boolean {
    if (!this.ownPort(port)) return false;
    return this.selfAddresses.has(host);
  }

  /** The gateway's external address next to what trackers report, with double NAT / CGNAT flags. */
  get report(): ReachabilityReport {
    const gateway = this.forwarder?.externalAddressReport;
    const tracker = this.externalIp !== undefined ? { address: this.externalIp, source: this.externalSource } : undefined;
    const mismatch = gateway !== undefined && tracker !== undefined && gateway.address !== tracker.address;
    const seen = tracker ? reportExternalAddress(tracker.address) : undefined;
    return {
      address: tracker?.address ?? gateway?.address,
      gateway,
      tracker,
      mismatch,
      doubleNat: (gateway?.doubleNat ?? false) || (mismatch && gateway?.class !== 'public'),
      cgnat: (gateway?.cgnat ?? false) || (seen?.cgnat ?? false),
    };
  }

  get externalAddress(): string | undefined {
    return this.externalIp;
  }

  get portMappings(): PortMapping[] {
    return this.forwarder?.mappings ?? [];
  }

  get portForwardingStatus(): PortForwardingStatus {
    return this.forwarder?.status ?? { state: 'off' };
  }

  /** Remove the mappings (bounded by the forwarder's disposeTimeoutMs); failures are logged only. */
  dispose(): Promise<void> {
    return (
      this.forwarder?.dispose().catch((e: unknown) => this.deps.logger.debug(() => `port forwarding dispose: ${(e as Error).message}`)) ??
      Promise.resolve()
    );
  }
}
