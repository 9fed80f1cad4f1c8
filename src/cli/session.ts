/**
 * A running engine for `download` and `seed`: start it (falling back to a free port when 6881 is taken), wire
 * its and the torrent's events to the reporter, wait for a signal or a seeding limit, dispose it.
 */
import { ClientEngine, TextLogger } from '../index.js';
import type { EngineSettings, Logger, PortForwardingStatus, PortMapping, ReachabilityReport, TorrentManager } from '../index.js';
import { CliExit, EXIT } from './exit.js';
import { mappingJson, mappingLine, peerEventJson, peerLine, reachabilityJson, reachabilityLine, textSafe } from './format.js';
import type { Reporter } from './reporter.js';

export function makeLogger(verbose: boolean | undefined): Logger {
  return new TextLogger(verbose ? 'debug' : 'warn', (line) => process.stderr.write(`${textSafe(line)}\n`));
}

export async function startEngine(settings: Partial<EngineSettings>, verbose: boolean | undefined): Promise<ClientEngine> {
  const logger = makeLogger(verbose);
  let engine = new ClientEngine(settings, { logger });
  try {
    await engine.start();
  } catch (e) {
    await engine.dispose();
    const eps = settings.listenEndpoints ?? [];
    // The default port may be taken by another client: fall back to any free port.
    if (eps.every((ep) => ep.endsWith(':6881'))) {
      logger.warn('port 6881 is taken; listening on a free port instead');
      engine = new ClientEngine({ ...settings, listenEndpoints: eps.map((ep) => ep.replace(/:6881$/, ':0')) }, { logger });
      await engine.start();
    } else {
      throw new CliExit(EXIT.FAILURE, (e as Error).message);
    }
  }
  return engine;
}

/** Dispose the engine; report the port mappings it removed from the router, and how long that took. */
export async function disposeEngine(engine: ClientEngine, r: Reporter): Promise<void> {
  const mapped = engine.portMappings.filter((m) => m.state === 'created');
  const t0 = r.now();
  await engine.dispose();
  if (engine.settings.portForwarding) r.json({ event: 'port-forwarding', state: 'disposed', removed: mapped.map((m) => mappingJson(m, r.now())), ms: r.now() - t0 });
  if (mapped.length > 0) r.line(`removed ${mapped.length} port mapping${mapped.length === 1 ? '' : 's'} from the router`);
}

/** Resolve on SIGINT/SIGTERM (once). */
export function onSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const h = (sig: NodeJS.Signals): void => {
      process.off('SIGINT', h);
      process.off('SIGTERM', h);
      resolve(sig);
    };
    process.on('SIGINT', h);
    process.on('SIGTERM', h);
  });
}

/** Resolves (never rejects) with a line for the log once a seeding limit stops the torrent. */
export function seedLimitReached(t: TorrentManager, r: Reporter): Promise<string> {
  return new Promise((resolve) =>
    t.once('seed-limit', (reason) => {
      r.json({ event: 'seed-limit', reason });
      resolve(`seed limit reached (${reason})`);
    }),
  );
}

/** Wire a torrent's events to the reporter. */
export function reportEvents(t: TorrentManager, r: Reporter): void {
  t.on('checked', (have, pieces) => {
    r.json({ event: 'checked', have, pieces });
    r.line(`checked existing data: ${have}/${pieces} pieces verified`);
  });
  t.on('hash-failed', (piece, peers) => {
    r.json({ event: 'hash-failed', piece, peers });
    r.line(`piece ${piece} failed its hash check (from ${peers.join(', ') || 'unknown peer'}); fetching it again`);
  });
  t.on('peer-banned', (peer, reason) => {
    r.json({ event: 'peer-banned', peer, reason });
    r.line(`banned peer ${peer}: ${reason}`);
  });
  t.on('warning', (message) => {
    r.json({ event: 'warning', message });
  });
  t.on('tracker', (status) => r.tracker(status));
  t.on('peer-connected', (address) => {
    const p = t.peerList().find((x) => x.address === address);
    if (!p) return;
    r.json({ event: 'peer', ...peerEventJson(p) });
    r.line(peerLine(p));
  });
}

/**
 * Port forwarding in the status: each mapping change (JSON: every change, renewals included; text: when
 * state or port changes), the gateway status once, and the external address with its double-NAT flags.
 * What happened before the reporter existed is replayed.
 */
export function reportNat(engine: ClientEngine, r: Reporter): void {
  const seen = new Map<string, string>();
  const mapping = (m: PortMapping): void => {
    r.json({ event: 'port-mapping', ...mappingJson(m, r.now()) });
    const key = `${m.method}/${m.protocol}/${m.internalPort}`;
    const what = `${m.state}|${m.externalPort ?? ''}|${m.error?.message ?? ''}`;
    if (seen.get(key) === what) return;
    seen.set(key, what);
    r.line(mappingLine(m));
  };
  const status = (st: PortForwardingStatus): void => {
    if (st.state === 'off' || st.state === 'disposed' || st.state === 'idle' || st.state === 'discovering') return;
    r.json({ event: 'port-forwarding', ...st });
    if (st.state === 'no-gateway') r.line(`port forwarding: ${st.message}`);
    else if (st.state === 'ready') r.line(`port forwarding: gateway found (${st.methods.join(', ')})`);
  };
  const reach = (rep: ReachabilityReport): void => {
    if (!rep.address) return;
    r.json({ event: 'external-address', ...reachabilityJson(rep) });
    r.line(reachabilityLine(rep));
  };
  status(engine.portForwardingStatus);
  for (const m of engine.portMappings) if (m.state !== 'pending') mapping(m);
  if (engine.reachability.gateway) reach(engine.reachability);
  engine.on('port-forwarding', status);
  engine.on('port-mapping', mapping);
  engine.on('reachability', reach);
}
