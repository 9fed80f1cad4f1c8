/** session.json: its shape (version 1), encoding, and the checks a loaded one must pass. */
import type { SessionCounters, TorrentRecord } from './types.js';

export const SESSION_FILE_VERSION = 1;

export interface SessionFileData {
  version: number;
  nextId: number;
  /** All-time counters up to the last save. */
  counters: SessionCounters;
  /** [id, unix seconds] of removed torrents (the newest few thousand). */
  removed: [number, number][];
  torrents: TorrentRecord[];
}

export const EMPTY_COUNTERS: Readonly<SessionCounters> = Object.freeze({ uploadedBytes: 0, downloadedBytes: 0, filesAdded: 0, secondsActive: 0, sessionCount: 0 });

/** A fresh record's defaults (what an older file lacks is filled from these). */
export function defaultRecord(id: number, infoHashHex: string, downloadDir: string): TorrentRecord {
  return {
    id,
    infoHashHex,
    downloadDir,
    started: true,
    addedDate: 0,
    doneDate: 0,
    activityDate: 0,
    labels: [],
    queuePosition: 0,
    wanted: [],
    priorities: [],
    bandwidthPriority: 0,
    peerLimit: 50,
    downloadLimit: 100,
    downloadLimited: false,
    uploadLimit: 100,
    uploadLimited: false,
    honorsSessionLimits: true,
    seedRatioLimit: 2,
    seedRatioMode: 0,
    seedIdleLimit: 30,
    seedIdleMode: 0,
    sequential: false,
    addedTrackers: [],
    removedTrackers: [],
    uploadedEver: 0,
    downloadedEver: 0,
    corruptEver: 0,
    secondsDownloading: 0,
    secondsSeeding: 0,
    renames: [],
  };
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const nonNegInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;
const nonNeg = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;
const isStrArr = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

/** Check a decoded session.json; throws Error naming the first bad field. */
export function parseSessionFile(json: unknown): SessionFileData {
  if (!isObj(json)) throw new Error('not a JSON object');
  if (json.version !== SESSION_FILE_VERSION) throw new Error(`unknown version ${JSON.stringify(json.version)} (this build reads ${SESSION_FILE_VERSION})`);
  if (!nonNegInt(json.nextId) || json.nextId < 1) throw new Error('nextId must be a positive integer');
  const c = json.counters;
  if (!isObj(c)) throw new Error('counters must be an object');
  const counters = { ...EMPTY_COUNTERS };
  for (const k of Object.keys(EMPTY_COUNTERS) as (keyof SessionCounters)[]) {
    if (!nonNeg(c[k])) throw new Error(`counters.${k} must be a number >= 0`);
    counters[k] = c[k];
  }
  const removed: [number, number][] = [];
  if (!Array.isArray(json.removed)) throw new Error('removed must be a list');
  for (const r of json.removed) {
    if (!Array.isArray(r) || !nonNegInt(r[0]) || !nonNeg(r[1])) throw new Error('removed entries must be [id, time]');
    removed.push([r[0], r[1]]);
  }
  if (!Array.isArray(json.torrents)) throw new Error('torrents must be a list');
  const ids = new Set<number>();
  const hashes = new Set<string>();
  const torrents = json.torrents.map((t, i) => {
    const rec = parseRecord(t, `torrents[${i}]`);
    if (ids.has(rec.id) || hashes.has(rec.infoHashHex)) throw new Error(`torrents[${i}]: id ${rec.id} or info-hash repeated`);
    if (rec.id >= (json.nextId as number)) throw new Error(`torrents[${i}]: id ${rec.id} is not below nextId`);
    ids.add(rec.id);
    hashes.add(rec.infoHashHex);
    return rec;
  });
  return { version: SESSION_FILE_VERSION, nextId: json.nextId, counters, removed, torrents };
}

function parseRecord(t: unknown, where: string): TorrentRecord {
  if (!isObj(t)) throw new Error(`${where} must be an object`);
  const bad = (f: string, why: string): never => {
    throw new Error(`${where}.${f} ${why}`);
  };
  if (!nonNegInt(t.id) || t.id < 1) bad('id', 'must be a positive integer');
  if (typeof t.infoHashHex !== 'string' || !/^[0-9a-f]{40}$/.test(t.infoHashHex)) bad('infoHashHex', 'must be 40 lowercase hex digits');
  if (typeof t.downloadDir !== 'string' || t.downloadDir === '') bad('downloadDir', 'must be a path');
  const rec = defaultRecord(t.id as number, t.infoHashHex as string, t.downloadDir as string);
  const out = rec as unknown as Record<string, unknown>;
  for (const [k, def] of Object.entries(rec)) {
    const v = t[k];
    if (v === undefined) continue;
    if (typeof def === 'number' && !(typeof v === 'number' && Number.isFinite(v))) bad(k, 'must be a number');
    if (typeof def === 'boolean' && typeof v !== 'boolean') bad(k, 'must be a boolean');
    if (typeof def === 'string' && typeof v !== 'string') bad(k, 'must be a string');
    out[k] = v;
  }
  if (t.magnet !== undefined) {
    if (typeof t.magnet !== 'string') bad('magnet', 'must be a string');
    rec.magnet = t.magnet as string;
  }
  if (t.name !== undefined) {
    if (typeof t.name !== 'string') bad('name', 'must be a string');
    rec.name = t.name as string;
  }
  if (!isStrArr(rec.labels)) bad('labels', 'must be a list of strings');
  if (!Array.isArray(rec.wanted) || !rec.wanted.every((w) => typeof w === 'boolean')) bad('wanted', 'must be a list of booleans');
  const isPrio = (p: unknown): boolean => p === -1 || p === 0 || p === 1;
  if (!Array.isArray(rec.priorities) || !rec.priorities.every(isPrio)) bad('priorities', 'must be a list of -1, 0, 1');
  if (!isPrio(rec.bandwidthPriority)) bad('bandwidthPriority', 'must be -1, 0 or 1');
  for (const k of ['seedRatioMode', 'seedIdleMode'] as const) if (![0, 1, 2].includes(rec[k])) bad(k, 'must be 0, 1 or 2');
  if (!Array.isArray(rec.addedTrackers) || !rec.addedTrackers.every(isStrArr)) bad('addedTrackers', 'must be a list of tiers');
  if (!isStrArr(rec.removedTrackers)) bad('removedTrackers', 'must be a list of URLs');
  if (!Array.isArray(rec.renames) || !rec.renames.every((r) => isStrArr(r) && r.length === 2)) bad('renames', 'must be a list of [path, name]');
  return rec;
}

export function encodeSessionFile(d: SessionFileData): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(d));
}
