/**
 * session-get's fields and session-set's keys, by their legacy names (kebab-case, plus Transmission's two
 * camelCase exceptions seedRatioLimit/seedRatioLimited). SessionSettings keys are the camelCase of the snake_case
 * names, so most entries map mechanically; keys Transmission has and torrentkit does not back are stored in
 * `settings.extra` (under their snake_case name) and echoed back, so clients that set them see them kept.
 */
import type { SessionApi, SessionSettings } from '../session/index.js';
import { invalidParams } from './errors.js';
import { MAX_KBPS, optBool, optNumber, optString } from './args.js';
import type { Args } from './args.js';

export const RPC_VERSION = 17;
export const RPC_VERSION_MIN = 14;
export const RPC_VERSION_SEMVER = '5.3.0';

export interface SessionFieldContext {
  session: SessionApi;
  jsonrpc: boolean;
  version: string;
  configDir: string;
  sessionId: string;
  /** Free bytes under the download dir (-1 when unknown); fetched before the getters run, only when asked. */
  freeSpace: number;
}

type Getter = (c: SessionFieldContext) => unknown;

type Kind = 'bool' | 'kbps' | 'count' | 'port' | 'ratio' | 'minutes' | 'string' | 'path' | 'encryption';

/** Backed settings: legacy name → [SessionSettings key, kind]. */
const BACKED: Record<string, [keyof SessionSettings, Kind]> = {
  'alt-speed-down': ['altSpeedDown', 'kbps'],
  'alt-speed-enabled': ['altSpeedEnabled', 'bool'],
  'alt-speed-up': ['altSpeedUp', 'kbps'],
  'blocklist-enabled': ['blocklistEnabled', 'bool'],
  'blocklist-url': ['blocklistUrl', 'string'],
  'dht-enabled': ['dhtEnabled', 'bool'],
  'download-dir': ['downloadDir', 'path'],
  'download-queue-enabled': ['downloadQueueEnabled', 'bool'],
  'download-queue-size': ['downloadQueueSize', 'count'],
  encryption: ['encryption', 'encryption'],
  'idle-seeding-limit': ['idleSeedingLimit', 'minutes'],
  'idle-seeding-limit-enabled': ['idleSeedingLimitEnabled', 'bool'],
  'lpd-enabled': ['lpdEnabled', 'bool'],
  'peer-limit-global': ['peerLimitGlobal', 'count'],
  'peer-limit-per-torrent': ['peerLimitPerTorrent', 'count'],
  'peer-port': ['peerPort', 'port'],
  'pex-enabled': ['pexEnabled', 'bool'],
  'port-forwarding-enabled': ['portForwardingEnabled', 'bool'],
  'rename-partial-files': ['renamePartialFiles', 'bool'],
  'seed-queue-enabled': ['seedQueueEnabled', 'bool'],
  'seed-queue-size': ['seedQueueSize', 'count'],
  seedRatioLimit: ['seedRatioLimit', 'ratio'],
  seedRatioLimited: ['seedRatioLimited', 'bool'],
  'speed-limit-down': ['speedLimitDown', 'kbps'],
  'speed-limit-down-enabled': ['speedLimitDownEnabled', 'bool'],
  'speed-limit-up': ['speedLimitUp', 'kbps'],
  'speed-limit-up-enabled': ['speedLimitUpEnabled', 'bool'],
  'start-added-torrents': ['startAddedTorrents', 'bool'],
  'utp-enabled': ['utpEnabled', 'bool'],
};

/** Settable keys torrentkit stores but does not act on: legacy name → [kind, default]. */
const STORED: Record<string, [Kind, unknown]> = {
  'alt-speed-time-begin': ['minutes', 540],
  'alt-speed-time-day': ['count', 127],
  'alt-speed-time-enabled': ['bool', false],
  'alt-speed-time-end': ['minutes', 1020],
  'anti-brute-force-enabled': ['bool', false],
  'cache-size-mb': ['count', 4],
  'default-trackers': ['string', ''],
  'incomplete-dir': ['path', ''],
  'incomplete-dir-enabled': ['bool', false],
  'peer-port-random-on-start': ['bool', false],
  'queue-stalled-enabled': ['bool', true],
  'queue-stalled-minutes': ['minutes', 30],
  'script-torrent-added-enabled': ['bool', false],
  'script-torrent-added-filename': ['string', ''],
  'script-torrent-done-enabled': ['bool', false],
  'script-torrent-done-filename': ['string', ''],
  'script-torrent-done-seeding-enabled': ['bool', false],
  'script-torrent-done-seeding-filename': ['string', ''],
  'trash-original-torrent-files': ['bool', false],
  'sequential-download': ['bool', false],
  reqq: ['count', 2000],
};

function snake(legacy: string): string {
  return legacy.replace(/-/g, '_').replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
}

const UNITS = {
  'speed-units': ['kB/s', 'MB/s', 'GB/s', 'TB/s'],
  'speed-bytes': 1000,
  'size-units': ['kB', 'MB', 'GB', 'TB'],
  'size-bytes': 1000,
  'memory-units': ['KiB', 'MiB', 'GiB', 'TiB'],
  'memory-bytes': 1024,
};

