/** EngineSettings: one frozen, flat, fully defaulted object, validated on the way in. */
import type { TorrentSettings } from '../torrent/index.js';
import { BtError } from '../core/index.js';
import { parseHostPort } from '../util/index.js';
import { parseSocks5Url } from '../transport/index.js';
import { ENCRYPTION_TYPES } from '../peer/index.js';
import type { EncryptionType } from '../peer/index.js';
import type { NatMethod } from '../nat/index.js';

const NAT_METHODS: readonly NatMethod[] = ['upnp', 'natpmp', 'pcp'];

export interface EngineSettings extends TorrentSettings {
  /** Listen endpoints "host:port" ("[::]:6881" for IPv6). Port 0 picks a free port (the same one for all when possible). */
  listenEndpoints: readonly string[];
  /** Upper bound on peer connections across all torrents. */
  maxConnections: number;
  /**
   * Queueing: at most this many torrents download at once (0 = no limit); the others wait, checked, in state
   * 'queued' and start in the order they were added as slots free up. maxActiveSeeds does the same for torrents
   * that start complete (one that completes keeps seeding).
   */
  maxActiveDownloads: number;
  maxActiveSeeds: number;
  /** Download limit over all torrents, bytes per second of piece data (0 = none). engine.setRateLimits changes it. */
  maxDownloadRate: number;
  /** Upload limit over all torrents, bytes per second of piece data (0 = none). engine.setRateLimits changes it. */
  maxUploadRate: number;
  /** Outgoing connection attempts in progress at once. */
  maxHalfOpen: number;
  connectTimeoutMs: number;
  /** A connection's whole handshake (MSE and BitTorrent), both directions; incoming: from the accept. */
  handshakeTimeoutMs: number;
  /**
   * Incoming connections still in their handshake at once (slow-loris bound). A newcomer when this many are
   * waiting closes the oldest of them rather than being refused: idle connections age out, real peers finish fast.
   */
  maxHalfOpenIncoming: number;
  /** The same per remote address; counts only connections in their handshake, never established peers. */
  maxIncomingPerIp: number;
  /** Worker threads hashing pieces. */
  hashWorkers: number;
  /** Azureus-style peer-id prefix. */
  peerIdPrefix: string;
  /**
   * UDP endpoints "host:port" for the shared UDP socket (UDP trackers, uTP, the DHT). Empty: the
   * listen endpoints' hosts with the TCP port actually bound, as libtorrent shares one port number.
   */
  udpEndpoints: readonly string[];
  /** One HTTP tracker request, redirects and body included. */
  trackerHttpTimeoutMs: number;
  /** Largest HTTP tracker response accepted. */
  trackerMaxResponseBytes: number;
  /** BEP 15 retransmission: first timeout (the BEP says 15 s, doubling) and retransmissions before giving up. */
  udpTrackerBaseTimeoutMs: number;
  udpTrackerMaxRetries: number;
  /** Transports: TCP and uTP (BEP 29, on the shared UDP port); outgoing connections try `preferredTransport` first. */
  enableTcp: boolean;
  enableUtp: boolean;
  preferredTransport: 'tcp' | 'utp';
  /** With both transports on, how long the first dial attempt may take before the other kind is tried. */
  transportFallbackMs: number;
  /** BEP 14 Local Peer Discovery (never for private torrents). */
  lsdEnabled: boolean;
  /**
   * Interface address LSD multicasts from and listens on ('0.0.0.0': the system's choice). Tests pin
   * '127.0.0.1' so nothing leaves the machine.
   */
  lsdInterface: string;
  /** DHT bootstrap routers, HOST:PORT (names are resolved when the engine starts). */
  dhtBootstrap: readonly string[];
  /** Where the DHT routing table is saved on stop and loaded on start ('' = not kept). */
  dhtStateFile: string;
  /**
   * Fast resume: save each torrent's verified pieces with its files' sizes and mtimes to
   * `<downloadDir>/.torrentkit/<info-hash>.resume` (crash-safe) every resumeSaveIntervalMs of progress, after
   * checking, on completion and at stop; on start hash only the pieces of files that changed since (everything
   * when the data is missing, unreadable or from another torrent). Only with the default file storage.
   */
  fastResume: boolean;
  /**
   * SOCKS5 proxy, `socks5://[user:pass@]host:port` ('' = none): outgoing TCP peer connections, HTTP(S) tracker
   * announces and web seeds go through it. uTP, the DHT, UDP trackers, LSD and incoming connections do not (a SOCKS5
   * CONNECT proxy carries TCP only): turn them off for all traffic to go through the proxy.
   */
  proxy: string;
  /**
   * Port forwarding: map the TCP listen ports and the shared UDP port on the home router, renew
   * them, remove them on dispose. No gateway on the network is one quiet status, never an error.
   */
  portForwarding: boolean;
  /** Methods tried: 'upnp' (IGD), 'natpmp' (RFC 6886), 'pcp' (RFC 6887, tried before NAT-PMP). */
  natMethods: readonly NatMethod[];
  /** Lease (UPnP) and lifetime (NAT-PMP/PCP) requested, seconds; renewed at half of it. */
  natLeaseSeconds: number;
  /** How long SSDP discovery waits for an IGD to answer. */
  natDiscoveryTimeoutMs: number;
}

