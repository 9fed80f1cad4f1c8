/**
 * BEP 15 UDP tracker client as a sans-I/O state machine: the engine feeds it packets (`handlePacket`) and
 * gives it a `send(bytes)`; time comes from the injected Clock. It does the connect handshake, caches the
 * connection id for one minute, retransmits after 15 * 2^n seconds (n = 0..maxRetries) and matches replies
 * by transaction id.
 */
import type { Clock, Timer, Random } from '../../core/index.js';
import { BtError } from '../../core/index.js';
import type { UdpAnnounceRequest, UdpResponse } from './codec.js';
import { decodeResponse, encodeAnnounceRequest, encodeConnectRequest, encodeScrapeRequest } from './codec.js';

export interface UdpTrackerClientOptions {
  clock: Clock;
  random: Random;
  send: (packet: Uint8Array) => void;
  /** Peers in announce replies are 18-byte IPv6 entries when the tracker is reached over IPv6. */
  ipv6?: boolean;
  /** Retransmissions before giving up (BEP 15 allows 8; 15 * 2^8 s is over an hour, so clients use fewer). */
  maxRetries?: number;
  /** First retransmission timeout in ms (BEP 15: 15 s). */
  baseTimeoutMs?: number;
}

type Pending = {
  resolve: (r: UdpResponse) => void;
  reject: (e: Error) => void;
  timer: Timer | undefined;
};

const CONNECTION_ID_LIFETIME_MS = 60_000;

export type AnnounceParams = Omit<UdpAnnounceRequest, 'connectionId' | 'transactionId'>;

export class UdpTrackerClient {
  private connectionId: bigint | undefined;
  private connectedAt = 0;
  private connecting: Promise<bigint> | undefined;
  private readonly pending = new Map<number, Pending>();
  private closed = false;

  constructor(private readonly o: UdpTrackerClientOptions) {}

  /**
   * Feed one datagram that came from this tracker's address. Returns true when it answered one of our pending
   * transactions; anything else (a stray, late or hostile packet, another client's reply) is left alone.
   */
  handlePacket(pkt: Uint8Array): boolean {
    let r: UdpResponse;
    try {
      r = decodeResponse(pkt, { ipv6: this.o.ipv6 });
    } catch (e) {
      // A malformed reply that still names one of our transactions fails that request at once (opentracker answers
      // an announce for a torrent it does not serve with an 8-byte header only); anything else is ignored.
      if (pkt.length < 8) return false;
      const tid = ((pkt[4]! << 24) | (pkt[5]! << 16) | (pkt[6]! << 8) | pkt[7]!) >>> 0;
      const p = this.pending.get(tid);
      if (!p) return false;
      this.pending.delete(tid);
      p.timer?.cancel();
      p.reject(e instanceof BtError ? e : new BtError('ERR_TRACKER', `bad UDP tracker reply: ${(e as Error).message}`, { op: 'decode' }));
      return true;
    }
    const p = this.pending.get(r.transactionId);
    if (!p) return false;
    this.pending.delete(r.transactionId);
    p.timer?.cancel();
    p.resolve(r);
    return true;
  }

  async announce(params: AnnounceParams, opts: { signal?: AbortSignal } = {}): Promise<Extract<UdpResponse, { action: 'announce' }>> {
    const r = await this.withConnection((connectionId, transactionId) => encodeAnnounceRequest({ ...params, connectionId, transactionId }), opts.signal);
    if (r.action !== 'announce') throw new BtError('ERR_TRACKER', `tracker answered an announce with ${r.action}`, { op: 'message' });
    return r;
  }

  async scrape(infoHashes: Uint8Array[], opts: { signal?: AbortSignal } = {}): Promise<Extract<UdpResponse, { action: 'scrape' }>> {
    const r = await this.withConnection((cid, tid) => encodeScrapeRequest(cid, tid, infoHashes), opts.signal);
    if (r.action !== 'scrape') throw new BtError('ERR_TRACKER', `tracker answered a scrape with ${r.action}`, { op: 'message' });
    return r;
  }

  /** Reject everything outstanding; the client can't be used afterwards. */
  close(): void {
    this.closed = true;
    for (const [id, p] of this.pending) {
      p.timer?.cancel();
      p.reject(new BtError('ERR_ABORTED', 'tracker client closed', { op: 'stop' }));
      this.pending.delete(id);
    }
  }

  private async withConnection(build: (cid: bigint, tid: number) => Uint8Array, signal?: AbortSignal): Promise<UdpResponse> {
    const cid = await this.connect(signal);
    const r = await this.exchange((tid) => build(cid, tid), signal);
    if (r.action === 'error') {
      // An expired connection id is reported as an error by some trackers: forget it so the next call reconnects.
      this.connectionId = undefined;
      throw new BtError('ERR_TRACKER', `tracker error: ${r.message}`, { op: 'message' });
    }
    return r;
  }

  private connect(signal?: AbortSignal): Promise<bigint> {
    if (this.connectionId !== undefined && this.o.clock.now() - this.connectedAt < CONNECTION_ID_LIFETIME_MS) {
      return Promise.resolve(this.connectionId);
    }
    this.connecting ??= this.exchange((tid) => encodeConnectRequest(tid), signal)
      .then((r) => {
        if (r.action === 'error') throw new BtError('ERR_TRACKER', `tracker error: ${r.message}`, { op: 'connect' });
        if (r.action !== 'connect') throw new BtError('ERR_TRACKER', `tracker answered connect with ${r.action}`, { op: 'connect' });
        this.connectionId = r.connectionId;
        this.connectedAt = this.o.clock.now();
        return r.connectionId;
      })
      .finally(() => {
        this.connecting = undefined;
      });
    return this.connecting;
  }

  /** Send a request and wait for the reply with its transaction id, retransmitting on the BEP 15 schedule. */
  private exchange(build: (tid: number) => Uint8Array, signal?: AbortSignal): Promise<UdpResponse> {
    if (this.closed) return Promise.reject(new BtError('ERR_ABORTED', 'tracker client closed', { op: 'stop' }));
    const maxRetries = this.o.maxRetries ?? 3;
    const base = this.o.baseTimeoutMs ?? 15_000;
    return new Promise((resolve, reject) => {
      let tid = this.newTransactionId();
      let attempt = 0;
      const entry: Pending = {
        resolve: (r) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(r);
        },
        reject: (e) => {
          signal?.removeEventListener('abort', onAbort);
          reject(e);
        },
        timer: undefined,
      };
      const onAbort = (): void => {
        entry.timer?.cancel();
        this.pending.delete(tid);
        entry.reject(new BtError('ERR_ABORTED', 'tracker request aborted', { op: 'message' }));
      };
      const fire = (): void => {
        if (attempt > maxRetries) {
          this.pending.delete(tid);
          entry.reject(new BtError('ERR_TIMEOUT', `UDP tracker did not answer after ${maxRetries + 1} tries`, { op: 'message' }));
          return;
        }
        // A fresh transaction id per try: a late reply to an earlier try is then simply ignored.
        this.pending.delete(tid);
        tid = this.newTransactionId();
        this.pending.set(tid, entry);
        entry.timer = this.o.clock.setTimeout(fire, base * 2 ** attempt);
        attempt++;
        this.o.send(build(tid));
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      fire();
    });
  }

  private newTransactionId(): number {
    for (;;) {
      const b = this.o.random.bytes(4);
      const id = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
      if (!this.pending.has(id)) return id;
    }
  }
}
