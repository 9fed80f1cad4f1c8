/** A torrent's figures as the API shows them (pure functions of its state). */
import type { TorrentInfo } from '../metainfo/index.js';
import { pieceSize } from '../metainfo/index.js';
import type { PiecePicker } from '../picker/index.js';
import type { PeerSession } from './peer-session.js';
import type { PeerInfo, TorrentState, TorrentStats } from './types.js';

/** `left` announced to trackers while the size is unknown (magnet before metadata). */
export const UNKNOWN_LEFT = 16 * 1024 * 1024 * 1024;

export interface StatsInput {
  state: TorrentState;
  info: TorrentInfo | undefined;
  picker: PiecePicker | undefined;
  /** Some file is skipped or prioritised: progress and ETA count only wanted pieces. */
  selective: boolean;
  downloaded: number;
  uploaded: number;
  downloadRate: number;
  uploadRate: number;
  peers: readonly PeerSession[];
}

export function torrentStats(x: StatsInput): TorrentStats {
  let seeds = 0;
  for (const st of x.peers) if (st.isSeed) seeds++;
  const info = x.info;
  if (!info) {
    return {
      state: x.state,
      progress: 0,
      piecesHave: 0,
      pieceCount: 0,
      downloaded: x.downloaded,
      uploaded: x.uploaded,
      downloadRate: 0,
      uploadRate: 0,
      peers: x.peers.length,
      seeds: 0,
      eta: undefined,
      left: UNKNOWN_LEFT,
    };
  }
  const picker = x.picker;
  const have = picker?.have;
  const piecesHave = have?.count ?? 0;
  let haveBytes = 0;
  if (have) {
    haveBytes = piecesHave * info.pieceLength;
    if (have.get(info.pieceCount - 1)) haveBytes -= info.pieceLength - pieceSize(info, info.pieceCount - 1);
  }
  const left = info.totalLength - haveBytes;
  // Progress and ETA count what is wanted: with skipped files, the bytes of the pieces still wanted.
  let wantedTotal = info.totalLength;
  let wantedLeft = left;
  if (picker && x.selective) {
    wantedTotal = 0;
    wantedLeft = 0;
    for (let i = 0; i < info.pieceCount; i++) {
      if (picker.piecePriority(i) === 0 && !picker.have.get(i)) continue;
      const size = pieceSize(info, i);
      wantedTotal += size;
      if (!picker.have.get(i)) wantedLeft += size;
    }
  }
  return {
    state: x.state,
    progress: wantedTotal === 0 ? 1 : (wantedTotal - wantedLeft) / wantedTotal,
    piecesHave,
    pieceCount: info.pieceCount,
    downloaded: x.downloaded,
    uploaded: x.uploaded,
    downloadRate: x.downloadRate,
    uploadRate: x.uploadRate,
    peers: x.peers.length,
    seeds,
    eta: wantedLeft === 0 ? 0 : x.downloadRate > 0 ? wantedLeft / x.downloadRate : undefined,
    left,
  };
}

export function peerInfo(st: PeerSession, pieceCount: number, now: number): PeerInfo {
  return {
    address: st.id,
    source: st.source,
    encryption: st.encryption,
    client: st.clientName,
    outgoing: st.peer.conn.outgoing,
    transport: st.peer.conn.kind,
    progress: pieceCount === 0 ? 0 : st.have.count / pieceCount,
    downloadRate: st.peer.down.rate(now),
    uploadRate: st.peer.up.rate(now),
    amChoking: st.amChoking,
    amInterested: st.amInterested,
    peerChoking: st.choking,
    peerInterested: st.peerInterested,
  };
}
