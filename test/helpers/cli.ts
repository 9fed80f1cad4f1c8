/**
 * Drive the torrentkit CLI (dist/src/cli/main.js, built by `npm run build`) as a child process and read
 * its --json event lines.
 */
import type { Harness } from './harness.js';
import type { ExitStatus, Proc } from './procs.js';
import { tkCliCommand } from './tools.js';

/** One --json line. */
export interface TkEvent {
  event: string;
  [k: string]: unknown;
}

export interface TkProgress extends TkEvent {
  event: 'progress';
  state: string;
  progress: number;
  have: number;
  pieces: number;
  downloaded: number;
  uploaded: number;
  downRate: number;
  upRate: number;
  peers: number;
  eta: number | null;
}

/** A running (or finished) torrentkit command. */
export class TkRun {
  readonly events: TkEvent[] = [];
  /** stdout lines that are not JSON events (should be none with --json). */
  readonly otherLines: string[] = [];

  constructor(readonly proc: Proc) {
    for (const l of proc.stdoutLines) this.take(l);
    proc.onLine((line, stream) => {
      if (stream === 'stdout') this.take(line);
    });
  }

  private take(line: string): void {
    const s = line.trim();
    if (!s) return;
    if (s.startsWith('{')) {
      try {
        this.events.push(JSON.parse(s) as TkEvent);
        return;
      } catch {
        // fall through
      }
    }
    this.otherLines.push(line);
  }

  get pid(): number {
    return this.proc.pid;
  }

  /** Events of one kind, in order. */
  all<T extends TkEvent = TkEvent>(event: string): T[] {
    return this.events.filter((e) => e.event === event) as T[];
  }

  first<T extends TkEvent = TkEvent>(event: string): T | undefined {
    return this.events.find((e) => e.event === event) as T | undefined;
  }

  last<T extends TkEvent = TkEvent>(event: string): T | undefined {
    const xs = this.all<T>(event);
    return xs[xs.length - 1];
  }

  /** Wait for the first event matching pred (already received or future). */
  async waitForEvent<T extends TkEvent = TkEvent>(pred: (e: TkEvent) => boolean, timeoutMs: number, what: string): Promise<T> {
    const line = await this.proc.waitForLine(
      (l) => {
        const s = l.trim();
        if (!s.startsWith('{')) return false;
        try {
          return pred(JSON.parse(s) as TkEvent);
        } catch {
          return false;
        }
      },
      timeoutMs,
      `torrentkit ${what}`,
    );
    return JSON.parse(line.trim()) as T;
  }

  /** Wait for the process to exit; throws on timeout (the harness kills it afterwards). */
  waitForExit(timeoutMs: number): Promise<ExitStatus> {
    return this.proc.waitForExit(timeoutMs);
  }

  /** Wait for exit code 0 and return the `complete` event. */
  async waitComplete(timeoutMs: number): Promise<TkEvent> {
    const st = await this.proc.waitForExit(timeoutMs);
    if (st.code !== 0) throw new Error(`torrentkit exited with code ${st.code} signal ${st.signal}\n${this.proc.tail()}`);
    const c = this.last('complete');
    if (!c) throw new Error(`torrentkit exited 0 without a "complete" event\n${this.proc.tail()}`);
    return c;
  }

  /** SIGINT (the CLI's clean shutdown), wait for exit; SIGKILL the group after graceMs. */
  async interrupt(graceMs = 10_000): Promise<ExitStatus> {
    if (!this.proc.running) return this.proc.exited;
    this.proc.signal('SIGINT');
    try {
      return await this.proc.waitForExit(graceMs);
    } catch {
      return this.proc.stop(1000, 'SIGKILL');
    }
  }
}

/** Run `node dist/src/cli/main.js ...args`. */
export function runTk(h: Harness, args: string[], name = `tk-${args[0] ?? 'cli'}`): TkRun {
  const [cmd, pre] = tkCliCommand();
  // XDG_STATE_HOME: the CLI keeps its DHT routing table there; each test gets its own.
  const proc = h.procs.spawn(cmd, [...pre, ...args], { name, env: { ...process.env, NO_COLOR: '1', XDG_STATE_HOME: h.path('xdg-state') } });
  return new TkRun(proc);
}

/** `torrentkit download T -o OUT --json ...extra` */
export function tkDownload(h: Harness, torrent: string, outDir: string, extra: string[] = [], name = 'tk-download'): TkRun {
  return runTk(h, ['download', torrent, '-o', outDir, '--json', ...extra], name);
}

/** `torrentkit seed T --data DIR --json ...extra` */
export function tkSeed(h: Harness, torrent: string, dataDir: string, extra: string[] = [], name = 'tk-seed'): TkRun {
  return runTk(h, ['seed', torrent, '--data', dataDir, '--json', ...extra], name);
}
