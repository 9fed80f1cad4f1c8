/**
 * A BitTorrent daemon driven over Transmission RPC: `torrentkit daemon` (the default), or Debian's
 * transmission-daemon standing in for it (env TK_DAEMON_STANDIN=transmission) to prove a test's own logic.
 *
 * Contract assumed of torrentkit (issue 15):
 *   torrentkit daemon --config-dir DIR --download-dir DIR --rpc-port N --port N --no-dht --no-lsd
 *     --no-port-forwarding [--web-ui DIR] [--watch-dir DIR]
 * runs until SIGINT/SIGTERM, serves Transmission RPC at /transmission/rpc (409 + X-Transmission-Session-Id
 * handshake) and the web UI at /transmission/web/; a restart with the same --config-dir restores every torrent.
 * The stand-in: transmission-daemon -f -g CFG -w DL -p RPC -P PEER -T -O -Y -M --no-incomplete-dir [-c WATCH],
 * web UI from $TRANSMISSION_WEB_HOME. Transmission ignores 127.x peers it hears of from trackers, so tests
 * have their peers DIAL the daemon's peer port.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import type { TestContext } from 'node:test';
import type { Harness } from './harness.js';
import { pollUntil } from './harness.js';
import type { ExitStatus, Proc } from './procs.js';
import { freePort, waitForListen } from './ports.js';
import type { Tool } from './tools.js';
import { requireTools, tkCliCommand } from './tools.js';

export type DaemonKind = 'torrentkit' | 'transmission';

/** Which daemon the tests drive: TK_DAEMON_STANDIN=transmission picks the stand-in. */
export function daemonKind(): DaemonKind {
  const v = process.env.TK_DAEMON_STANDIN ?? '';
  if (v === '' || v === 'torrentkit') return 'torrentkit';
  if (v === 'transmission') return 'transmission';
  throw new Error(`TK_DAEMON_STANDIN=${v}: only 'transmission' is a known stand-in`);
}

/** requireTools() for a daemon test: the daemon itself (ours or the stand-in) plus `extra`. */
export function requireDaemon(t: TestContext, extra: readonly Tool[]): boolean {
  const daemon: Tool = daemonKind() === 'transmission' ? 'transmission-daemon' : 'torrentkit-daemon';
  return requireTools(t, [daemon, ...extra]);
}

export interface DaemonOptions {
  /** Log/process name (default 'daemon'). */
  name?: string;
  configDir: string;
  downloadDir: string;
  /** Directory of web UI files served at /transmission/web/. */
  webUi?: string;
  /** Watch directory: .torrent files dropped there are added (and renamed `*.added`). */
  watchDir?: string;
  /** Default: a free port. A restart keeps the ports. */
  rpcPort?: number;
  peerPort?: number;
}

export interface RemoteResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** One row of `transmission-remote -l`. */
export interface ListRow {
  id: number;
  /** The Done column in percent, or null for 'n/a'. */
  done: number | null;
  status: string;
  name: string;
  line: string;
}

const STATUSES = ['Up & Down', 'Downloading', 'Seeding', 'Idle', 'Stopped', 'Verifying', 'Will Verify', 'Queued', 'Finished', 'Uploading'];

/** Parse `transmission-remote -l`: ID, Done, Have, ETA, Up, Down, Ratio, Status, Name (Sum: line skipped). */
export function parseList(stdout: string): ListRow[] {
  const rows: ListRow[] = [];
  for (const line of stdout.split('\n')) {
    const m = /^\s*(\d+)\*?\s+(n\/a|\d+(?:\.\d+)?%)\s+(.*)$/.exec(line);
    if (!m) continue;
    const rest = m[3]!;
    let status = '';
    let name = '';
    for (const s of STATUSES) {
      const i = rest.indexOf(`  ${s}  `);
      if (i >= 0) {
        status = s;
        name = rest.slice(i + s.length + 4).trim();
        break;
      }
    }
    rows.push({ id: Number(m[1]), done: m[2] === 'n/a' ? null : parseFloat(m[2]!), status, name, line });
  }
  return rows;
}

/** Transmission RPC torrent status codes. */
export const TR_STATUS = { stopped: 0, checkWait: 1, check: 2, downloadWait: 3, download: 4, seedWait: 5, seed: 6 } as const;

export class RpcError extends Error {}

