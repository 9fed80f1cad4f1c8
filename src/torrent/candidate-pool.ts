/**
 * CandidatePool: the addresses a torrent may dial (from trackers, DHT, PEX, LSD, the user), with their dial
 * back-off, and the addresses it will never dial again (banned, or ourselves). Bounded: a hostile source cannot
 * grow it past MAX_CANDIDATES. Pure: the caller passes the time.
 */
import { formatHostPort } from '../util/index.js';
import type { PeerSource } from './types.js';

/** Addresses kept to dial (from trackers, PEX, ...): bounded so a hostile source can't grow it without limit. */
export const MAX_CANDIDATES = 2000;
/** Failed dials after which an address is forgotten. */
export const MAX_DIAL_FAILURES = 8;

export interface Candidate {
  readonly host: string;
  readonly port: number;
  readonly source: PeerSource;
  failures: number;
  nextAttempt: number;
  connecting: boolean;
}

export class CandidatePool {
  private readonly candidates = new Map<string, Candidate>();
  private readonly banned = new Set<string>();
  /** Peer ids (hex) of banned peers: the same client dialing in again from another port is refused too. */
  private readonly bannedIds = new Set<string>();
  /** Candidates with `connecting` set (kept as a count: openSlots reads it on every pump). */
  private dialing = 0;

  /** `connected(key)`: is that address connected already (then it is not added, nor dialed)? */
  constructor(private readonly connected: (key: string) => boolean) {}

  get size(): number {
    return this.candidates.size;
  }

  get(key: string): Candidate | undefined {
    return this.candidates.get(key);
  }

  isBanned(key: string): boolean {
    return this.banned.has(key);
  }

  /** Add an address; false when it is known, connected, banned, the port is 0 or the pool is full. */
  add(host: string, port: number, source: PeerSource): boolean {
    if (port === 0) return false;
    const key = formatHostPort(host, port);
    if (this.candidates.has(key) || this.connected(key) || this.banned.has(key)) return false;
    if (this.candidates.size >= MAX_CANDIDATES) return false;
    this.candidates.set(key, { host, port, source, failures: 0, nextAttempt: 0, connecting: false });
    return true;
  }

  /** Dials under way. */
  get connecting(): number {
    return this.dialing;
  }

  /** Are there candidates neither connected nor being dialed (due now or backing off)? */
  hasWaiting(): boolean {
    for (const [key, c] of this.candidates) if (!c.connecting && !this.connected(key)) return true;
    return false;
  }

  private setConnecting(c: Candidate, on: boolean): void {
    if (c.connecting === on) return;
    c.connecting = on;
    this.dialing += on ? 1 : -1;
  }

  private remove(key: string): void {
    const c = this.candidates.get(key);
    if (!c) return;
    this.setConnecting(c, false);
    this.candidates.delete(key);
  }

  /** The next address due for a dial, marked as connecting; undefined when none is due. */
  take(now: number): { host: string; port: number } | undefined {
    for (const [key, c] of this.candidates) {
      if (c.connecting || c.nextAttempt > now || this.connected(key)) continue;
      this.setConnecting(c, true);
      return { host: c.host, port: c.port };
    }
    return undefined;
  }

  /**
   * A dial failed: back off (`baseMs` doubling per failure) or forget the address after MAX_DIAL_FAILURES. Returns
   * the candidate (with its failure count) or undefined when it was not in the pool.
   */
  dialFailed(key: string, now: number, baseMs: number): Candidate | undefined {
    const c = this.candidates.get(key);
    if (!c) return undefined;
    this.setConnecting(c, false);
    c.failures++;
    if (c.failures >= MAX_DIAL_FAILURES) this.remove(key);
    else c.nextAttempt = now + baseMs * 2 ** (c.failures - 1);
    return c;
  }

  /** A handshake with `key` completed (the dial is over, whatever the torrent then decides). */
  handshaken(key: string): Candidate | undefined {
    const c = this.candidates.get(key);
    if (c) this.setConnecting(c, false);
    return c;
  }

  /** A connection to `key` closed: dial it again no sooner than `retryAt`. */
  closed(key: string, retryAt: number): void {
    const c = this.candidates.get(key);
    if (!c) return;
    this.setConnecting(c, false);
    c.nextAttempt = retryAt;
  }

  /** Never dial `key` again (it sent bad data, or it is ourselves). */
  ban(key: string): void {
    this.banned.add(key);
    this.remove(key);
  }

  /** Never accept this peer id again (hex; a banned peer that reconnects from a new port). */
  banPeerId(idHex: string): void {
    this.bannedIds.add(idHex);
  }

  isBannedPeerId(idHex: string): boolean {
    return this.bannedIds.has(idHex);
  }

  forget(key: string): void {
    this.remove(key);
  }

  /** Make every candidate due now; `resetFailures` also forgets their failures (a fresh start). */
  dueNow(resetFailures: boolean): void {
    for (const c of this.candidates.values()) {
      if (resetFailures) {
        c.nextAttempt = 0;
        c.failures = 0;
      } else if (!c.connecting) c.nextAttempt = 0;
    }
  }

  /** Forget the candidates at addresses `blocked` says no to. */
  dropBlocked(blocked: (address: string) => boolean): void {
    for (const [k, c] of [...this.candidates]) if (blocked(c.host)) this.remove(k);
  }
}