export const DEFAULT_SETTINGS: EngineSettings = Object.freeze({
  listenEndpoints: Object.freeze(['0.0.0.0:6881', '[::]:6881']),
  maxConnections: 200,
  maxConnectionsPerTorrent: 60,
  maxActiveDownloads: 0,
  maxActiveSeeds: 0,
  maxDownloadRate: 0,
  maxUploadRate: 0,
  maxHalfOpen: 16,
  connectTimeoutMs: 10_000,
  handshakeTimeoutMs: 10_000,
  maxHalfOpenIncoming: 64,
  maxIncomingPerIp: 8,
  uploadSlots: 8,
  chokeIntervalMs: 10_000,
  keepAliveIntervalMs: 60_000,
  peerIdleTimeoutMs: 180_000,
  requestTimeoutMs: 20_000,
  maxOutstandingRequests: 1000,
  maxIncomingRequests: 2000,
  requestQueueSeconds: 3,
  hashFailuresToBan: 3,
  hashWorkers: 2,
  readCacheBytes: 32 * 1024 * 1024,
  reconnectBaseMs: 2_000,
  peerIdPrefix: '-TK0100-',
  userAgent: 'torrentkit/0.1.0',
  udpEndpoints: Object.freeze([]) as readonly string[],
  trackerNumWant: 200,
  trackerHttpTimeoutMs: 30_000,
  trackerMaxResponseBytes: 2 * 1024 * 1024,
  udpTrackerBaseTimeoutMs: 15_000,
  udpTrackerMaxRetries: 2,
  trackerRequestTimeoutMs: 120_000,
  trackerMinIntervalMs: 30_000,
  trackerRetryBaseMs: 15_000,
  trackerStopTimeoutMs: 3_000,
  encryption: Object.freeze(['rc4-full', 'rc4-header', 'plaintext']) as readonly EncryptionType[],
  enableTcp: true,
  // On: the engine's uTP path passes its libtorrent interop test (test/interop/utp-lt.test.ts) and the whole interop suite.
  enableUtp: true,
  preferredTransport: 'tcp',
  transportFallbackMs: 3_000,
  pexEnabled: true,
  lsdEnabled: true,
  lsdInterface: '0.0.0.0',
  dhtEnabled: true,
  dhtStateFile: '',
  dhtBootstrap: Object.freeze(['router.bittorrent.com:6881', 'dht.transmissionbt.com:6881', 'router.utorrent.com:6881', 'dht.libtorrent.org:25401']) as readonly string[],
  maxMetadataSize: 8 * 1024 * 1024,
  fastResume: true,
  resumeSaveIntervalMs: 30_000,
  webSeedsEnabled: true,
  proxy: '',
  portForwarding: true,
  natMethods: Object.freeze(['upnp', 'natpmp', 'pcp']) as readonly NatMethod[],
  natLeaseSeconds: 3600,
  natDiscoveryTimeoutMs: 3_000,
});

const POSITIVE_INTS: (keyof EngineSettings)[] = [
  'maxConnections', 'maxConnectionsPerTorrent', 'maxHalfOpen', 'connectTimeoutMs', 'handshakeTimeoutMs', 'maxHalfOpenIncoming',
  'maxIncomingPerIp', 'uploadSlots',
  'chokeIntervalMs', 'keepAliveIntervalMs', 'peerIdleTimeoutMs', 'requestTimeoutMs', 'maxOutstandingRequests',
  'maxIncomingRequests', 'hashFailuresToBan', 'hashWorkers', 'reconnectBaseMs', 'trackerNumWant', 'trackerHttpTimeoutMs',
  'trackerMaxResponseBytes', 'udpTrackerBaseTimeoutMs', 'trackerRequestTimeoutMs', 'trackerMinIntervalMs',
  'trackerRetryBaseMs', 'trackerStopTimeoutMs', 'maxMetadataSize', 'natLeaseSeconds', 'natDiscoveryTimeoutMs',
];

