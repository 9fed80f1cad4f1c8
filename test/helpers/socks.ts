/**
 * microsocks (Debian) as a real SOCKS5 proxy for the proxy tests: listens on 127.0.0.1, binds its outgoing
 * connections to `bind` (127.0.0.2 by default), so the far end sees where a connection really came from.
 */
import type { Harness } from './harness.js';
import { freePort, waitForListen } from './ports.js';
import type { Proc } from './procs.js';
import { which } from './tools.js';

export interface Socks {
  port: number;
  proc: Proc;
  url: string;
}

export async function startMicrosocks(h: Harness, o: { bind?: string; user?: string; password?: string; name?: string } = {}): Promise<Socks> {
  const port = await freePort();
  const args = ['-i', '127.0.0.1', '-p', String(port), '-b', o.bind ?? '127.0.0.2'];
  if (o.user !== undefined) args.push('-u', o.user, '-P', o.password ?? '');
  const name = o.name ?? 'microsocks';
  const proc = h.procs.spawn(which('microsocks') ?? 'microsocks', args, { name });
  await waitForListen(port, 10_000, () => proc.running, name);
  const auth = o.user !== undefined ? `${encodeURIComponent(o.user)}:${encodeURIComponent(o.password ?? '')}@` : '';
  h.note(`${name} (pid ${proc.pid}) on 127.0.0.1:${port}, outgoing from ${o.bind ?? '127.0.0.2'}`);
  return { port, proc, url: `socks5://${auth}127.0.0.1:${port}` };
}
