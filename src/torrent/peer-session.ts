/**
 * PeerSession: everything the torrent knows about one connected peer, in one place. The PeerConnection under it
 * is only a pipe of whole messages (plus rates and activity times); choke and interest flags, what the peer has,
 * its extended handshake, its upload queue and its PEX state live here and nowhere else. It is the picker's
 * PickerPeer directly.
 */
import type { ConnectionEncryption, PeerConnection } from '../peer/index.js';
import type { BlockRequest, PickerPeer } from '../picker/index.js';
import { Bitfield } from '../util/index.js';
import type { TokenBucket } from '../util/index.js';
import type { Message, PexTracker } from '../wire/index.js';
import type { PeerSource } from './types.js';

export interface PeerSessionInit {
  peer: PeerConnection;
  pieceCount: number;
  source: PeerSource;
  encryption: ConnectionEncryption;
  /** The peer set the handshake's DHT bit (BEP 5). */
  dht: boolean;
}

export class PeerSession implements PickerPeer {
  /** "host:port": the key the torrent, the picker and the candidate pool know the peer by. */
  readonly id: string;
  readonly peer: PeerConnection;
  readonly source: PeerSource;
  readonly encryption: ConnectionEncryption;
  readonly dht: boolean;
  /** What the peer has (a full bitfield for have-all). */
  readonly have: Bitfield;
  /** BEP 6 pieces we may request while choked. */
  readonly allowedFast = new Set<number>();
  isSeed = false;
  /** The peer is choking us (PickerPeer). */
  choking = true;
  peerInterested = false;
  amChoking = true;
  amInterested = false;
  /** Set once the peer sent bitfield / have-all / have-none (or a have: then it had none before). */
  gotBitfield = false;
  /** BEP 21: the peer said upload_only (a partial seed, or any peer that wants nothing more). */
  uploadOnly = false;
  /** Extended handshake values: client name, request queue depth, extension ids, listen port, metadata size. */
  clientName: string | undefined;
  maxRequests = 250;
  extensions: Record<string, number> = {};
  listenPort: number | undefined;
  metadataSize: number | undefined;
  /** Slow-start floor for the pipeline while the rate estimate is young (0 once it ends). */
  slowStart = 32;
  /** Pieces the peer has that we lack and want. */
  interestingCount = 0;
  /** Its data failed hash checks (weighted: 2 when it alone sent the piece). */
  hashFailures = 0;
  /** Requests it made that we will serve, and piece reads under way for it. */
  readonly uploadQueue: BlockRequest[] = [];
  readsInFlight = 0;
  /** It stopped sending what it was asked for: its blocks went to others. */
  snubbed = false;
  /** ut_metadata pieces served to this peer (created on its first request). */
  metadataServed: TokenBucket | undefined;
  /** BEP 11: what we told this peer (present when it supports ut_pex and PEX is allowed). */
  pex: PexTracker | undefined;
  lastPexReceived = -Infinity;

  constructor(init: PeerSessionInit) {
    this.peer = init.peer;
    this.id = init.peer.address;
    this.source = init.source;
    this.encryption = init.encryption;
    this.dht = init.dht;
    this.have = new Bitfield(init.pieceCount);
  }

  get fast(): boolean {
    return this.peer.fast;
  }

  get closed(): boolean {
    return this.peer.isClosed;
  }

  send(msg: Message): void {
    this.peer.send(msg);
  }

  close(reason: string): void {
    this.peer.close(reason);
  }

  /** The extension id the peer asked us to use for `name` (BEP 10 `m`), 0 when it does not support it. */
  extensionId(name: string): number {
    return this.extensions[name] ?? 0;
  }

  /** The address other peers can dial it on (for PEX), or undefined when unknown. */
  get dialAddress(): { host: string; port: number } | undefined {
    const c = this.peer.conn;
    if (c.outgoing) return { host: c.remoteAddress, port: c.remotePort };
    return this.listenPort !== undefined ? { host: c.remoteAddress, port: this.listenPort } : undefined;
  }

  /** Tell the peer whether we are interested (only when that changes). */
  setInterested(want: boolean): void {
    if (want === this.amInterested) return;
    this.amInterested = want;
    this.peer.send({ type: want ? 'interested' : 'not-interested' });
  }
}
