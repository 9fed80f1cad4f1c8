/** The network options of `download` and `seed` (RunOpts) mapped onto engine and torrent settings. */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { IpFilter, encryptionPreset } from '../index.js';
import type { EngineSettings } from '../index.js';
import { CliExit, EXIT } from './exit.js';

/** Options shared by `download` and `seed`, as commander parses them. */
export interface RunOpts {
  progressInterval?: number;
  tracker: string[];
  trackerTimeout?: number;
  encryption?: 'plaintext' | 'prefer' | 'require';
  encryptionLevel?: 'full' | 'header' | 'both';
  transport?: 'tcp' | 'utp' | 'both';
  port?: number;
  listen?: string[];
  peer: string[];
  json?: boolean;
  verbose?: boolean;
  pex?: boolean;
  resume?: boolean;
  /** --resume-interval, seconds. */
  resumeInterval?: number;
  webSeeds?: boolean;
  maxDownloadRate?: number;
  maxUploadRate?: number;
  seedRatio?: number;
  seedTime?: number;
  blocklist?: string[];
  proxy?: string;
  lsd?: boolean;
  lsdInterface?: string;
  dht?: boolean;
  dhtBootstrap?: string;
  dhtState?: string | false;
  portForwarding?: boolean;
}

/** Where the DHT routing table is kept: $XDG_STATE_HOME/torrentkit/dht.json (default ~/.local/state). */
export function defaultDhtStateFile(env: NodeJS.ProcessEnv = process.env, home: () => string = homedir): string {
  const base = env.XDG_STATE_HOME || join(home(), '.local', 'state');
  return join(base, 'torrentkit', 'dht.json');
}

export type NetOpts = Omit<RunOpts, 'progressInterval' | 'tracker' | 'peer' | 'json' | 'verbose'>;

/** EngineSettings from the network options of `download` and `seed`. */
export function engineSettings(opts: NetOpts, env: NodeJS.ProcessEnv = process.env): Partial<EngineSettings> {
  const s: Partial<EngineSettings> = {};
  if (opts.transport === 'tcp') Object.assign(s, { enableTcp: true, enableUtp: false, preferredTransport: 'tcp' });
  else if (opts.transport === 'utp') Object.assign(s, { enableTcp: false, enableUtp: true, preferredTransport: 'utp' });
  else if (opts.transport === 'both') Object.assign(s, { enableTcp: true, enableUtp: true, preferredTransport: 'tcp' });
  if (opts.pex === false) s.pexEnabled = false;
  if (opts.resume === false) s.fastResume = false;
  if (opts.resumeInterval !== undefined) s.resumeSaveIntervalMs = Math.round(opts.resumeInterval * 1000);
  if (opts.webSeeds === false) s.webSeedsEnabled = false;
  if (opts.proxy !== undefined) s.proxy = opts.proxy;
  if (opts.maxDownloadRate !== undefined) s.maxDownloadRate = opts.maxDownloadRate;
  if (opts.maxUploadRate !== undefined) s.maxUploadRate = opts.maxUploadRate;
  if (opts.lsd === false) s.lsdEnabled = false;
  if (opts.lsdInterface !== undefined) s.lsdInterface = opts.lsdInterface;
  if (opts.dht === false) s.dhtEnabled = false;
  if (opts.portForwarding === false) s.portForwarding = false;
  // The routing table outlives the process (unless --no-dht-state): a restart asks known nodes first.
  s.dhtStateFile = opts.dhtState === false ? '' : (opts.dhtState ?? defaultDhtStateFile(env));
  if (opts.dhtBootstrap !== undefined) s.dhtBootstrap = opts.dhtBootstrap.split(',').map((x) => x.trim()).filter((x) => x.length > 0);
  if (opts.encryption || opts.encryptionLevel) s.encryption = encryptionPreset(opts.encryption ?? 'prefer', opts.encryptionLevel ?? 'both');
  if (opts.listen && opts.listen.length > 0) s.listenEndpoints = opts.listen;
  else {
    const port = opts.port ?? 6881;
    s.listenEndpoints = [`0.0.0.0:${port}`, `[::]:${port}`];
  }
  if (opts.trackerTimeout !== undefined) {
    // One bound for any announce: HTTP's own timeout, and BEP 15's first UDP timeout scaled so its
    // retransmissions (1 + 2 + 4 x base) fit inside it.
    s.trackerRequestTimeoutMs = opts.trackerTimeout;
    s.trackerHttpTimeoutMs = opts.trackerTimeout;
    s.udpTrackerBaseTimeoutMs = Math.max(1, Math.floor(opts.trackerTimeout / 7));
  }
  return s;
}

/** --seed-ratio / --seed-time as torrent options. */
export function seedLimits(opts: Pick<RunOpts, 'seedRatio' | 'seedTime'>): { seedRatioLimit?: number; seedTimeLimitMs?: number } {
  return {
    ...(opts.seedRatio !== undefined ? { seedRatioLimit: opts.seedRatio } : {}),
    ...(opts.seedTime !== undefined ? { seedTimeLimitMs: opts.seedTime * 60_000 } : {}),
  };
}

/** --blocklist files, merged into one filter; unreadable files are a usage error, bad lines a warning. */
export function loadBlocklists(
  files: string[] | undefined,
  readFile: (file: string) => string = (f) => readFileSync(f, 'utf8'),
  warn: (text: string) => void = (text) => void process.stderr.write(text),
): IpFilter | undefined {
  if (!files || files.length === 0) return undefined;
  let text = '';
  for (const f of files) {
    try {
      text += `${readFile(f)}\n`;
    } catch (e) {
      throw new CliExit(EXIT.USAGE, `cannot read blocklist ${f}: ${(e as Error).message}`);
    }
  }
  const { filter, errors, badLines } = IpFilter.parse(text);
  if (errors > 0) warn(`warning: ${errors} blocklist line(s) not understood (e.g. line ${badLines.slice(0, 5).join(', ')}); skipped\n`);
  return filter;
}
