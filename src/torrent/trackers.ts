/** Tracker glue: a torrent's TrackerManager (BEP 12 tiers) built from its metainfo or magnet and the engine's env. */
import type { MagnetLink, Metainfo } from '../metainfo/index.js';
import type { TrackerPeer } from '../tracker/index.js';
import { TrackerManager } from '../tracker/index.js';
import type { TrackerStatus } from '../tracker/index.js';
import type { TorrentEnv, TorrentStats } from './types.js';

export interface TrackerHooks {
  stats(): Pick<TorrentStats, 'uploaded' | 'downloaded' | 'left'>;
  peers(peers: TrackerPeer[]): void;
  warning(message: string): void;
  status(status: TrackerStatus): void;
}

/** What to tell trackers about encryption, from the engine's encryption setting. */
export function trackerCrypto(encryption: readonly string[]): 'none' | 'supported' | 'required' {
  return encryption.includes('plaintext') ? (encryption.length > 1 ? 'supported' : 'none') : 'required';
}

/** The torrent's tiers (its own, then `extra`), or undefined when it has none. */
export function createTrackerManager(
  env: TorrentEnv,
  source: Metainfo | MagnetLink,
  extra: readonly (readonly string[])[],
  hooks: TrackerHooks,
): TrackerManager | undefined {
  const own = 'info' in source ? source.announceList : source.trackers.map((t) => [t]);
  const tiers = [...own, ...extra].filter((t) => t.length > 0);
  if (tiers.length === 0) return undefined;
  const s = env.settings;
  return new TrackerManager({
    tiers,
    clock: env.clock,
    random: env.random,
    createTracker: (url) => env.createTracker(url),
    infoHash: source.infoHash,
    peerId: env.peerId,
    key: env.trackerKey,
    stats: () => {
      const st = hooks.stats();
      return { port: env.listenPort(), uploaded: st.uploaded, downloaded: st.downloaded, left: st.left };
    },
    numWant: s.trackerNumWant,
    crypto: trackerCrypto(s.encryption),
    minIntervalMs: s.trackerMinIntervalMs,
    retryBaseMs: s.trackerRetryBaseMs,
    requestTimeoutMs: s.trackerRequestTimeoutMs,
    stopTimeoutMs: s.trackerStopTimeoutMs,
    onPeers: (peers) => hooks.peers(peers),
    onWarning: (w) => hooks.warning(w),
    onStatus: (st) => hooks.status(st),
    onResponse: (r, url) => {
      if (r.externalIp) env.externalAddress?.(r.externalIp, url);
    },
  });
}
