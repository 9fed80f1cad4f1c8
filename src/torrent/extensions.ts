/**
 * BEP 10 extensions of a torrent: our extended handshake (ut_metadata, ut_pex, listen port, request queue,
 * metadata size, BEP 21 upload_only), reading the peer's, and the two extension protocols: ut_metadata (BEP 9;
 * serving the info dictionary, bounded; fetching goes to the MetadataFetch) and ut_pex (BEP 11).
 */
import type { Clock } from '../core/index.js';
import type { Metainfo } from '../metainfo/index.js';
import { TokenBucket } from '../util/index.js';
import {
  METADATA_PIECE_SIZE,
  PexFlags,
  PexTracker,
  decodeExtendedHandshake,
  decodeUtMetadata,
  decodeUtPex,
  encodeExtendedHandshake,
  encodeUtMetadata,
  encodeUtPex,
  serveMetadata,
} from '../wire/index.js';
import type { PexPeer } from '../wire/index.js';
import type { MetadataFetch } from './metadata-fetch.js';
import type { PeerSession } from './peer-session.js';
import type { TorrentSettings } from './types.js';

/** The extended message ids we ask peers to use for messages to us (BEP 10 `m`). */
export const UT_METADATA_ID = 1;
export const UT_PEX_ID = 2;

/** BEP 11: a peer's PEX messages are read no more often than this (it may send one a minute). */
const PEX_READ_INTERVAL_MS = 10_000;

export interface ExtensionHooks {
  meta(): Metainfo | undefined;
  listenPort(): number;
  /** Every wanted piece is there (BEP 21 upload_only). */
  finished(): boolean;
  /** May we exchange peers (never for private torrents, nor before we know whether it is one)? */
  pexAllowed(): boolean;
  /** The fetch under way (magnet links before their metadata). */
  fetch(): MetadataFetch | undefined;
  /** The peer's extended handshake was read (the mode decides what follows). */
  handshaken(st: PeerSession): void;
  /** A peer address from PEX; true if it was new. */
  pexPeer(host: string, port: number): boolean;
  /** New PEX peers were added. */
  wantPeers(): void;
  isSelf(host: string, port: number): boolean;
  warning(message: string): void;
  debug(message: () => string): void;
}

export class Extensions {
  constructor(
    private readonly settings: TorrentSettings,
    private readonly clock: Clock,
    private readonly hooks: ExtensionHooks,
  ) {}

  /** Our BEP 10 handshake. */
  handshake(): Uint8Array {
    const meta = this.hooks.meta();
    const m: Record<string, number> = { ut_metadata: UT_METADATA_ID };
    if (this.settings.pexEnabled && !meta?.info.private) m['ut_pex'] = UT_PEX_ID;
    return encodeExtendedHandshake({
      m,
      v: this.settings.userAgent,
      p: this.hooks.listenPort() || undefined,
      reqq: this.settings.maxIncomingRequests,
      metadata_size: meta?.infoBytes.length,
      upload_only: this.hooks.finished() ? 1 : undefined,
    });
  }

  /** BEP 10 allows a new handshake at any time: tell the peers that upload_only changed. */
  resendHandshake(peers: Iterable<PeerSession>): void {
    const payload = this.handshake();
    for (const st of peers) if (st.peer.extended) st.send({ type: 'extended', id: 0, payload });
  }

  onExtended(st: PeerSession, id: number, payload: Uint8Array): void {
    if (id === 0) return this.onHandshake(st, payload);
    if (id === UT_METADATA_ID) return this.onUtMetadata(st, payload);
    if (id === UT_PEX_ID) return this.onUtPex(st, payload);
    // An extension we did not advertise: ignore it (BEP 10).
  }

  send(st: PeerSession, name: string, payload: Uint8Array): void {
    const id = st.extensionId(name);
    if (id > 0) st.send({ type: 'extended', id, payload });
  }

