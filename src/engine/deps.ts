/**
 * Deps: every seam between the engine and the outside world (time, randomness, sockets, the engine's state files,
 * name resolution, HTTP, the gateway). defaultDeps fills what a caller leaves out with the node implementations;
 * tests and simulations replace single fields. Two things are not here yet: a torrent's fast-resume data is read
 * and written by the torrent itself (storage/resume-data.ts, only with the default file storage, where the files
 * are on disk anyway), and the RC4 worker thread of encrypted connections (mse/offload.ts).
 */
import type { Clock } from '../core/index.js';
import type { Logger } from '../core/index.js';
import { NullLogger } from '../core/index.js';
import { NodeClock } from '../core/index.js';
import type { Random } from '../core/index.js';
import { NodeRandom } from '../core/index.js';
import { nodeLocalAddresses, nodeResolve, nodeResolveAll } from '../core/index.js';
import type { Metainfo } from '../metainfo/index.js';
import { createNodeMulticastSocket } from '../lsd/index.js';
import type { LsdSocket } from '../lsd/index.js';
import { createNodePortForwarder } from '../nat/index.js';
import type { NodePortForwarderOptions, PortForwarder } from '../nat/index.js';
import type { Hasher, PieceStorage, StateFiles } from '../storage/index.js';
import { FsStorage, NodeStateFiles, WorkerHasher } from '../storage/index.js';
import type { Transport } from '../transport/index.js';
import { TcpTransport } from '../transport/index.js';
import type { TcpProxy } from '../transport/index.js';
import { socks5Agent } from '../transport/index.js';
import type { UdpMux } from '../transport/index.js';
import { NodeUdpMux } from '../transport/index.js';
import type { TrackerFactory } from '../tracker/index.js';
import { HttpTracker } from '../tracker/index.js';
import type { HttpGet } from '../tracker/index.js';
import { nodeHttpGet } from '../tracker/index.js';
import { UdpTracker } from '../tracker/index.js';
import type { Resolve } from '../tracker/index.js';
import type { RangeFetch } from '../webseed/index.js';
import type { EngineSettings } from './settings.js';

export interface Deps {
  clock: Clock;
  random: Random;
  logger: Logger;
  transport: Transport;
  createStorage: (meta: Metainfo, downloadDir: string) => PieceStorage;
  createHasher: (workers: number) => Hasher;
  /** The shared UDP socket (UDP trackers, uTP, the DHT). */
  createUdp: () => EngineUdp;
  /** Host name → address, for UDP trackers (HTTP resolves by itself). */
  resolve: Resolve;
  /** Host name → all its addresses, IPv4 and IPv6 (DHT bootstrap routers); a literal gives itself. */
  resolveAll: (host: string) => Promise<string[]>;
  /** HTTP(S) GET for trackers; node:http by default. */
  httpGet: HttpGet | undefined;
  /** This machine's own addresses, so a tracker listing us is not dialed. */
  localAddresses: () => string[];
  /** The BEP 14 multicast socket (node:dgram on settings.lsdInterface by default). */
  createLsdSocket: (interfaceAddress: string, onError: (e: Error) => void) => Promise<LsdSocket>;
  /** Port forwarding on the home router (UPnP IGD, NAT-PMP, PCP); createNodePortForwarder by default. */
  createPortForwarder: (opts: NodePortForwarderOptions) => PortForwarder;
  /** HTTP(S) range GET for web seeds (BEP 19); node:http(s) with keep-alive by default. */
  fetchRange: RangeFetch | undefined;
  /** The engine's own state files (DHT routing table, cached magnet metadata); crash-safe files by default. */
  stateFiles: StateFiles;
}

/** A UdpMux the engine can bind and close. */
export interface EngineUdp extends UdpMux {
  bind(endpoints: readonly { host: string; port: number }[]): Promise<void>;
  close(): Promise<void>;
  /** Which address families have a socket (default: IPv4 only). */
  readonly families?: { v4: boolean; v6: boolean };
  onError: ((err: Error) => void) | undefined;
}

/** `deps` with production defaults for what it leaves out (`proxy`: settings.proxy, parsed, for the TCP transport). */
export function defaultDeps(deps: Partial<Deps>, proxy: TcpProxy | undefined): Deps {
  return {
    clock: deps.clock ?? new NodeClock(),
    random: deps.random ?? new NodeRandom(),
    logger: deps.logger ?? new NullLogger(),
    transport: deps.transport ?? new TcpTransport(proxy),
    createStorage: deps.createStorage ?? ((meta, dir) => new FsStorage(meta.info, dir)),
    createHasher: deps.createHasher ?? ((n) => new WorkerHasher({ workers: n })),
    createUdp: deps.createUdp ?? (() => new NodeUdpMux()),
    resolve: deps.resolve ?? nodeResolve,
    resolveAll: deps.resolveAll ?? nodeResolveAll,
    httpGet: deps.httpGet,
    localAddresses: deps.localAddresses ?? nodeLocalAddresses,
    createLsdSocket: deps.createLsdSocket ?? ((interfaceAddress, onError) => createNodeMulticastSocket({ interfaceAddress, onError })),
    createPortForwarder: deps.createPortForwarder ?? createNodePortForwarder,
    fetchRange: deps.fetchRange,
    stateFiles: deps.stateFiles ?? new NodeStateFiles(),
  };
}

/** The built-in tracker kinds: http(s) (through the proxy when there is one) and udp (on the shared socket). */
export function registerTrackerKinds(
  factory: TrackerFactory,
  deps: Deps,
  s: EngineSettings,
  proxy: TcpProxy | undefined,
  udp: () => EngineUdp | undefined,
): void {
  const httpTracker = (url: string): HttpTracker =>
    new HttpTracker({
      url,
      clock: deps.clock,
      get: deps.httpGet ?? (proxy ? proxiedHttpGet(proxy) : undefined),
      timeoutMs: s.trackerHttpTimeoutMs,
      maxResponseBytes: s.trackerMaxResponseBytes,
      userAgent: s.userAgent,
    });
  factory
    .register('http', httpTracker)
    .register('https', httpTracker)
    .register('udp', (url) => {
      return new UdpTracker({
        url,
        clock: deps.clock,
        random: deps.random,
        udp,
        resolve: deps.resolve,
        baseTimeoutMs: s.udpTrackerBaseTimeoutMs,
        maxRetries: s.udpTrackerMaxRetries,
      });
    });
}

/** HTTP(S) GET (trackers) through a SOCKS5 proxy. */
function proxiedHttpGet(proxy: TcpProxy): HttpGet {
  return (url, o) => nodeHttpGet(url, { ...o, agentFor: (secure) => socks5Agent(proxy, secure) });
}
