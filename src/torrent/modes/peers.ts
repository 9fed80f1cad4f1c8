/** Housekeeping every connected mode does once a second. */
import type { TorrentCore } from '../torrent-core.js';

/** Close peers silent for peerIdleTimeoutMs; keep-alive to those we have not written to for keepAliveIntervalMs. */
export function idleCheck(core: TorrentCore, now: number): void {
  const s = core.env.settings;
  for (const st of core.peers.list()) {
    const p = st.peer;
    if (now - p.lastReceived > s.peerIdleTimeoutMs) p.close('idle timeout');
    else if (now - p.lastSent > s.keepAliveIntervalMs) p.send({ type: 'keep-alive' });
  }
}