/** Defaults + overrides, validated; throws BtError ERR_SETTINGS naming the bad field. */
export function resolveSettings(partial: Partial<EngineSettings> = {}): EngineSettings {
  const s = { ...DEFAULT_SETTINGS, ...stripUndefined(partial) } as EngineSettings;
  const bad = (field: string, why: string): never => {
    throw new BtError('ERR_SETTINGS', `setting ${field}: ${why}`, { op: 'settings', field });
  };
  for (const k of POSITIVE_INTS) {
    const v = s[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) bad(k, `must be a positive integer, got ${String(v)}`);
  }
  if (!(s.requestQueueSeconds > 0)) bad('requestQueueSeconds', 'must be > 0');
  if (!(s.readCacheBytes >= 0)) bad('readCacheBytes', 'must be >= 0');
  if (!Array.isArray(s.listenEndpoints)) bad('listenEndpoints', 'must be a list of HOST:PORT');
  for (const ep of s.listenEndpoints) {
    try {
      parseHostPort(ep);
    } catch {
      bad('listenEndpoints', `not HOST:PORT: ${JSON.stringify(ep)}`);
    }
  }
  if (!(Number.isInteger(s.udpTrackerMaxRetries) && s.udpTrackerMaxRetries >= 0 && s.udpTrackerMaxRetries <= 8)) {
    bad('udpTrackerMaxRetries', 'must be an integer in 0..8 (BEP 15)');
  }
  if (!Array.isArray(s.udpEndpoints)) bad('udpEndpoints', 'must be a list of HOST:PORT');
  for (const ep of s.udpEndpoints) {
    try {
      parseHostPort(ep);
    } catch {
      bad('udpEndpoints', `not HOST:PORT: ${JSON.stringify(ep)}`);
    }
  }
  if (!Array.isArray(s.encryption) || s.encryption.length === 0) bad('encryption', 'must list at least one of rc4-full, rc4-header, plaintext');
  for (const e of s.encryption) {
    if (!ENCRYPTION_TYPES.includes(e)) bad('encryption', `unknown kind ${JSON.stringify(e)} (rc4-full, rc4-header, plaintext)`);
  }
  if (new Set(s.encryption).size !== s.encryption.length) bad('encryption', 'a kind is listed twice');
  if (!s.enableTcp && !s.enableUtp) bad('enableTcp', 'enable at least one of TCP and uTP');
  if (s.preferredTransport !== 'tcp' && s.preferredTransport !== 'utp') bad('preferredTransport', 'must be tcp or utp');
  if (!(Number.isInteger(s.transportFallbackMs) && s.transportFallbackMs > 0)) bad('transportFallbackMs', 'must be a positive integer');
  if (typeof s.pexEnabled !== 'boolean') bad('pexEnabled', 'must be a boolean');
  if (typeof s.lsdEnabled !== 'boolean') bad('lsdEnabled', 'must be a boolean');
  if (typeof s.lsdInterface !== 'string' || s.lsdInterface.length === 0) bad('lsdInterface', 'must be an interface address such as 127.0.0.1');
  if (typeof s.dhtEnabled !== 'boolean') bad('dhtEnabled', 'must be a boolean');
  if (typeof s.dhtStateFile !== 'string') bad('dhtStateFile', 'must be a path or empty');
  if (typeof s.fastResume !== 'boolean') bad('fastResume', 'must be a boolean');
  if (!(Number.isInteger(s.resumeSaveIntervalMs) && (s.resumeSaveIntervalMs === 0 || s.resumeSaveIntervalMs >= 1000))) {
    bad('resumeSaveIntervalMs', 'must be a whole number of ms, at least 1000, or 0 for no periodic saves');
  }
  if (typeof s.webSeedsEnabled !== 'boolean') bad('webSeedsEnabled', 'must be a boolean');
  if (typeof s.proxy !== 'string') bad('proxy', 'must be socks5://host:port or empty');
  else if (s.proxy !== '') {
    try {
      parseSocks5Url(s.proxy);
    } catch (e) {
      bad('proxy', (e as Error).message);
    }
  }
  for (const k of ['maxDownloadRate', 'maxUploadRate', 'maxActiveDownloads', 'maxActiveSeeds'] as const) {
    if (!(Number.isInteger(s[k]) && s[k] >= 0)) bad(k, 'must be a whole number of bytes per second, 0 for no limit');
  }
  if (!Array.isArray(s.dhtBootstrap)) bad('dhtBootstrap', 'must be a list of HOST:PORT');
  for (const ep of s.dhtBootstrap) {
    let port = 0;
    try {
      port = parseHostPort(ep).port;
    } catch {
      bad('dhtBootstrap', `not HOST:PORT: ${JSON.stringify(ep)}`);
    }
    if (port === 0) bad('dhtBootstrap', `port must be 1..65535: ${JSON.stringify(ep)}`);
  }
  if (typeof s.portForwarding !== 'boolean') bad('portForwarding', 'must be a boolean');
  if (!Array.isArray(s.natMethods)) bad('natMethods', 'must be a list of upnp, natpmp, pcp');
  for (const m of s.natMethods) if (!NAT_METHODS.includes(m)) bad('natMethods', `unknown method ${JSON.stringify(m)} (upnp, natpmp, pcp)`);
  if (s.portForwarding && s.natMethods.length === 0) bad('natMethods', 'list at least one method, or turn portForwarding off');
  if (s.natLeaseSeconds > 86_400 * 7) bad('natLeaseSeconds', 'must be at most 604800 (7 days)');
  if (!/^-[A-Za-z]{2}\d{4}-$/.test(s.peerIdPrefix)) bad('peerIdPrefix', 'must look like -XX0000-');
  return Object.freeze({
    ...s,
    listenEndpoints: Object.freeze([...s.listenEndpoints]),
    udpEndpoints: Object.freeze([...s.udpEndpoints]),
    encryption: Object.freeze([...s.encryption]),
    dhtBootstrap: Object.freeze([...s.dhtBootstrap]),
    natMethods: Object.freeze([...new Set(s.natMethods)]),
  });
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}
