/**
 * Launcher for the npm `bittorrent-tracker` server (webtorrent's tracker) on loopback: HTTP announce +
 * scrape and UDP (BEP 15) on one port. Run with node: `node bt-tracker-server.js --port N [--interval S]`.
 * Prints {"event":"listening",...} once bound, then one JSON line per tracker event (start/update/complete/stop).
 *
 * The package is installed outside the project (scripts/install-test-tools.sh, `--ignore-scripts`: its WebRTC
 * dependency downloads a native binary at install time, which cannot work offline), and only its server entry
 * is imported (the main entry loads that native add-on).
 */
import { pathToFileURL } from 'node:url';
import { btTrackerServerJs } from './tools.js';

const args = process.argv.slice(2);
const opt = (n: string, d: string): string => {
  const i = args.indexOf(`--${n}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : d;
};
const host = opt('host', '127.0.0.1');
const port = Number(opt('port', '0'));
const interval = Number(opt('interval', '60'));

interface TrackerServer {
  on(ev: string, fn: (...a: unknown[]) => void): void;
  listen(ports: { http: number; udp: number }, hosts: { http: string; udp: string }): void;
  close(cb: () => void): void;
  http?: { address(): { port: number } | null };
  udp4?: { address(): { port: number } };
}
const mod = (await import(pathToFileURL(btTrackerServerJs()).href)) as { default: new (o: Record<string, unknown>) => TrackerServer };
const server = new mod.default({ http: true, udp: true, ws: false, stats: true, trustProxy: false, interval: interval * 1000 });
const log = (o: Record<string, unknown>): void => {
  process.stdout.write(`${JSON.stringify(o)}\n`);
};
server.on('error', (err) => {
  log({ event: 'error', error: (err as Error).message });
  process.exitCode = 1;
});
server.on('warning', (err) => log({ event: 'warning', warning: (err as Error).message }));
for (const ev of ['start', 'complete', 'update', 'stop']) {
  server.on(ev, (addr, params) => {
    const p = params as { info_hash?: string; type?: string } | undefined;
    log({ event: ev, peer: addr, info_hash: p?.info_hash, type: p?.type });
  });
}
server.on('listening', () => {
  log({ event: 'listening', pid: process.pid, http: server.http?.address()?.port, udp: server.udp4?.address().port });
});
server.listen({ http: port, udp: port }, { http: host, udp: host });
const stop = (): void => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
