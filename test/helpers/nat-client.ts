/**
 * Runs a PortForwarder as its own process, so that an interop test can start it inside a network namespace
 * (`ip netns exec NS node dist/test/helpers/nat-client.js '<json options>'`): Node cannot enter one itself.
 *
 * stdout: one JSON object per line: {"ev":"status"|"mapping"|"external"|"disposed"|"ready", "t": ms since
 * start, ...}. SIGTERM (or SIGINT) disposes the forwarder (removing every mapping), prints "disposed" with
 * the time it took, and exits 0. SIGUSR1 calls setPorts(portsOnUsr1). Debug logs go to stderr.
 */
import { TextLogger } from '../../src/core/logger.js';
import { createNodePortForwarder } from '../../src/nat/index.js';
import type { NodePortForwarderOptions, PortSet } from '../../src/nat/index.js';

interface ClientConfig extends Omit<NodePortForwarderOptions, 'logger'> {
  ports: PortSet;
  /** SIGUSR1 switches to these ports (a port change while running). */
  portsOnUsr1?: PortSet;
  /** Exit by itself after this long (a safety net; default 120 s). */
  maxRunMs?: number;
}

const cfg = JSON.parse(process.argv[2] ?? '{}') as ClientConfig;
const t0 = performance.now();
const out = (ev: string, data: Record<string, unknown> = {}): void => {
  process.stdout.write(`${JSON.stringify({ ev, t: Math.round(performance.now() - t0), ...data })}\n`);
};

const logger = new TextLogger('debug', (line) => process.stderr.write(`${line}\n`));
const { ports, portsOnUsr1, maxRunMs, ...opts } = cfg;
const pf = createNodePortForwarder({ ...opts, logger });
pf.on('status', (s) => out('status', { status: s }));
pf.on('mapping', (m) => out('mapping', { mapping: { ...m, error: m.error ? { code: m.error.code, message: m.error.message } : undefined } }));
pf.on('externalAddress', (r) => out('external', { report: r }));

let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  const t = performance.now();
  void pf.dispose().then(() => {
    out('disposed', { ms: Math.round(performance.now() - t), mappings: pf.mappings });
    process.exit(0);
  });
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.on('SIGUSR1', () => {
  if (!portsOnUsr1 || stopping) return;
  out('set-ports', { ports: portsOnUsr1 });
  pf.setPorts(portsOnUsr1);
});
setTimeout(stop, maxRunMs ?? 120_000);
pf.setPorts(ports);
out('ready', { pid: process.pid });
