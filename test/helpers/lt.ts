/**
 * libtorrent (python3-libtorrent) as the reference peer, through test/helpers/lt-peer.py: make v1
 * torrents, seed and download over TCP on loopback with DHT/LSD/UPnP/NAT-PMP off.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { Harness } from './harness.js';
import type { Proc } from './procs.js';
import { LT_PYTHON, repoRoot } from './tools.js';

export function ltPeerScript(): string {
  return join(repoRoot(), 'test', 'helpers', 'lt-peer.py');
}

export interface TorrentMade {
  torrent: string;
  infohash: string;
  pieces: number;
  pieceSize: number;
  totalSize: number;
  files: number;
  name: string;
}

/** Make a v1-only torrent of `root` (a file or a directory; the torrent's name is its basename). */
export function ltMakeTorrent(root: string, torrent: string, pieceSize = 256 * 1024, trackers: string[] = [], hybrid = false): TorrentMade {
  const args = [ltPeerScript(), 'make', '--root', root, '--torrent', torrent, '--piece-size', String(pieceSize)];
  if (hybrid) args.push('--hybrid');
  for (const t of trackers) args.push('--tracker', t);
  const r = spawnSync(LT_PYTHON, args, { encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) throw new Error(`lt-peer.py make failed (${r.status}): ${r.stderr}${r.stdout}`);
  const ev = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
  return {
    torrent,
    infohash: String(ev.infohash),
    pieces: Number(ev.pieces),
    pieceSize: Number(ev.piece_size),
    totalSize: Number(ev.total_size),
    files: Number(ev.files),
    name: String(ev.name),
  };
}

export interface LtEvent {
  t: number;
  event: string;
  [k: string]: unknown;
}

/** A running lt-peer.py: its JSON events, its listen port. */
export class LtPeer {
  readonly events: LtEvent[] = [];
  port = 0;

  constructor(readonly proc: Proc) {
    for (const l of proc.stdoutLines) this.take(l);
    proc.onLine((line, stream) => {
      if (stream === 'stdout') this.take(line);
    });
  }

  private take(line: string): void {
    if (!line.startsWith('{')) return;
    try {
      this.events.push(JSON.parse(line) as LtEvent);
    } catch {
      // not an event
    }
  }

  /** Wait for the first event matching `pred` (already seen or future). */
  async waitForEvent(pred: (e: LtEvent) => boolean, timeoutMs: number, what: string): Promise<LtEvent> {
    const line = await this.proc.waitForLine(
      (l) => {
        if (!l.startsWith('{')) return false;
        try {
          return pred(JSON.parse(l) as LtEvent);
        } catch {
          return false;
        }
      },
      timeoutMs,
      what,
    );
    return JSON.parse(line) as LtEvent;
  }

  /** Latest status event, if any. */
  lastStatus(): LtEvent | undefined {
    for (let i = this.events.length - 1; i >= 0; i--) if (this.events[i]!.event === 'status') return this.events[i];
    return undefined;
  }

  /** Wait until libtorrent reports the torrent finished (download role). */
  async waitFinished(timeoutMs: number): Promise<LtEvent> {
    return this.waitForEvent((e) => e.event === 'finished', timeoutMs, 'libtorrent "finished"');
  }

  stop(): Promise<unknown> {
    return this.proc.stop(5000);
  }
}

export interface LtRunOptions {
  name?: string;
  /** Listen port; 0 (default) lets libtorrent pick one (read from the "listening" event). */
  port?: number;
  peers?: string[];
  /** Bytes per second this torrent may upload (0: unlimited). */
  uploadLimit?: number;
  downloadLimit?: number;
  /** Seconds before lt-peer.py gives up. */
  timeoutSec?: number;
  encryption?: 'enabled' | 'disabled' | 'forced';
  transport?: 'tcp' | 'utp' | 'both';
  /** Extra settings_pack entries, 'key=value'. */
  set?: string[];
  /** Seeder: trust the data and verify lazily (default true); false hash-checks first. */
  seedMode?: boolean;
  /** Downloader: exit once finished (default) or keep running. */
  until?: 'finished' | 'never';
  /** BEP 14 LSD on, announcing every lsdIntervalSec (default 5) s; emits lsd_peer events. Loopback namespace only. */
  lsd?: boolean;
  lsdIntervalSec?: number;
  /** BEP 11 peer exchange on for the torrent (off by default). */
  pex?: boolean;
  /** Apply uploadLimit/downloadLimit to loopback peers too (libtorrent exempts local peers by default). */
  limitLocal?: boolean;
}

function runArgs(o: LtRunOptions): string[] {
  const args = ['--listen', `127.0.0.1:${o.port ?? 0}`, '--timeout', String(o.timeoutSec ?? 300)];
  args.push('--transport', o.transport ?? 'tcp', '--encryption', o.encryption ?? 'enabled');
  for (const p of o.peers ?? []) args.push('--peer', p);
  if (o.uploadLimit) args.push('--upload-limit', String(o.uploadLimit));
  if (o.downloadLimit) args.push('--download-limit', String(o.downloadLimit));
  for (const s of o.set ?? []) args.push('--set', s);
  if (o.lsd) args.push('--lsd', '--lsd-interval', String(o.lsdIntervalSec ?? 5));
  if (o.pex) args.push('--pex');
  if (o.limitLocal) args.push('--limit-local');
  return args;
}

async function started(h: Harness, proc: Proc): Promise<LtPeer> {
  const peer = new LtPeer(proc);
  const ev = await peer.waitForEvent((e) => e.event === 'listening' && e.socket_type === 'tcp', 20_000, 'libtorrent listening on TCP');
  peer.port = Number(ev.port);
  h.note(`${proc.name} (pid ${proc.pid}) listening on 127.0.0.1:${peer.port}`);
  return peer;
}

/** Start a libtorrent seeder for `torrent` whose data is under dataDir/<name>; resolves once it listens. */
export async function startLtSeed(h: Harness, torrent: string, dataDir: string, o: LtRunOptions = {}): Promise<LtPeer> {
  const args = [ltPeerScript(), 'run', '--seed', torrent, '--data', dataDir, '--until', 'never', ...runArgs(o)];
  if (o.seedMode === false) args.push('--no-seed-mode');
  return started(h, h.procs.spawn(LT_PYTHON, args, { name: o.name ?? 'lt-seed' }));
}

/** Start a libtorrent downloader into saveDir; it exits 0 once finished (until: 'finished'). */
export async function startLtDownload(h: Harness, torrent: string, saveDir: string, o: LtRunOptions = {}): Promise<LtPeer> {
  const args = [ltPeerScript(), 'run', '--download', torrent, '--save', saveDir, '--until', o.until ?? 'finished', ...runArgs(o)];
  return started(h, h.procs.spawn(LT_PYTHON, args, { name: o.name ?? 'lt-download' }));
}

/** Start a libtorrent downloader given only a magnet link (peers from the link's x.pe or o.peers). */
export async function startLtMagnet(h: Harness, magnet: string, saveDir: string, o: LtRunOptions = {}): Promise<LtPeer> {
  const args = [ltPeerScript(), 'run', '--magnet', magnet, '--save', saveDir, '--until', o.until ?? 'finished', ...runArgs(o)];
  return started(h, h.procs.spawn(LT_PYTHON, args, { name: o.name ?? 'lt-magnet' }));
}
