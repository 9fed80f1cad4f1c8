/** Shared bits of the session tests: small torrents, a quiet engine, a session on MemoryStateFiles. */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { buildTorrent } from '../../../src/metainfo/index.js';
import { InlineHasher, MemoryStateFiles, MemoryStorage } from '../../../src/storage/index.js';
import type { Hasher } from '../../../src/storage/index.js';
import { MemoryTransport } from '../../../src/transport/index.js';
import { openSession } from '../../../src/session/index.js';
import type { OpenSessionOptions, Session } from '../../../src/session/index.js';
import type { EngineSettings } from '../../../src/engine/index.js';

export const quiet: Partial<EngineSettings> = {
  listenEndpoints: ['127.0.0.1:0'],
  dhtEnabled: false,
  lsdEnabled: false,
  portForwarding: false,
  enableUtp: false,
  hashWorkers: 1,
};

export const PIECE = 16 * 1024;

export interface Payload {
  bytes: Uint8Array;
  files: { path: string[]; length: number }[];
  data: Uint8Array;
}

/** A multi-file torrent (`name`/a.bin, `name`/sub/b.bin) or, with `single`, one file; random content. */
export function makeTorrent(name: string, opts: { single?: boolean; trackers?: string[] } = {}): Payload {
  const files = opts.single ? [{ path: [name], length: 3 * PIECE + 7 }] : [{ path: ['a.bin'], length: 2 * PIECE + 5 }, { path: ['sub', 'b.bin'], length: PIECE + 3 }];
  const total = files.reduce((n, f) => n + f.length, 0);
  const data = new Uint8Array(randomBytes(total));
  const hashes: Buffer[] = [];
  for (let o = 0; o < total; o += PIECE) hashes.push(createHash('sha1').update(data.subarray(o, o + PIECE)).digest());
  const bytes = buildTorrent({
    name,
    files: opts.single ? null : files,
    ...(opts.single ? { length: files[0].length } : {}),
    pieceLength: PIECE,
    pieceHashes: Buffer.concat(hashes),
    ...(opts.trackers ? { trackers: opts.trackers.map((t) => [t]) } : {}),
  });
  return { bytes, files: opts.single ? [{ path: [name], length: files[0].length }] : files.map((f) => ({ path: [name, ...f.path], length: f.length })), data };
}

/** Write the payload's files under dir with mtimes an hour old. */
export async function writePayload(dir: string, p: Payload): Promise<void> {
  let o = 0;
  const old = new Date(Date.now() - 3600_000);
  for (const f of p.files) {
    const file = path.join(dir, ...f.path);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, p.data.subarray(o, o + f.length));
    await utimes(file, old, old);
    o += f.length;
  }
}

/** Options for a session on memory state files, memory storage and a memory transport (no sockets, no disk). */
export function memOptions(files = new MemoryStateFiles(), extra: Partial<OpenSessionOptions> = {}): OpenSessionOptions {
  return {
    configDir: '/cfg',
    defaults: { downloadDir: '/dl' },
    engineSettings: quiet,
    deps: { stateFiles: files, transport: new MemoryTransport(), createStorage: (m) => new MemoryStorage(m.info) },
    ...extra,
  };
}

export function memSession(files = new MemoryStateFiles(), extra: Partial<OpenSessionOptions> = {}): Promise<Session> {
  return openSession(memOptions(files, extra));
}

/** An inline hasher that counts pieces hashed. */
export function countingHasher(): { hasher: Hasher; count: () => number } {
  const inner = new InlineHasher();
  let n = 0;
  return {
    count: () => n,
    hasher: {
      sha1: (d) => (n++, inner.sha1(d)),
      hashPiece: (d) => (n++, inner.hashPiece(d)),
      destroy: () => inner.destroy(),
    },
  };
}

/** Resolve once `cond` holds, polling every 5 ms, for at most `ms`. */
export async function until(cond: () => boolean, ms = 1500, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
