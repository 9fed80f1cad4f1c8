/**
 * MetadataFetch (BEP 9): fetching a magnet link's info dictionary from the peers that advertise ut_metadata, in
 * 16 KiB pieces through a MetadataAssembler (bounded by maxMetadataSize). Peers whose pieces fail the info-hash
 * are banned and a fresh assembler starts with whoever is left (the size may have been the lie).
 */
import type { Clock } from '../core/index.js';
import { MetadataAssembler } from '../metainfo/index.js';
import { encodeUtMetadata } from '../wire/index.js';
import type { PeerSession } from './peer-session.js';

export interface MetadataFetchHooks {
  peers(): Iterable<PeerSession>;
  /** The info dictionary arrived and hashes to the info-hash. */
  complete(infoBytes: Uint8Array): void;
  ban(st: PeerSession, reason: string): void;
  send(st: PeerSession, payload: Uint8Array): void;
}

export class MetadataFetch {
  private assembler: MetadataAssembler<PeerSession> | undefined;
  private done = false;

  constructor(
    private readonly infoHash: Uint8Array,
    private readonly clock: Clock,
    private readonly maxMetadataSize: number,
    private readonly hooks: MetadataFetchHooks,
  ) {}

  /** The metadata size the current assembler expects, when `st`'s agrees with it (to decode its data messages). */
  expectedSize(st: PeerSession): number | undefined {
    const asm = this.assembler;
    return asm && asm.agrees(st.metadataSize) ? asm.metadataSize : undefined;
  }

  /** A peer's extended handshake arrived: ask it for pieces if it has them. */
  peerReady(st: PeerSession): void {
    if (this.done || st.closed) return;
    if (st.extensionId('ut_metadata') === 0 || st.metadataSize === undefined) return;
    if (!this.assembler) {
      try {
        this.assembler = new MetadataAssembler<PeerSession>({
          infoHash: this.infoHash,
          metadataSize: st.metadataSize,
          clock: this.clock,
          maxMetadataSize: this.maxMetadataSize,
        });
      } catch (e) {
        return st.close(`unusable metadata_size: ${(e as Error).message}`);
      }
    }
    this.request(st);
  }

  onReject(st: PeerSession, piece: number): void {
    if (!this.assembler) return;
    this.assembler.onReject(st, piece);
    this.request(st);
  }

  onData(st: PeerSession, piece: number, data: Uint8Array): void {
    const asm = this.assembler;
    if (!asm || this.done) return;
    let r;
    try {
      r = asm.onData(st, piece, data);
    } catch (e) {
      return st.close(`bad ut_metadata data: ${(e as Error).message}`);
    }
    if (r.status === 'complete') {
      this.done = true;
      this.assembler = undefined;
      return this.hooks.complete(r.infoBytes);
    }
    if (r.status === 'hash-failed') {
      this.assembler = undefined;
      for (const bad of r.peers) this.hooks.ban(bad, 'sent metadata that does not match the info-hash');
      // Start again with whoever is left (a fresh assembler: the size may have been the lie).
      for (const o of this.hooks.peers()) this.peerReady(o);
      return;
    }
    this.request(st);
  }

  peerClosed(st: PeerSession): void {
    if (!this.assembler) return;
    this.assembler.removePeer(st);
    this.requestAll();
  }

  /** Requests that timed out go to other peers. */
  tick(): void {
    if (this.assembler && this.assembler.expire().length > 0) this.requestAll();
  }

  stop(): void {
    this.done = true;
    this.assembler = undefined;
  }

  private request(st: PeerSession): void {
    const asm = this.assembler;
    if (!asm || st.closed || !asm.agrees(st.metadataSize) || st.extensionId('ut_metadata') === 0) return;
    for (let piece = asm.request(st); piece !== undefined; piece = asm.request(st)) {
      this.hooks.send(st, encodeUtMetadata({ type: 'request', piece }));
    }
  }

  private requestAll(): void {
    for (const st of this.hooks.peers()) this.request(st);
  }
}