  private onHandshake(st: PeerSession, payload: Uint8Array): void {
    let hs;
    try {
      hs = decodeExtendedHandshake(payload);
    } catch (e) {
      this.hooks.warning(`bad extended handshake from ${st.id}: ${(e as Error).message}`);
      return;
    }
    if (hs.v !== undefined) st.clientName = hs.v;
    if (hs.reqq !== undefined && hs.reqq > 0) st.maxRequests = Math.min(hs.reqq, this.settings.maxOutstandingRequests);
    st.extensions = hs.m ?? {};
    if (hs.p !== undefined) st.listenPort = hs.p;
    if (hs.metadata_size !== undefined) st.metadataSize = hs.metadata_size;
    st.uploadOnly = hs.upload_only === 1;
    if (st.uploadOnly && this.hooks.finished() && (st.isSeed || st.uploadOnly)) return st.close('neither wants anything more');
    if (st.extensionId('ut_pex') > 0 && this.hooks.pexAllowed() && !st.pex) {
      st.pex = new PexTracker({ clock: this.clock, remote: st.dialAddress });
    }
    this.hooks.handshaken(st);
  }

  /**
   * Metadata requests are answered with 16 KiB each: a peer may fetch the info dictionary about twice at once, then
   * one piece per second; beyond that it gets rejects (an amplification bound, like libtorrent's request limit).
   */
  private mayServeMetadata(st: PeerSession, size: number): boolean {
    const now = this.clock.now();
    st.metadataServed ??= new TokenBucket(METADATA_PIECE_SIZE, 2 * size + METADATA_PIECE_SIZE);
    if (!st.metadataServed.canSpend(now)) return false;
    st.metadataServed.spend(METADATA_PIECE_SIZE, now);
    return true;
  }

  private onUtMetadata(st: PeerSession, payload: Uint8Array): void {
    const max = this.settings.maxMetadataSize;
    const fetch = this.hooks.fetch();
    const expected = fetch?.expectedSize(st);
    let msg;
    try {
      msg = decodeUtMetadata(payload, expected !== undefined ? { metadataSize: expected, maxMetadataSize: max } : { maxMetadataSize: max });
    } catch (e) {
      return st.close(`bad ut_metadata message: ${(e as Error).message}`);
    }
    switch (msg.type) {
      case 'request': {
        const info = this.hooks.meta()?.infoBytes;
        if (info && !this.mayServeMetadata(st, info.length)) {
          return this.send(st, 'ut_metadata', encodeUtMetadata({ type: 'reject', piece: msg.piece }));
        }
        return this.send(st, 'ut_metadata', serveMetadata(info, msg.piece));
      }
      case 'reject':
        return fetch?.onReject(st, msg.piece);
      case 'data':
        return fetch?.onData(st, msg.piece, msg.data);
      case 'unknown':
        return;
    }
  }

  private onUtPex(st: PeerSession, payload: Uint8Array): void {
    if (!this.hooks.pexAllowed()) return;
    const now = this.clock.now();
    let msg;
    try {
      msg = decodeUtPex(payload);
    } catch (e) {
      return st.close(`bad ut_pex message: ${(e as Error).message}`);
    }
    // BEP 11: at most one message a minute; a flood is read no more often than every 10 s.
    if (now - st.lastPexReceived < PEX_READ_INTERVAL_MS) return;
    st.lastPexReceived = now;
    let added = 0;
    for (const a of msg.added) {
      if (this.hooks.isSelf(a.host, a.port)) continue;
      if (this.hooks.pexPeer(a.host, a.port)) added++;
    }
    if (added > 0) {
      this.hooks.debug(() => `${added} peer(s) from ${st.id} by PEX`);
      this.hooks.wantPeers();
    }
  }

  /** Send each PEX-capable peer what changed (PexTracker keeps it to one message a minute). */
  sendPex(peers: readonly PeerSession[]): void {
    if (!this.hooks.pexAllowed()) return;
    let list: PexPeer[] | undefined;
    for (const st of peers) {
      if (!st.pex || st.closed || st.pex.msUntilNext() > 0) continue;
      list ??= peers.flatMap((o) => {
        const a = o.dialAddress;
        if (!a) return [];
        let flags = 0;
        if (o.peer.conn.outgoing) flags |= PexFlags.Reachable;
        if (o.isSeed) flags |= PexFlags.Seed;
        if (o.encryption !== 'none') flags |= PexFlags.PreferEncryption;
        return [{ host: a.host, port: a.port, flags }];
      });
      const msg = st.pex.next(list);
      if (msg) this.send(st, 'ut_pex', encodeUtPex(msg));
    }
  }
}
