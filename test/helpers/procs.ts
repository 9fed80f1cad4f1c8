/**
 * Child processes for interop tests: each one runs in its own process group (detached), its PID is
 * tracked, stdout/stderr go to a log file (and stdout lines are kept for parsing), and everything still
 * running is killed by process group on cleanup, on failure and, as a last resort, when this process exits.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface SpawnOptions {
  /** Short name used in the log file name and in error messages. */
  name: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

/** Every process group started by this module that may still be alive: killed on process exit. */
const live = new Set<Proc>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const p of live) p.signalGroup('SIGKILL');
  });
}

type LineMatcher = RegExp | string | ((line: string) => boolean);

function matches(m: LineMatcher, line: string): boolean {
  if (typeof m === 'string') return line.includes(m);
  if (m instanceof RegExp) return m.test(line);
  return m(line);
}

export class Proc {
  readonly pid: number;
  readonly stdoutLines: string[] = [];
  private stderrText = '';
  private readonly listeners = new Set<(line: string, stream: 'stdout' | 'stderr') => void>();
  private logFd: number | undefined;
  private status: ExitStatus | undefined;
  private groupMayLive = true;
  readonly exited: Promise<ExitStatus>;

  constructor(
    readonly name: string,
    readonly command: string,
    readonly args: readonly string[],
    readonly logPath: string,
    private readonly child: ChildProcess,
  ) {
    if (child.pid === undefined) throw new Error(`${name}: spawn failed`);
    this.pid = child.pid;
    this.logFd = openSync(logPath, 'a');
    this.writeLog(`$ ${command} ${args.map((a) => (/[\s'"]/.test(a) ? JSON.stringify(a) : a)).join(' ')}\n`);
    this.exited = new Promise<ExitStatus>((resolve) => {
      child.on('close', (code, signal) => {
        this.status = { code, signal };
        this.writeLog(`[exit code=${code} signal=${signal}]\n`);
        // The group may outlive its leader (e.g. a finish script), so keep it on the kill list
        // until stop() has swept it once.
        resolve(this.status);
      });
    });
    this.splitLines(child.stdout, 'stdout');
    this.splitLines(child.stderr, 'stderr');
  }

