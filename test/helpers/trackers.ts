/**
 * Real tracker servers for interop tests, started by the test on 127.0.0.1 and stopped by PID:
 * - opentracker (Debian): HTTP and UDP on one port. Debian builds it whitelist-only, so the info-hashes to
 *   serve are passed in; it chroots into its state dir and drops to `nobody` (so: root only).
 * - bittorrent-tracker (npm, webtorrent's server): HTTP and UDP on one port; see bt-tracker-server.ts.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Harness } from './harness.js';
import { freePort, waitForListen, waitForUdp } from './ports.js';
import type { Proc } from './procs.js';
import { repoRoot } from './tools.js';

export interface TrackerServer {
  name: 'opentracker' | 'bittorrent-tracker';
  proc: Proc;
  port: number;
  http: string;
  udp: string;
  /** The tracker's own log lines, for servers that print events (bittorrent-tracker). */
  events(): Record<string, unknown>[];
}

/** Start opentracker serving `infoHashes` (hex). */
export async function startOpentracker(h: Harness, infoHashes: string[]): Promise<TrackerServer> {
  const port = await freePort();
  const dir = h.path('opentracker');
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o755);
  const wl = join(dir, 'whitelist.txt');
  writeFileSync(wl, infoHashes.map((x) => x.toLowerCase() + '\n').join(''));
  chmodSync(wl, 0o644);
  // -i before -p/-P binds those ports on that address only; the whitelist path is inside the chroot (-d).
  const proc = h.procs.spawn('opentracker', ['-i', '127.0.0.1', '-p', String(port), '-P', String(port), '-d', dir, '-u', 'nobody', '-w', '/whitelist.txt'], {
    name: 'opentracker',
  });
  await waitForListen(port, 10_000, () => proc.running, 'opentracker');
  await waitForUdp(port, 10_000, () => proc.running, 'opentracker');
  h.note(`opentracker (pid ${proc.pid}) on 127.0.0.1:${port} (HTTP + UDP)`);
  return {
    name: 'opentracker',
    proc,
    port,
    http: `http://127.0.0.1:${port}/announce`,
    udp: `udp://127.0.0.1:${port}/announce`,
    events: () => [],
  };
}

/** Start the npm bittorrent-tracker server (announce interval `intervalSec`). */
export async function startBtTracker(h: Harness, intervalSec = 60): Promise<TrackerServer> {
  const port = await freePort();
  const script = join(repoRoot(), 'dist', 'test', 'helpers', 'bt-tracker-server.js');
  const proc = h.procs.spawn(process.execPath, [script, '--port', String(port), '--interval', String(intervalSec)], { name: 'bittorrent-tracker' });
  await proc.waitForLine((l) => l.includes('"event":"listening"'), 15_000, 'bittorrent-tracker listening');
  h.note(`bittorrent-tracker (pid ${proc.pid}) on 127.0.0.1:${port} (HTTP + UDP)`);
  const events = (): Record<string, unknown>[] =>
    proc.stdoutLines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
  return { name: 'bittorrent-tracker', proc, port, http: `http://127.0.0.1:${port}/announce`, udp: `udp://127.0.0.1:${port}/announce`, events };
}
