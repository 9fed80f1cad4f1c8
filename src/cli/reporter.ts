/** Progress reporting for download/seed: a live bar on a terminal, plain lines when piped, or JSON lines. */
import cliProgress from 'cli-progress';
import type { TorrentStats, TrackerStatus } from '../index.js';
import { fmtBytes, fmtEta, progressJson, progressLine, textSafe, trackerJson, trackerLine } from './format.js';
import type { ProgressSource } from './format.js';

export type ProgressMode = 'json' | 'bar' | 'lines';

/** JSON lines with --json, else a bar on a terminal and lines when piped. */
export function progressMode(json: boolean | undefined, isTTY = process.stdout.isTTY === true): ProgressMode {
  if (json) return 'json';
  return isTTY ? 'bar' : 'lines';
}

/** What the reporter needs from the outside world (tests pass fakes). */
export interface ReporterIo {
  /** Write to stdout. */
  write(text: string): void;
  /** Milliseconds since the epoch. */
  now(): number;
  /** Call fn every ms without keeping the process alive; returns a function that stops it. */
  every(ms: number, fn: () => void): () => void;
}

export const processIo: ReporterIo = {
  write: (text) => void process.stdout.write(text),
  now: () => Date.now(),
  every: (ms, fn) => {
    const timer = setInterval(fn, ms);
    timer.unref();
    return () => clearInterval(timer);
  },
};

export class Reporter {
  private bar: cliProgress.SingleBar | undefined;
  private stopTimer: (() => void) | undefined;
  private started: number;
  /** Last reported state, error and peer count per tracker URL, to report each change once. */
  private readonly trackerSeen = new Map<string, string>();

  constructor(
    private readonly mode: ProgressMode,
    private readonly t: ProgressSource,
    private readonly intervalMs = 1000,
    private readonly io: ReporterIo = processIo,
  ) {
    this.started = io.now();
  }

  now(): number {
    return this.io.now();
  }

  json(obj: Record<string, unknown>): void {
    if (this.mode === 'json') this.io.write(`${JSON.stringify(obj)}\n`);
  }

  line(text: string): void {
    if (this.mode === 'json') return;
    if (this.bar) this.bar.stop();
    this.io.write(`${textSafe(text)}\n`);
    if (this.bar) this.startBar();
  }

  private startBar(): void {
    this.bar = new cliProgress.SingleBar(
      {
        format: '{bar} {percentage}% | {down}/s down {up}/s up | {peers} peers | ETA {eta_fmt} | {state}',
        hideCursor: true,
        clearOnComplete: false,
        stopOnComplete: false,
      },
      cliProgress.Presets.shades_classic,
    );
    this.bar.start(100, 0, this.payload(this.t.stats()));
  }

  private payload(s: TorrentStats): Record<string, string | number> {
    return {
      down: fmtBytes(s.downloadRate),
      up: fmtBytes(s.uploadRate),
      peers: s.peers,
      eta_fmt: fmtEta(s.eta),
      state: s.state,
    };
  }

  begin(): void {
    this.started = this.io.now();
    if (this.mode === 'bar') this.startBar();
    this.stopTimer = this.io.every(this.intervalMs, () => this.update());
  }

  /** Report a tracker's new status, unless nothing worth saying changed since the last report. */
  tracker(tr: TrackerStatus): void {
    const key = `${tr.state}|${tr.lastError ?? ''}|${tr.totalPeersReceived}|${tr.warning ?? ''}`;
    if (this.trackerSeen.get(tr.url) === key) return;
    this.trackerSeen.set(tr.url, key);
    const now = this.io.now();
    this.json({ event: 'tracker', ...trackerJson(tr, now) });
    this.line(trackerLine(tr, now));
  }

  update(): void {
    if (this.mode === 'json') {
      this.json(progressJson(this.t, this.io.now()));
      return;
    }
    const s = this.t.stats();
    if (this.mode === 'bar') this.bar?.update(Math.floor(s.progress * 1000) / 10, this.payload(s));
    else this.io.write(`${progressLine(s)}\n`);
  }

  /** Seconds since begin(). */
  elapsed(): number {
    return (this.io.now() - this.started) / 1000;
  }

  end(): void {
    this.stopTimer?.();
    this.stopTimer = undefined;
    if (this.bar) {
      this.update();
      this.bar.stop();
      this.bar = undefined;
    }
  }
}