/** Every session-get field, by legacy name. */
export const SESSION_FIELDS: Record<string, Getter> = {};
for (const [name, [key]] of Object.entries(BACKED)) {
  SESSION_FIELDS[name] =
    key === 'encryption'
      ? (c) => (c.jsonrpc && c.session.settings.encryption === 'tolerated' ? 'allowed' : c.session.settings.encryption)
      : (c) => c.session.settings[key];
}
for (const [name, [, def]] of Object.entries(STORED)) {
  const k = snake(name) === 'cache_size_mb' ? 'cache_size_mib' : snake(name);
  SESSION_FIELDS[name] = (c) => c.session.settings.extra[k] ?? def;
}
Object.assign(SESSION_FIELDS, {
  'blocklist-size': (c: SessionFieldContext) => c.session.engine.ipFilter.size,
  'config-dir': (c: SessionFieldContext) => c.configDir,
  'download-dir-free-space': (c: SessionFieldContext) => c.freeSpace,
  'rpc-version': () => RPC_VERSION,
  'rpc-version-minimum': () => RPC_VERSION_MIN,
  'rpc-version-semver': () => RPC_VERSION_SEMVER,
  'session-id': (c: SessionFieldContext) => c.sessionId,
  'tcp-enabled': (c: SessionFieldContext) => c.session.engine.settings.enableTcp,
  units: () => ({ ...UNITS }),
  version: (c: SessionFieldContext) => c.version,
} satisfies Record<string, Getter>);

// What is in effect: the engine runs with the command line's overrides (--port, --no-dht, ...) over the stored
// settings, and settings that need a restart show the running engine's value until then.
Object.assign(SESSION_FIELDS, {
  'peer-port': (c: SessionFieldContext) => c.session.engine.listenPort || c.session.settings.peerPort,
  'dht-enabled': (c: SessionFieldContext) => c.session.engine.settings.dhtEnabled,
  'lpd-enabled': (c: SessionFieldContext) => c.session.engine.settings.lsdEnabled,
  'utp-enabled': (c: SessionFieldContext) => c.session.engine.settings.enableUtp,
  'pex-enabled': (c: SessionFieldContext) => c.session.engine.settings.pexEnabled,
  'port-forwarding-enabled': (c: SessionFieldContext) => c.session.engine.settings.portForwarding,
} satisfies Record<string, Getter>);

export const SESSION_FIELD_BY_SNAKE = new Map<string, [string, Getter]>();
for (const [legacy, get] of Object.entries(SESSION_FIELDS)) SESSION_FIELD_BY_SNAKE.set(snake(legacy) === 'cache_size_mb' ? 'cache_size_mib' : snake(legacy), [legacy, get]);

const BACKED_BY_SNAKE = new Map(Object.entries(BACKED).map(([k, v]) => [snake(k), v] as const));
const STORED_BY_SNAKE = new Map(Object.entries(STORED).map(([k, v]) => [snake(k) === 'cache_size_mb' ? 'cache_size_mib' : snake(k), v] as const));

function readKind(a: Args, key: string, kind: Kind): unknown {
  switch (kind) {
    case 'bool':
      return optBool(a, key);
    case 'kbps':
      return optNumber(a, key, 0, MAX_KBPS);
    case 'count':
      return optNumber(a, key, 0, 1_000_000);
    case 'port':
      return optNumber(a, key, 0, 65535);
    case 'minutes':
      return optNumber(a, key, 0, 1_000_000_000);
    case 'ratio':
      return optNumber(a, key, 0, 1e9, false);
    case 'string':
      return optString(a, key);
    case 'path': {
      const p = optString(a, key, 4096);
      if (p !== undefined && p !== '' && !p.startsWith('/')) throw invalidParams(`argument '${key}' must be an absolute path`);
      if (p !== undefined && p.includes('\0')) throw invalidParams(`argument '${key}' contains a NUL byte`);
      return p;
    }
    case 'encryption': {
      const e = optString(a, key);
      if (e === undefined) return undefined;
      if (e === 'allowed' || e === 'tolerated') return 'tolerated';
      if (e === 'required' || e === 'preferred') return e;
      throw invalidParams(`argument '${key}' must be required, preferred or tolerated`);
    }
  }
}

/** session-set's arguments (snake_case keys) → a settings patch. Read-only and unknown keys are ignored. */
export function sessionPatch(args: Args, current: Readonly<SessionSettings>): Partial<SessionSettings> {
  const patch: Partial<SessionSettings> = {};
  let extra: Record<string, unknown> | undefined;
  for (const key of Object.keys(args)) {
    const backed = BACKED_BY_SNAKE.get(key);
    if (backed) {
      const v = readKind(args, key, backed[1]);
      if (backed[0] === 'downloadDir' && v === '') throw invalidParams("argument 'download_dir' must not be empty");
      if (v !== undefined) (patch as Record<string, unknown>)[backed[0]] = v;
      continue;
    }
    const stored = STORED_BY_SNAKE.get(key);
    if (stored) {
      const v = readKind(args, key, stored[0]);
      if (v !== undefined) (extra ??= { ...current.extra })[key] = v;
    }
  }
  if (extra) patch.extra = extra;
  return patch;
}
