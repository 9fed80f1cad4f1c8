/**
 * HalfOpenTable: incoming connections accepted whose handshake (MSE and BitTorrent) has not completed yet, oldest
 * first. Pure: the ListenManager adds, removes, closes what the table sheds and expires, and keeps the one timer.
 *
 * Policy (slow-loris resistance, issue 14 item 9):
 * - at most `maxHalfOpen` entries; a newcomer when the table is full sheds the *oldest* entry rather than being
 *   refused: a real peer completes its handshake within a round trip or two, so it is rarely the oldest, while
 *   connections that send nothing age to the front and go;
 * - at most `maxPerIp` entries per remote address (only half-open ones: established peers are not counted, so many
 *   peers on 127.0.0.1 in tests are fine); a newcomer over it sheds that address's oldest;
 * - an entry older than `timeoutMs` is expired: the whole incoming handshake, MSE included, has one deadline.
 */

export interface HalfOpenLimits {
  maxHalfOpen: number;
  maxPerIp: number;
  timeoutMs: number;
}

interface Entry<T> {
  readonly id: number;
  readonly ip: string;
  readonly since: number;
  readonly value: T;
}

export class HalfOpenTable<T> {
  /** Insertion order is age order. */
  private readonly entries = new Map<number, Entry<T>>();
  /** Per address, its entries' ids, oldest first. */
  private readonly byIp = new Map<string, Set<number>>();
  private nextId = 1;
  /** Entries closed to make room (for stats and logs). */
  shedCount = 0;

  constructor(private readonly limits: HalfOpenLimits) {
    for (const k of ['maxHalfOpen', 'maxPerIp', 'timeoutMs'] as const) {
      if (!(Number.isInteger(limits[k]) && limits[k] > 0)) throw new RangeError(`HalfOpenTable: ${k} must be a positive integer`);
    }
  }

  get size(): number {
    return this.entries.size;
  }

  countFor(ip: string): number {
    return this.byIp.get(ip)?.size ?? 0;
  }

  /** Add a newly accepted connection. Returns its id and the entries shed to make room (already removed). */
  add(ip: string, value: T, now: number): { id: number; shed: T[] } {
    const shed: T[] = [];
    const mine = this.byIp.get(ip);
    while (mine && mine.size >= this.limits.maxPerIp) shed.push(this.take(mine.values().next().value as number));
    while (this.entries.size >= this.limits.maxHalfOpen) shed.push(this.take(this.entries.keys().next().value as number));
    this.shedCount += shed.length;
    const id = this.nextId++;
    this.entries.set(id, { id, ip, since: now, value });
    let set = this.byIp.get(ip);
    if (!set) this.byIp.set(ip, (set = new Set()));
    set.add(id);
    return { id, shed };
  }

  /** The handshake ended (completed or failed). False if the entry was already gone (shed or expired). */
  remove(id: number): boolean {
    const e = this.entries.get(id);
    if (!e) return false;
    this.take(id);
    return true;
  }

  /** Remove and return the entries whose deadline has passed. */
  expire(now: number): T[] {
    const out: T[] = [];
    for (const e of this.entries.values()) {
      if (now - e.since < this.limits.timeoutMs) break;
      out.push(e.value);
    }
    for (let i = 0; i < out.length; i++) this.take(this.entries.keys().next().value as number);
    return out;
  }

  /** When the oldest entry expires, if any. */
  nextDeadline(): number | undefined {
    const first = this.entries.values().next();
    return first.done ? undefined : first.value.since + this.limits.timeoutMs;
  }

  /** Remove and return every entry (stop). */
  clear(): T[] {
    const out = [...this.entries.values()].map((e) => e.value);
    this.entries.clear();
    this.byIp.clear();
    return out;
  }

  private take(id: number): T {
    const e = this.entries.get(id)!;
    this.entries.delete(id);
    const set = this.byIp.get(e.ip)!;
    set.delete(id);
    if (set.size === 0) this.byIp.delete(e.ip);
    return e.value;
  }
}
