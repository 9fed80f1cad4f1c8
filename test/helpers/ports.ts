/** Free loopback ports, and waiting for a port to be listened on (without connecting to it). */
import { createServer } from 'node:net';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

const handedOut = new Set<number>();

/** A TCP port that was free on 127.0.0.1 a moment ago (never the same one twice in this process). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const srv = createServer();
      srv.unref();
      srv.once('error', reject);
      srv.listen({ host, port: 0, exclusive: true }, () => {
        const addr = srv.address();
        const p = typeof addr === 'object' && addr ? addr.port : 0;
        srv.close(() => resolve(p));
      });
    });
    if (port > 0 && !handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error('could not find a free port');
}

/** Local ports of the sockets in /proc/net/<files> whose state column passes `keep` (this network namespace). */
function procNetPorts(files: readonly string[], keep: (state: string) => boolean): Set<number> {
  const ports = new Set<number>();
  for (const f of files) {
    let text: string;
    try {
      text = readFileSync(f, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 4 || !keep(cols[3]!)) continue;
      const port = parseInt(cols[1]!.split(':')[1]!, 16);
      if (Number.isFinite(port)) ports.add(port);
    }
  }
  return ports;
}

/** TCP ports in LISTEN state in this network namespace (from /proc/net/tcp and tcp6). */
export function listeningPorts(): Set<number> {
  return procNetPorts(['/proc/net/tcp', '/proc/net/tcp6'], (st) => st === '0A'); // 0A = TCP_LISTEN
}

/** UDP ports bound in this network namespace (from /proc/net/udp and udp6). */
export function boundUdpPorts(): Set<number> {
  return procNetPorts(['/proc/net/udp', '/proc/net/udp6'], () => true);
}

/** Poll until something is bound to UDP `port`; throws after timeoutMs (or when `alive()` turns false). */
export async function waitForUdp(port: number, timeoutMs: number, alive: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (boundUdpPorts().has(port)) return;
    if (!alive()) throw new Error(`${what}: process exited before binding UDP ${port}`);
    await sleep(50);
  }
  throw new Error(`${what}: nothing bound to UDP ${port} after ${timeoutMs} ms`);
}

/** Poll until something listens on TCP `port`; throws after timeoutMs (or when `alive()` turns false). */
export async function waitForListen(port: number, timeoutMs: number, alive: () => boolean = () => true, what = `port ${port}`): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (listeningPorts().has(port)) return;
    if (!alive()) throw new Error(`${what}: process exited before listening on ${port}`);
    await sleep(50);
  }
  throw new Error(`${what}: nothing listening on ${port} after ${timeoutMs} ms`);
}
