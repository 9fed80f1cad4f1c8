/**
 * MetadataMode (BEP 9): a magnet link without its info dictionary. Peers are dialed and accepted, nothing but
 * extension messages matters (we have no pieces: have-none to fast peers), and the MetadataFetch asks the peers
 * that advertise ut_metadata for its pieces. When it arrives the torrent checks its data and reconnects.
 */
import { BtError } from '../../core/index.js';
import { metainfoFromInfoBytes } from '../../metainfo/index.js';
import type { Metainfo } from '../../metainfo/index.js';
import type { Message } from '../../wire/index.js';
import { MetadataFetch } from '../metadata-fetch.js';
import type { PeerSession } from '../peer-session.js';
import type { TorrentCore } from '../torrent-core.js';
import type { PeerSource } from '../types.js';
import { BaseMode } from './mode.js';
import { idleCheck } from './peers.js';

export class MetadataMode extends BaseMode {
  readonly state = 'metadata' as const;
  override readonly connectable = true;
  readonly fetch: MetadataFetch;

  constructor(core: TorrentCore) {
    super(core);
    this.fetch = new MetadataFetch(core.owner.infoHash, core.env.clock, core.env.settings.maxMetadataSize, {
      peers: () => core.peers.values(),
      complete: (info) => this.gotMetadata(info),
      ban: (st, reason) => core.ban(st, reason),
      send: (st, payload) => core.extensions.send(st, 'ut_metadata', payload),
    });
  }

  override enter(): void {
    const core = this.core;
    core.startTicker();
    core.trackers?.start({ complete: false });
    core.dht.start();
    core.wantPeers();
  }

  override exit(): void {
    this.fetch.stop();
  }

  override onPeerAttached(st: PeerSession): void {
    const msgs: Message[] = [];
    if (st.peer.extended) msgs.push({ type: 'extended', id: 0, payload: this.core.extensions.handshake() });
    // We have no pieces (BEP 6 wants a have-none from a fast peer); BEP 5: our DHT port to peers with the DHT bit.
    if (st.fast) msgs.push({ type: 'have-none' });
    const dhtPort = st.dht && this.core.dhtAllowed ? this.core.env.dht?.()?.port : undefined;
    if (dhtPort) msgs.push({ type: 'port', port: dhtPort });
    st.peer.sendMany(msgs);
  }

  override onHandshaken(st: PeerSession): void {
    this.fetch.peerReady(st);
  }

  override onPeerClosed(st: PeerSession): void {
    this.fetch.peerClosed(st);
    this.core.wantPeers();
  }

  override tick(now: number): void {
    idleCheck(this.core, now);
    this.fetch.tick();
    this.core.wantPeers();
  }

  /** The info dictionary arrived and hashes to the info-hash: build the metainfo, reconnect, check, download. */
  private gotMetadata(infoBytes: Uint8Array): void {
    const core = this.core;
    let meta: Metainfo;
    try {
      meta = metainfoFromInfoBytes(infoBytes, {
        trackers: core.magnet?.trackers ?? [],
        urlList: core.magnet?.webSeeds ?? [],
        infoHash: core.owner.infoHash,
      });
    } catch (e) {
      return core.fail(e, 'ERR_METADATA');
    }
    if (meta.version === 2) {
      // BEP 52 downloads (merkle piece checks, hash requests) are not built yet: see src/metainfo/NOTES-v2.md.
      return core.fail(new BtError('ERR_UNSUPPORTED', 'downloading v2-only torrents is not supported yet', { op: 'start' }), 'ERR_METADATA');
    }
    core.setMeta(meta);
    core.log.info(`metadata received: ${meta.info.name}, ${meta.info.pieceCount} pieces`);
    core.events.emit('metadata', meta);
    core.env.saveMetadata?.(core.owner, meta);
    // Simplest correct hand-over: drop the connections (they were opened with no piece count) and dial
    // them again; peers that dialed us are dialed back on the listen port they announced.
    const again: [string, number, PeerSource][] = [];
    for (const st of core.peers.values()) {
      if (!st.peer.conn.outgoing && st.listenPort !== undefined) again.push([st.peer.conn.remoteAddress, st.listenPort, st.source]);
    }
    core.stopTicker();
    // Checking starts at once, so nothing is dialed until the check is done.
    void core.check();
    core.peers.closeAll('metadata received; reconnecting');
    for (const [h, port, source] of again) core.addCandidate(h, port, source);
    core.pool.dueNow(true);
  }
}
