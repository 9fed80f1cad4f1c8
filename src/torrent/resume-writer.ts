/**
 * ResumeWriter: the one writer of a torrent's fast-resume data (storage/resume-data.ts has the format and the
 * trust rules). At most one save is in flight; requests that come meanwhile are coalesced into one follow-up
 * save, which snapshots the verified pieces when it begins (so it carries everything verified until then).
 *
 * When it saves:
 * - periodically while the torrent is checked: `intervalMs` after the first piece verified since the last save
 *   began (a seed that verifies nothing never stats its files again, and has no timer at all; a huge torrent is
 *   statted at most once per interval);
 * - on state changes the torrent asks for (`request()`: checking found pieces, the download completed);
 * - finally at stop (`final()`), after the storage was flushed and closed: a *clean* save, trusted at the next
 *   start without the racy-mtime guard. It waits for the save in flight; pending requests are dropped (the final
 *   save carries more).
 *
 * Each save first flushes the storage (fsync of the files written since the last flush), so the data never
 * vouches for bytes a power cut could take back; then the store writes the file crash-safe. A failed save is a
 * warning, once per run of failures; the next save tries again.
 *
 * After a crash the data is the last periodic save: pieces verified after it are not in it and are found again
 * by hashing the files whose mtime moved (ours did: we wrote them); a file written within seconds of the save is
 * racy, so it is re-checked whatever its mtime says.
 */
import type { Clock, Logger, Timer } from '../core/index.js';
import type { TorrentInfo } from '../metainfo/index.js';
import type { ResumeStore } from '../storage/index.js';
import type { Bitfield } from '../util/index.js';

export interface ResumeWriterHost {
  readonly clock: Clock;
  readonly log: Logger;
  /** Milliseconds between periodic saves (0: no periodic saves). */
  readonly intervalMs: number;
  /** Where the data goes; undefined when fast resume is off for this torrent (then the writer does nothing). */
  store(): ResumeStore | undefined;
  info(): TorrentInfo | undefined;
  /** The verified pieces now (cloned by the writer), or undefined when the torrent is not checked. */
  have(): Bitfield | undefined;
  /** Make written data durable before a save vouches for it (the open storage's flush). */
  flush(): Promise<void>;
}

export class ResumeWriter {
  private inflight: Promise<void> | undefined;
  private pending = false;
  /** Pieces verified since the last save began. */
  private verified = 0;
  private timer: Timer | undefined;
  /** The last save failed (warn once until one succeeds). */
  private failing = false;
  private stopped = true;
  /** Completed saves (tests, diagnostics). */
  saves = 0;

  constructor(private readonly host: ResumeWriterHost) {}

  /** The torrent is checked: periodic saves run until stop(). */
  start(): void {
    this.stopped = false;
    this.timer?.cancel();
    this.timer = undefined;
    this.arm();
  }

  /** A piece was verified (and written). */
  pieceVerified(): void {
    this.verified++;
    this.arm();
  }

  /** A periodic save is due `intervalMs` from now when there is something to save and none is due yet. */
  private arm(): void {
    if (this.timer || this.stopped || this.verified === 0 || this.host.intervalMs <= 0 || !this.host.store()) return;
    this.timer = this.host.clock.setTimeout(() => {
      this.timer = undefined;
      this.onInterval();
    }, this.host.intervalMs);
  }

  /** Save soon: now if idle, else once the save in flight is done (any number of requests, one follow-up). */
  request(): void {
    if (this.stopped || !this.host.store()) return;
    if (this.inflight) {
      this.pending = true;
      return;
    }
    this.run(false);
  }

  /** Stop periodic saves and drop pending requests; resolves when no save is in flight. */
  async quiesce(): Promise<void> {
    this.stopped = true;
    this.pending = false;
    this.timer?.cancel();
    this.timer = undefined;
    while (this.inflight) await this.inflight;
  }

  /**
   * The clean save at stop: the storage is flushed and closed (no write of ours can follow), so the store may
   * trust every file's mtime. Waits for a save in flight first.
   */
  async final(have: Bitfield): Promise<void> {
    await this.quiesce();
    const store = this.host.store();
    const info = this.host.info();
    if (!store || !info) return;
    await this.save(store, info, have, true);
  }

  /** While a save is in flight (tests). */
  get busy(): boolean {
    return this.inflight !== undefined;
  }

  /** Resolves once no save is in flight and none is pending (tests). */
  async idle(): Promise<void> {
    while (this.inflight) await this.inflight;
  }

  private onInterval(): void {
    if (this.verified > 0) this.request();
  }

  private run(clean: boolean): void {
    const p = this.once(clean).finally(() => {
      this.inflight = undefined;
      if (this.pending && !this.stopped) {
        this.pending = false;
        this.run(false);
      }
    });
    this.inflight = p;
  }

  private async once(clean: boolean): Promise<void> {
    const store = this.host.store();
    const info = this.host.info();
    const have = this.host.have();
    if (!store || !info || !have) return;
    this.verified = 0;
    const snapshot = have.clone();
    try {
      await this.host.flush();
    } catch (e) {
      this.verified++; // try again at the next interval
      this.arm();
      this.warn(e);
      return;
    }
    await this.save(store, info, snapshot, clean);
  }

  private async save(store: ResumeStore, info: TorrentInfo, have: Bitfield, clean: boolean): Promise<void> {
    try {
      await store.save(info, have, { clean });
      this.saves++;
      this.failing = false;
      this.host.log.debug(() => `resume data saved: ${have.count} pieces${clean ? ' (clean stop)' : ''}`);
    } catch (e) {
      if (!clean) {
        this.verified++; // try again at the next interval
        this.arm();
      }
      this.warn(e);
    }
  }

  private warn(e: unknown): void {
    const msg = `resume data not saved: ${e instanceof Error ? e.message : String(e)}`;
    if (this.failing) this.host.log.debug(msg);
    else this.host.log.warn(msg);
    this.failing = true;
  }
}
