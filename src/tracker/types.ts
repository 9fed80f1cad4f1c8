/**
 * What every tracker kind (HTTP, HTTPS, UDP, or one a user registers) looks like to the TrackerManager.
 * A Tracker is one announce URL; it keeps whatever per-URL state its protocol needs (trackerid, UDP
 * connection id) and throws BtError('ERR_TRACKER' | 'ERR_TIMEOUT' | 'ERR_ABORTED' ...) on failure.
 */

export type AnnounceEvent = 'none' | 'started' | 'completed' | 'stopped';

export interface AnnounceRequest {
  infoHash: Uint8Array;
  peerId: Uint8Array;
  /** TCP port peers can reach us on. */
  port: number;
  uploaded: number;
  downloaded: number;
  left: number;
  event: AnnounceEvent;
  /** Peers wanted (0 for `stopped`). */
  numWant: number;
  /** Random 32-bit value constant for the engine's session, so a tracker knows us across IP changes. */
  key: number;
  /** MSE support to advertise (HTTP `supportcrypto` / `requirecrypto`). */
  crypto?: 'none' | 'supported' | 'required';
}

export interface TrackerPeer {
  host: string;
  port: number;
  /** Only for dictionary-model replies that carry it. */
  peerId?: Uint8Array;
}

export interface AnnounceResponse {
  /** Seconds until the next regular announce. */
  interval?: number;
  /** Seconds a client must wait before announcing again. */
  minInterval?: number;
  /** Seeders (`complete`) and leechers (`incomplete`) the tracker knows of. */
  seeders?: number;
  leechers?: number;
  /** IPv4 and IPv6 peers, already decoded. */
  peers: TrackerPeer[];
  warning?: string;
  /** Our address as the tracker sees it (HTTP `external ip`), when it says. */
  externalIp?: string;
}

export interface ScrapeResponse {
  seeders: number;
  leechers: number;
  /** Times the torrent was completed (`downloaded`). */
  completed: number;
}

export interface Tracker {
  readonly url: string;
  /** False when the URL has no scrape counterpart (HTTP URLs whose last segment doesn't start with "announce"). */
  readonly canScrape: boolean;
  announce(req: AnnounceRequest, opts?: { signal?: AbortSignal }): Promise<AnnounceResponse>;
  scrape(infoHash: Uint8Array, opts?: { signal?: AbortSignal }): Promise<ScrapeResponse>;
  /** Release timers and sockets; outstanding calls reject with ERR_ABORTED. */
  dispose(): void;
}
