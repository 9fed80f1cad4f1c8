/**
 * The engine's BEP 5 node on the shared UDP socket: bootstrap (names resolved first), the routing table kept
 * between runs in settings.dhtStateFile (through StateFiles), and what torrents use of it (TorrentDht).
 */
import { DhtNode } from '../dht/index.js';
import type { PeerAddress } from '../dht/index.js';
import type { TorrentDht } from '../torrent/index.js';
import { parseHostPort } from '../util/index.js';
import type { Deps, EngineUdp } from './deps.js';
import type { EngineSettings } from './settings.js';

/** Largest DHT state file loaded. */
const MAX_STATE_BYTES = 4 * 1024 * 1024;

export class DhtService {
  /** Undefined: disabled, no socket, or not started yet. */
  node: DhtNode | undefined;
  private detach: (() => void) | undefined;
  private externalIp: string | undefined;
  private stopped = false;

  constructor(
    private readonly settings: EngineSettings,
    private readonly deps: Deps,
    /** Failures here (a router that does not resolve, an unreadable state file) are quiet warnings. */
    private readonly warn: (msg: string) => void,
  ) {}

  /**
   * Start the node on `udp`. Bootstrap names are resolved first; a router that does not resolve (no network, a
   * loopback-only test namespace) is a quiet warning, never an error. Nothing starts once `disposed()` says so.
   */
  async start(udp: EngineUdp | undefined, disposed: () => boolean): Promise<void> {
    if (!this.settings.dhtEnabled || !udp || this.node) return;
    const families = udp.families ?? { v4: true, v6: false };
    const resolved = await Promise.all(
      this.settings.dhtBootstrap.map(async (ep): Promise<PeerAddress[]> => {
        const { host, port } = parseHostPort(ep);
        try {
          // Both families of a router's name: its IPv6 address bootstraps the IPv6 table (BEP 32).
          const ips = await this.deps.resolveAll(host);
          return ips.filter((ip) => (ip.includes(':') ? families.v6 : families.v4)).map((ip) => ({ host: ip, port }));
        } catch (e) {
          this.warning(`cannot resolve DHT bootstrap ${ep}: ${(e as Error).message}`);
          return [];
        }
      }),
    );
    if (this.stopped || disposed() || this.node) return;
    const node = new DhtNode({
      clock: this.deps.clock,
      random: this.deps.random,
      bootstrap: resolved.flat(),
      // BEP 32: with an IPv6 socket the node keeps an IPv6 routing table too, asks for nodes6, and looks up and
      // announces in both.
      ipv6: families.v6,
    });
    this.node = node;
    this.detach = node.attach(udp);
    if (this.externalIp) node.setExternalAddress(this.externalIp);
    await this.loadState(node);
    node.start();
  }

  /** Our address as a tracker sees it (the node's BEP 42 id follows it). */
  setExternalAddress(address: string): void {
    this.externalIp = address;
    this.node?.setExternalAddress(address);
  }

  /** What torrents use of the DHT: lookups, announces, nodes from `nodes` keys and PORT messages. */
  torrentDht(udp: EngineUdp | undefined): TorrentDht | undefined {
    const node = this.node;
    if (!node || !udp) return undefined;
    return {
      getPeers: (ih, o) => node.getPeers(ih, o),
      // Announce in each family's table that has nodes (BEP 32).
      announce: async (ih, port, o) => {
        const v4 = node.stats().nodes > 0 || node.stats().nodes6 === 0 ? node.announce(ih, port, o) : undefined;
        const v6 = node.stats().nodes6 > 0 ? node.announce(ih, port, { ...o, v6: true }) : undefined;
        const [r4, r6] = await Promise.all([v4, v6]);
        return r4 && r6 ? { ...r4, acked: r4.acked + r6.acked, peers: [...r4.peers, ...r6.peers] } : (r4 ?? r6)!;
      },
      addNode: (host, port) => {
        this.deps
          .resolve(host)
          .then((ip) => this.node?.addNode(ip, port))
          .catch((e: unknown) => this.warning(`cannot resolve DHT node ${host}: ${(e as Error).message}`));
      },
      port: udp.port,
    };
  }

  /** Stop the node, save its routing table, leave the socket. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.node) {
      this.node.stop();
      await this.saveState(this.node);
    }
    this.detach?.();
    this.detach = undefined;
  }

  /** The routing table of the last run (settings.dhtStateFile), so a restart does not bootstrap from nothing. */
  private async loadState(node: DhtNode): Promise<void> {
    const file = this.settings.dhtStateFile;
    if (!file) return;
    try {
      const bytes = await this.deps.stateFiles.read(file);
      if (!bytes) return;
      if (bytes.length > MAX_STATE_BYTES) throw new Error('larger than 4 MiB');
      node.loadState(JSON.parse(new TextDecoder().decode(bytes)) as unknown);
    } catch (e) {
      this.warning(`DHT state ${file} not loaded: ${(e as Error).message}`);
    }
  }

  private async saveState(node: DhtNode): Promise<void> {
    const file = this.settings.dhtStateFile;
    if (!file) return;
    try {
      await this.deps.stateFiles.writeAtomic(file, new TextEncoder().encode(JSON.stringify(node.saveState())));
    } catch (e) {
      this.warning(`DHT state ${file} not saved: ${(e as Error).message}`);
    }
  }

  private warning(msg: string): void {
    this.deps.logger.debug(() => msg);
    this.warn(msg);
  }
}
