/**
 * TorrentSettings: the settings a torrent reads (the engine's EngineSettings, src/engine/settings.ts, extends it
 * and resolves and validates the whole object).
 */
import type { EncryptionType } from '../peer/index.js';

export interface TorrentSettings {
  /** Upper bound on peer connections per torrent. */
  maxConnectionsPerTorrent: number;
  /** Unchoked peers per torrent (one of them optimistic). */
  uploadSlots: number;
  chokeIntervalMs: number;
  keepAliveIntervalMs: number;
  /** A peer that sends nothing for this long is dropped. */
  peerIdleTimeoutMs: number;
  /** Outstanding requests with no block from that peer for this long are given to others. */
  requestTimeoutMs: number;
  /** Ceiling on requests kept in flight to one peer (the pipeline grows to this with the peer's rate). */
  maxOutstandingRequests: number;
  /** Requests a peer may queue with us before we reject (fast ext) or drop them. */
  maxIncomingRequests: number;
  /** Seconds of data at the peer's current rate to keep requested (libtorrent's request_queue_time). */
  requestQueueSeconds: number;
  /** A peer blamed for this many failed pieces is disconnected and banned. */
  hashFailuresToBan: number;
  /** Memory for whole pieces read to serve uploads. */
  readCacheBytes: number;
  /** Reconnect delay after a failed connection attempt (doubles per failure). */
  reconnectBaseMs: number;
  /** Client name sent in the BEP 10 handshake and as the HTTP tracker User-Agent. */
  userAgent: string;
  /** Peers asked of a tracker per announce. */
  trackerNumWant: number;
  /** Upper bound on any one announce or scrape, whatever the tracker kind. */
  trackerRequestTimeoutMs: number;
  /** Floor on the regular announce interval, whatever a tracker says. */
  trackerMinIntervalMs: number;
  /** First back-off after a tracker fails (doubles per consecutive failure, up to 30 min). */
  trackerRetryBaseMs: number;
  /** How long stopping a torrent waits for `stopped` announces. */
  trackerStopTimeoutMs: number;
  /**
   * Allowed connection kinds in preference order (MonoTorrent's AllowedEncryption): 'rc4-full' (MSE, then RC4
   * throughout), 'rc4-header' (MSE handshake, then plaintext), 'plaintext' (no MSE). Outgoing connections try
   * them in order; incoming ones are accepted when their kind is listed. Without 'plaintext', encryption is required.
   */
  encryption: readonly EncryptionType[];
  /** BEP 11 peer exchange (never for private torrents). */
  pexEnabled: boolean;
  /** BEP 5 Mainline DHT on the shared UDP socket, as a peer source (never for private torrents). */
  dhtEnabled: boolean;
  /** Largest info dictionary (BEP 9 metadata_size) fetched for a magnet link. */
  maxMetadataSize: number;
  /**
   * Fast resume: while a torrent is checked, save its resume data at most this often (ms), and only when pieces
   * were verified since the last save; 0 = only on state changes and at stop. At least 1000 when not 0.
   */
  resumeSaveIntervalMs: number;
  /** BEP 19 web seeds: download from the torrent's url-list (and a magnet's ws) HTTP(S) servers too. */
  webSeedsEnabled: boolean;
}
