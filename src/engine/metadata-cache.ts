/**
 * Metadata fetched for a magnet link (BEP 9), cached as a .torrent under `<downloadDir>/.torrentkit/` so a
 * restart does not fetch it again. Read and written through StateFiles.
 */
import * as path from 'node:path';
import { bencode } from '../bencode/index.js';
import { parseTorrent } from '../metainfo/index.js';
import type { Metainfo } from '../metainfo/index.js';
import type { StateFiles } from '../storage/index.js';
import { concatBytes } from '../util/index.js';

/** Where fetched metadata is cached: `<downloadDir>/.torrentkit/<info-hash>.torrent`. */
export function metadataCachePath(downloadDir: string, infoHashHex: string): string {
  return path.join(downloadDir, '.torrentkit', `${infoHashHex}.torrent`);
}

/**
 * The cached metadata of `infoHashHex`, or undefined when there is none (or it cannot be read). A cached file that
 * does not parse is reported through `warn` and ignored; one of another torrent is ignored.
 */
export async function loadCachedMetadata(
  files: StateFiles,
  downloadDir: string,
  infoHashHex: string,
  warn: (msg: string) => void,
): Promise<Metainfo | undefined> {
  let bytes: Uint8Array | undefined;
  try {
    bytes = await files.read(metadataCachePath(downloadDir, infoHashHex));
  } catch {
    return undefined;
  }
  if (!bytes) return undefined;
  try {
    const meta = parseTorrent(bytes);
    return meta.infoHashHex === infoHashHex ? meta : undefined;
  } catch (e) {
    warn(`ignoring the cached metadata of ${infoHashHex}: ${(e as Error).message}`);
    return undefined;
  }
}

/** The fetched info dictionary as a .torrent with the magnet's trackers; the info dictionary as its exact bytes. */
export function encodeCachedMetadata(meta: Metainfo): Uint8Array {
  const enc = new TextEncoder();
  // Keys in order: announce-list < info.
  const parts: Uint8Array[] = [enc.encode('d')];
  if (meta.announceList.length > 0) parts.push(enc.encode('13:announce-list'), bencode(meta.announceList.map((t) => [...t])));
  parts.push(enc.encode('4:info'), meta.infoBytes, enc.encode('e'));
  return concatBytes(parts);
}

/** Cache `meta` for `downloadDir`, atomically. */
export function saveCachedMetadata(files: StateFiles, downloadDir: string, meta: Metainfo): Promise<void> {
  return files.writeAtomic(metadataCachePath(downloadDir, meta.infoHashHex), encodeCachedMetadata(meta));
}