export class Daemon {
  readonly kind: DaemonKind = daemonKind();
  readonly name: string;
  readonly rpcPort: number;
  readonly peerPort: number;
  private sessionId = '';

  constructor(
    private readonly h: Harness,
    readonly opts: Required<Pick<DaemonOptions, 'rpcPort' | 'peerPort'>> & DaemonOptions,
    readonly proc: Proc,
  ) {
    this.name = opts.name ?? 'daemon';
    this.rpcPort = opts.rpcPort;
    this.peerPort = opts.peerPort;
  }

  get rpcUrl(): string {
    return `http://127.0.0.1:${this.rpcPort}/transmission/rpc`;
  }

  get webUrl(): string {
    return `http://127.0.0.1:${this.rpcPort}/transmission/web/`;
  }

  /**
   * One RPC call with the CSRF handshake: a 409 carries the X-Transmission-Session-Id to resend with
   * (at most 3 rounds). Throws RpcError unless `result` is "success"; returns `arguments`.
   */
  async rpc<T = Record<string, unknown>>(method: string, args: Record<string, unknown> = {}, timeoutMs = 10_000): Promise<T> {
    const body = JSON.stringify({ method, arguments: args, tag: 1 });
    for (let round = 0; round < 3; round++) {
      const res = await fetch(this.rpcUrl, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...(this.sessionId ? { 'X-Transmission-Session-Id': this.sessionId } : {}) },
        body,
        signal: AbortSignal.timeout(timeoutMs),
      });
      if (res.status === 409) {
        await res.arrayBuffer();
        const id = res.headers.get('x-transmission-session-id');
        if (!id) throw new RpcError(`${this.name}: 409 without an X-Transmission-Session-Id header`);
        this.sessionId = id;
        continue;
      }
      const text = await res.text();
      if (res.status !== 200) throw new RpcError(`${this.name}: ${method}: HTTP ${res.status}: ${text.slice(0, 300)}`);
      let reply: { result?: unknown; arguments?: unknown };
      try {
        reply = JSON.parse(text) as typeof reply;
      } catch {
        throw new RpcError(`${this.name}: ${method}: reply is not JSON: ${text.slice(0, 300)}`);
      }
      if (reply.result !== 'success') throw new RpcError(`${this.name}: ${method}: result ${JSON.stringify(reply.result)}`);
      return (reply.arguments ?? {}) as T;
    }
    throw new RpcError(`${this.name}: ${method}: still 409 after 3 session-id rounds`);
  }

  /** torrent-get of `fields` for every torrent (or `ids`). */
  async torrents(fields: string[], ids?: (number | string)[]): Promise<Record<string, unknown>[]> {
    const r = await this.rpc<{ torrents?: Record<string, unknown>[] }>('torrent-get', { fields, ...(ids ? { ids } : {}) });
    return r.torrents ?? [];
  }

  /** Debian's transmission-remote against this daemon (no auth); bounded by timeoutMs. */
  remote(args: readonly string[], timeoutMs = 20_000): Promise<RemoteResult> {
    const all = [`127.0.0.1:${this.rpcPort}`, ...args];
    return new Promise((resolve) => {
      execFile('transmission-remote', all, { timeout: timeoutMs, killSignal: 'SIGKILL', encoding: 'utf8', maxBuffer: 4 << 20 }, (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : null) : 0;
        resolve({ code, stdout, stderr });
      });
    });
  }

  /** transmission-remote that must exit 0 and print no error; returns its stdout. */
  async remoteOk(args: readonly string[], timeoutMs = 20_000): Promise<string> {
    const r = await this.remote(args, timeoutMs);
    if (r.code !== 0 || /\berror\b/i.test(r.stderr) || /^Error/m.test(r.stdout)) {
      throw new Error(`transmission-remote ${args.join(' ')}: exit ${r.code}\n${r.stdout}${r.stderr}`);
    }
    return r.stdout;
  }

  /** `transmission-remote -l`, parsed. */
  async list(): Promise<ListRow[]> {
    return parseList(await this.remoteOk(['-l']));
  }

  /** SIGTERM (the whole group), then wait for a clean exit; returns its status and how long it took. */
  async terminate(timeoutMs = 20_000): Promise<{ status: ExitStatus; seconds: number }> {
    const t0 = Date.now();
    this.proc.signalGroup('SIGTERM');
    const status = await this.proc.waitForExit(timeoutMs);
    await this.proc.stop(1000);
    return { status, seconds: (Date.now() - t0) / 1000 };
  }

  /** SIGKILL the daemon's process group (a crash: nothing gets to flush). */
  async kill(): Promise<ExitStatus> {
    this.proc.signalGroup('SIGKILL');
    const st = await this.proc.waitForExit(10_000);
    await this.proc.stop(1000);
    return st;
  }

  /** Start again with the same directories and ports (after terminate() or kill()). */
  restart(name?: string): Promise<Daemon> {
    return startDaemon(this.h, { ...this.opts, name: name ?? `${this.name}-again` });
  }
}

