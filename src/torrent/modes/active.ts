/**
 * The active modes: DownloadingMode and SeedingMode (both ActiveMode). Peers are dialed and accepted, the BEP 3 /
 * BEP 6 message loop runs, uploads are served and the choker rounds run; downloading also requests blocks. The
 * piece-level work is the torrent's Download; this is when and in answer to what.
 */
import { Bitfield } from '../../util/index.js';
import type { Message } from '../../wire/index.js';
import type { PeerSession } from '../peer-session.js';
import { BaseMode } from './mode.js';
import { PausedMode } from './paused.js';
import { idleCheck } from './peers.js';

export abstract class ActiveMode extends BaseMode {
  override readonly connectable = true;

  override pause(): void {
    this.core.peers.closeAll('paused');
    this.core.setMode(new PausedMode(this.core));
  }

  override onPeerAttached(st: PeerSession): void {
    const core = this.core;
    const msgs: Message[] = [];
    if (st.peer.extended) msgs.push({ type: 'extended', id: 0, payload: core.extensions.handshake() });
    // BEP 5: our DHT port, after the bitfield, to peers that set the DHT bit.
    const dhtPort = st.dht && core.dhtAllowed ? core.env.dht?.()?.port : undefined;
    msgs.push(...core.active!.initialMessages(st, dhtPort));
    st.peer.sendMany(msgs);
  }

  override onMessage(st: PeerSession, m: Message): void {
    const core = this.core;
    const d = core.active!;
    switch (m.type) {
      case 'keep-alive':
        return;
      case 'bitfield':
        return d.onBitfield(st, m.bits);
      case 'have-all': {
        const all = new Bitfield(d.picker.pieceCount);
        all.setAll();
        return d.onBitfield(st, all.bytes);
      }
      case 'have-none':
        return d.onBitfield(st, new Uint8Array(Math.ceil(d.picker.pieceCount / 8)));
      case 'have':
        return d.onHave(st, m.index);
      case 'choke':
        st.choking = true;
        // Without the fast extension a choke discards every pending request; with it, the peer rejects each.
        if (!st.fast) d.picker.releasePeer(st.id);
        return;
      case 'unchoke':
        st.choking = false;
        d.picker.onUnchoke(st.id);
        return d.fill(st);
      case 'interested':
        st.peerInterested = true;
        return core.uploader.maybeUnchokeNow(st, core.peers.values());
      case 'not-interested':
        st.peerInterested = false;
        return;
      case 'request':
        return core.uploader.onRequest(st, core.meta!.info, d.picker.have, core.readCache!, m.index, m.begin, m.length);
      case 'cancel':
        return core.uploader.onCancel(st, m.index, m.begin, m.length);
      case 'piece':
        return d.onPiece(st, m.index, m.begin, m.block);
      case 'reject':
        d.picker.onRequestFailed(st.id, { index: m.index, begin: m.begin, length: m.length });
        return d.fill(st);
      case 'allowed-fast':
        if (m.index < d.picker.pieceCount) st.allowedFast.add(m.index);
        if (st.choking) d.fill(st);
        return;
      case 'port':
        if (core.dhtAllowed && m.port > 0) core.env.dht?.()?.addNode(st.peer.conn.remoteAddress, m.port);
        return;
      case 'suggest':
      case 'unknown':
      case 'extended':
        return;
    }
  }

  override onPeerClosed(_st: PeerSession): void {
    this.core.active!.fillAll();
    this.core.wantPeers();
  }

  override wake(): void {
    const core = this.core;
    core.active!.fillAll();
    if (core.readCache) for (const st of core.peers.values()) core.uploader.serve(st, core.readCache);
  }

  override tick(now: number): void {
    const core = this.core;
    const d = core.active!;
    const s = core.env.settings;
    const peers = core.peers.list();
    core.extensions.sendPex(peers);
    core.uploader.tick(peers, this.state === 'seeding', now);
    idleCheck(core, now);
    for (const st of peers) {
      if (st.closed) continue;
      const p = st.peer;
      const out = d.picker.outstanding(st.id);
      if (out > 0 && !st.choking && now - p.lastPieceAt > s.requestTimeoutMs && !st.snubbed) {
        // Snubbed: give its blocks to others; keep the connection (it may recover).
        st.snubbed = true;
        d.picker.releasePeer(st.id);
        p.lastPieceAt = now;
        d.fillAll();
      } else {
        d.fill(st);
      }
    }
    d.webSeeds?.fill();
    this.checkSeedLimits(now);
    core.wantPeers();
  }

  /** Seeding limits: reached → 'seed-limit', then stop. Only seeding checks them. */
  protected checkSeedLimits(_now: number): void {}
}

export class DownloadingMode extends ActiveMode {
  readonly state = 'downloading' as const;
  override readonly requesting = true;

  /** Every wanted piece may be there now (files were skipped): complete. */
  override onSelectionChanged(): void {
    const d = this.core.active!;
    d.recountInterest();
    if (d.picker.finished) void d.complete();
    d.fillAll();
  }
}

export class SeedingMode extends ActiveMode {
  readonly state = 'seeding' as const;

  /** A file is wanted again: download it; seeds we left when nothing more was wanted are worth dialing at once. */
  override onSelectionChanged(): void {
    const core = this.core;
    const d = core.active!;
    d.recountInterest();
    if (!d.picker.finished) {
      core.setMode(new DownloadingMode(core));
      core.extensions.resendHandshake(core.peers.values());
      core.pool.dueNow(false);
      core.wantPeers();
    }
    d.fillAll();
  }

  protected override checkSeedLimits(now: number): void {
    const core = this.core;
    const size = core.meta!.info.totalLength;
    let reason: string | undefined;
    if (core.seedRatioLimit > 0 && size > 0 && core.uploaded >= core.seedRatioLimit * size) {
      reason = `uploaded ${(core.uploaded / size).toFixed(2)}x the torrent's size (limit ${core.seedRatioLimit})`;
    } else if (core.seedTimeLimitMs > 0 && now - core.seedingSince >= core.seedTimeLimitMs) {
      reason = `seeded for ${Math.round((now - core.seedingSince) / 1000)} s (limit ${Math.round(core.seedTimeLimitMs / 1000)} s)`;
    }
    if (!reason) return;
    core.log.info(`seed limit reached: ${reason}`);
    core.events.emit('seed-limit', reason);
    void core.owner.stop();
  }
}