  private splitLines(stream: NodeJS.ReadableStream | null, which: 'stdout' | 'stderr'): void {
    if (!stream) return;
    let rest = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const text = chunk.replace(/\r(?!\n)/g, '\n'); // progress lines redrawn with \r: one per line in the log
      this.writeLog(which === 'stderr' ? text.replace(/^(?=.)/gm, '! ') : text);
      if (which === 'stderr' && this.stderrText.length < 1 << 20) this.stderrText += chunk;
      rest += chunk;
      const parts = rest.split(/\r?\n|\r/);
      rest = parts.pop() ?? '';
      for (const line of parts) this.emitLine(line, which);
    });
    stream.on('end', () => {
      if (rest) this.emitLine(rest, which);
      rest = '';
    });
  }

  private emitLine(line: string, which: 'stdout' | 'stderr'): void {
    if (which === 'stdout') this.stdoutLines.push(line);
    for (const fn of this.listeners) fn(line, which);
  }

  /** Synchronous, so the log is complete whenever tail() reads it. */
  private writeLog(text: string): void {
    if (this.logFd === undefined) return;
    try {
      writeSync(this.logFd, text);
    } catch {
      // log is best effort
    }
  }

  get stderr(): string {
    return this.stderrText;
  }

  get exitStatus(): ExitStatus | undefined {
    return this.status;
  }

  get running(): boolean {
    return this.status === undefined;
  }

  /** Call fn for every line from now on; returns an unsubscribe function. */
  onLine(fn: (line: string, stream: 'stdout' | 'stderr') => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /**
   * Resolve with the first line (stdout, or stderr with `stream: 'any'`) that matches, including lines
   * already seen on stdout. Rejects on timeout or when the process exits first.
   */
  waitForLine(m: LineMatcher, timeoutMs: number, what = String(m), stream: 'stdout' | 'any' = 'stdout'): Promise<string> {
    const seen = this.stdoutLines.find((l) => matches(m, l));
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise<string>((resolve, reject) => {
      const done = (err: Error | null, line?: string): void => {
        clearTimeout(timer);
        off();
        if (err) reject(err);
        else resolve(line!);
      };
      const timer = setTimeout(
        () => done(new Error(`${this.name}: no line matching ${what} within ${timeoutMs} ms\n${this.tail()}`)),
        timeoutMs,
      );
      const off = this.onLine((line, which) => {
        if ((stream === 'any' || which === 'stdout') && matches(m, line)) done(null, line);
      });
      void this.exited.then((st) => {
        // Let pending 'data' events drain first.
        setImmediate(() =>
          done(new Error(`${this.name}: exited (code ${st.code}, signal ${st.signal}) before a line matching ${what}\n${this.tail()}`)),
        );
      });
    });
  }

  /** Resolve with the exit status; reject (without killing) after timeoutMs. */
  async waitForExit(timeoutMs: number): Promise<ExitStatus> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${this.name}: still running after ${timeoutMs} ms\n${this.tail()}`)), timeoutMs);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Await `p`, but fail at once if this process exits first (e.g. a seeder crashing while a peer waits). */
  async whileRunning<T>(p: Promise<T>, role = this.name): Promise<T> {
    let settled = false;
    const died = this.exited.then((st) => {
      if (settled) return new Promise<never>(() => undefined);
      throw new Error(`${role} exited (code ${st.code}, signal ${st.signal}) while it was needed\n${this.tail()}`);
    });
    try {
      return await Promise.race([p, died]);
    } finally {
      settled = true;
    }
  }

  /** Send a signal to the whole process group (ignored when it is gone). */
  signalGroup(sig: NodeJS.Signals): void {
    if (!this.groupMayLive) return;
    try {
      process.kill(-this.pid, sig);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ESRCH') this.groupMayLive = false;
    }
  }

  /** Send a signal to the process itself only. */
  signal(sig: NodeJS.Signals): void {
    if (this.running) this.child.kill(sig);
  }

  /** SIGTERM the group (or `sig`), wait up to graceMs, then SIGKILL the group. Returns the exit status. */
  async stop(graceMs = 5000, sig: NodeJS.Signals = 'SIGTERM'): Promise<ExitStatus> {
    if (this.running) {
      this.signalGroup(sig);
      const ac = new AbortController();
      const st = await Promise.race([this.exited, sleep(graceMs, undefined, { signal: ac.signal }).catch(() => undefined)]);
      ac.abort();
      if (!st) this.signalGroup('SIGKILL');
    }
    const st = await this.exited;
    // Sweep whatever is left in the group (children that outlived the leader).
    this.signalGroup('SIGKILL');
    this.groupMayLive = false;
    live.delete(this);
    if (this.logFd !== undefined) closeSync(this.logFd);
    this.logFd = undefined;
    return st;
  }

  /** The last n lines of the log file (stdout and stderr, stderr lines prefixed with '! '). */
  tail(n = 40): string {
    let text = '';
    try {
      text = readFileSync(this.logPath, 'utf8');
    } catch {
      text = '(log unreadable)';
    }
    const lines = text.split(/\r?\n|\r/).filter((l) => l.length > 0);
    const shown = lines.slice(-n);
    const status = this.status ? `exit code=${this.status.code} signal=${this.status.signal}` : 'running';
    return `----- ${this.name} (pid ${this.pid}, ${status}) ${this.logPath}, last ${shown.length} of ${lines.length} lines -----\n${shown.join('\n')}\n`;
  }
}

/** The processes of one test: spawn, then stopAll() in a finally block. */
export class ProcGroup {
  readonly procs: Proc[] = [];
  private seq = 0;

  constructor(private readonly logDir: string) {
    installExitHook();
  }

  spawn(command: string, args: readonly string[], opts: SpawnOptions): Proc {
    const logPath = `${this.logDir}/${String(++this.seq).padStart(2, '0')}-${opts.name.replace(/[^\w.-]+/g, '_')}.log`;
    const child = spawn(command, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      detached: true, // own process group: stop() kills it and everything it started
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // A failed spawn (ENOENT) leaves pid undefined and emits 'error' later: keep that from throwing.
    child.once('error', () => undefined);
    if (child.pid === undefined) throw new Error(`${opts.name}: could not start ${command} (not installed or not executable?)`);
    const p = new Proc(opts.name, command, args, logPath, child);
    live.add(p);
    this.procs.push(p);
    return p;
  }

  /** Stop every process (SIGTERM to its group, SIGKILL after graceMs). */
  async stopAll(graceMs = 3000): Promise<void> {
    await Promise.all(this.procs.map((p) => p.stop(graceMs).catch(() => undefined)));
  }

  /** Log tails of every process, for a failure report. */
  tails(n = 40): string {
    return this.procs.map((p) => p.tail(n)).join('\n');
  }
}
