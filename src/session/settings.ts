/**
 * SessionSettings: defaults, validation of what settings.json or session-set gives, and the EngineSettings they
 * stand for (KB/s are Transmission's 1000 bytes).
 */
import { BtError } from '../core/index.js';
import type { EngineSettings } from '../engine/index.js';
import { encryptionPreset } from '../peer/index.js';
import type { SessionSettings } from './types.js';

export const DEFAULT_SESSION_SETTINGS: Readonly<SessionSettings> = Object.freeze({
  downloadDir: '',
  speedLimitDown: 100,
  speedLimitDownEnabled: false,
  speedLimitUp: 100,
  speedLimitUpEnabled: false,
  altSpeedDown: 50,
  altSpeedUp: 50,
  altSpeedEnabled: false,
  seedRatioLimit: 2,
  seedRatioLimited: false,
  idleSeedingLimit: 30,
  idleSeedingLimitEnabled: false,
  downloadQueueSize: 5,
  downloadQueueEnabled: true,
  seedQueueSize: 10,
  seedQueueEnabled: false,
  peerLimitGlobal: 200,
  peerLimitPerTorrent: 50,
  peerPort: 51413,
  dhtEnabled: true,
  lpdEnabled: false,
  pexEnabled: true,
  utpEnabled: true,
  portForwardingEnabled: true,
  encryption: 'preferred',
  startAddedTorrents: true,
  renamePartialFiles: false,
  blocklistEnabled: false,
  blocklistUrl: 'http://www.example.com/blocklist',
  extra: {},
}) as Readonly<SessionSettings>;

type Kind = 'number' | 'boolean' | 'string';
const KINDS: Record<Exclude<keyof SessionSettings, 'extra' | 'encryption'>, Kind> = {
  downloadDir: 'string',
  speedLimitDown: 'number',
  speedLimitDownEnabled: 'boolean',
  speedLimitUp: 'number',
  speedLimitUpEnabled: 'boolean',
  altSpeedDown: 'number',
  altSpeedUp: 'number',
  altSpeedEnabled: 'boolean',
  seedRatioLimit: 'number',
  seedRatioLimited: 'boolean',
  idleSeedingLimit: 'number',
  idleSeedingLimitEnabled: 'boolean',
  downloadQueueSize: 'number',
  downloadQueueEnabled: 'boolean',
  seedQueueSize: 'number',
  seedQueueEnabled: 'boolean',
  peerLimitGlobal: 'number',
  peerLimitPerTorrent: 'number',
  peerPort: 'number',
  dhtEnabled: 'boolean',
  lpdEnabled: 'boolean',
  pexEnabled: 'boolean',
  utpEnabled: 'boolean',
  portForwardingEnabled: 'boolean',
  startAddedTorrents: 'boolean',
  renamePartialFiles: 'boolean',
  blocklistEnabled: 'boolean',
  blocklistUrl: 'string',
};
/** Counts (positive integers) vs. amounts that may be 0 or fractional. */
const POSITIVE_INTS = new Set<string>(['peerLimitGlobal', 'peerLimitPerTorrent']);
const NON_NEGATIVE_INTS = new Set<string>(['speedLimitDown', 'speedLimitUp', 'altSpeedDown', 'altSpeedUp', 'idleSeedingLimit', 'downloadQueueSize', 'seedQueueSize']);

/**
 * The known keys of `patch`, checked (BtError ERR_SETTINGS naming the field); undefined values are dropped.
 * `where` names the source in messages (a file, or 'session-set'). Unknown keys throw unless `lenient`, which
 * drops them (a settings file from a later version).
 */
export function checkSettingsPatch(patch: Record<string, unknown>, where: string, lenient = false): Partial<SessionSettings> {
  const out: Record<string, unknown> = {};
  const bad = (field: string, why: string): never => {
    throw new BtError('ERR_SETTINGS', `${where}: setting ${field} ${why}`, { op: 'settings', field });
  };
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined) continue;
    if (k === 'extra') {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) bad(k, 'must be an object');
      out[k] = { ...(v as Record<string, unknown>) };
      continue;
    }
    if (k === 'encryption') {
      if (v !== 'required' && v !== 'preferred' && v !== 'tolerated') bad(k, 'must be required, preferred or tolerated');
      out[k] = v;
      continue;
    }
    const kind = (KINDS as Record<string, Kind | undefined>)[k];
    if (kind === undefined) {
      if (lenient) continue;
      bad(k, 'is not a session setting');
    }
    if (typeof v !== kind) bad(k, `must be a ${kind}, not ${JSON.stringify(v)}`);
    if (kind === 'number') {
      const n = v as number;
      if (!Number.isFinite(n) || n < 0) bad(k, `must be a number >= 0, not ${n}`);
      if (POSITIVE_INTS.has(k) && !(Number.isInteger(n) && n > 0)) bad(k, `must be a positive integer, not ${n}`);
      if (NON_NEGATIVE_INTS.has(k) && !Number.isInteger(n)) bad(k, `must be a whole number, not ${n}`);
      if (k === 'peerPort' && !(Number.isInteger(n) && n <= 65535)) bad(k, `must be a port 0..65535, not ${n}`);
    }
    out[k] = v;
  }
  return out as Partial<SessionSettings>;
}

/** The global rate limits (bytes per second, 0 = none) the settings ask for now (alt speed wins when on). */
export function rateLimitsOf(s: SessionSettings): { download: number; upload: number } {
  if (s.altSpeedEnabled) return { download: s.altSpeedDown * 1000, upload: s.altSpeedUp * 1000 };
  return { download: s.speedLimitDownEnabled ? s.speedLimitDown * 1000 : 0, upload: s.speedLimitUpEnabled ? s.speedLimitUp * 1000 : 0 };
}

export function queueLimitsOf(s: SessionSettings): { maxActiveDownloads: number; maxActiveSeeds: number } {
  return { maxActiveDownloads: s.downloadQueueEnabled ? s.downloadQueueSize : 0, maxActiveSeeds: s.seedQueueEnabled ? s.seedQueueSize : 0 };
}

/** The EngineSettings these session settings stand for (the command line's engineSettings go on top). */
export function engineSettingsOf(s: SessionSettings): Partial<EngineSettings> {
  const rates = rateLimitsOf(s);
  const q = queueLimitsOf(s);
  return {
    listenEndpoints: [`0.0.0.0:${s.peerPort}`, `[::]:${s.peerPort}`],
    maxConnections: s.peerLimitGlobal,
    maxConnectionsPerTorrent: s.peerLimitPerTorrent,
    maxDownloadRate: rates.download,
    maxUploadRate: rates.upload,
    maxActiveDownloads: q.maxActiveDownloads,
    maxActiveSeeds: q.maxActiveSeeds,
    dhtEnabled: s.dhtEnabled,
    lsdEnabled: s.lpdEnabled,
    pexEnabled: s.pexEnabled,
    enableUtp: s.utpEnabled,
    portForwarding: s.portForwardingEnabled,
    encryption: s.encryption === 'required' ? encryptionPreset('require') : s.encryption === 'preferred' ? encryptionPreset('prefer') : ['plaintext', 'rc4-full', 'rc4-header'],
  };
}