function daemonArgs(kind: DaemonKind, o: Required<Pick<DaemonOptions, 'rpcPort' | 'peerPort'>> & DaemonOptions): [string, string[]] {
  if (kind === 'transmission') {
    const args = ['-f', '-g', o.configDir, '-w', o.downloadDir, '-p', String(o.rpcPort), '-P', String(o.peerPort), '-T', '-O', '-Y', '-M', '--no-incomplete-dir'];
    if (o.watchDir) args.push('-c', o.watchDir);
    return ['transmission-daemon', args];
  }
  const [cmd, lead] = tkCliCommand();
  const args = [...lead, 'daemon', '--config-dir', o.configDir, '--download-dir', o.downloadDir, '--rpc-port', String(o.rpcPort), '--port', String(o.peerPort), '--no-dht', '--no-lsd', '--no-port-forwarding'];
  if (o.webUi) args.push('--web-ui', o.webUi);
  if (o.watchDir) args.push('--watch-dir', o.watchDir);
  return [cmd, args];
}

/** transmission-daemon's settings.json for the stand-in (first start only): loopback, no discovery, no limits. */
async function standinSettings(configDir: string): Promise<void> {
  const file = `${configDir}/settings.json`;
  if (existsSync(file)) return;
  const settings = {
    'bind-address-ipv4': '127.0.0.1',
    'bind-address-ipv6': '::1',
    'rpc-bind-address': '127.0.0.1',
    'dht-enabled': false,
    'lpd-enabled': false,
    'pex-enabled': false,
    'utp-enabled': false,
    'port-forwarding-enabled': false,
    'blocklist-enabled': false,
    'peer-port-random-on-start': false,
    'speed-limit-up-enabled': false,
    'speed-limit-down-enabled': false,
    'alt-speed-enabled': false,
    'ratio-limit-enabled': false,
    'idle-seeding-limit-enabled': false,
    'start-added-torrents': true,
    'message-level': 2,
  };
  await writeFile(file, JSON.stringify(settings, null, 2));
}

/**
 * Start the daemon (ours or the stand-in) on free loopback ports; resolves once its RPC answers session-get.
 * It is stopped (by process group) when the harness closes.
 */
export async function startDaemon(h: Harness, o: DaemonOptions): Promise<Daemon> {
  const kind = daemonKind();
  const full = { ...o, rpcPort: o.rpcPort ?? (await freePort()), peerPort: o.peerPort ?? (await freePort()) };
  await mkdir(full.configDir, { recursive: true });
  await mkdir(full.downloadDir, { recursive: true });
  if (full.watchDir) await mkdir(full.watchDir, { recursive: true });
  if (kind === 'transmission') await standinSettings(full.configDir);
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: full.configDir };
  if (kind === 'transmission' && full.webUi) env.TRANSMISSION_WEB_HOME = full.webUi;
  const [cmd, args] = daemonArgs(kind, full);
  const name = full.name ?? 'daemon';
  const proc = h.procs.spawn(cmd, args, { name: `${name}-${kind}`, env });
  const d = new Daemon(h, full, proc);
  const t0 = Date.now();
  await waitForListen(full.rpcPort, 30_000, () => proc.running, `${name} RPC`);
  await pollUntil(
    async () => {
      if (!proc.running) throw new Error(`${name} exited before its RPC answered\n${proc.tail()}`);
      try {
        await d.rpc('session-get', {}, 3000);
        return true;
      } catch {
        return false;
      }
    },
    20_000,
    `${name}: RPC session-get`,
    200,
  );
  h.note(`${name} (${kind}, pid ${proc.pid}) RPC on 127.0.0.1:${full.rpcPort}, peers on ${full.peerPort}, up in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return d;
}
