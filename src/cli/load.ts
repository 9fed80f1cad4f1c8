/** Reading a .torrent or checking a magnet link given on the command line; failures become CliExit (2 or 3). */
import { readFileSync, statSync } from 'node:fs';
import { BtError, MAX_TORRENT_BYTES, parseMagnet, parseTorrent } from '../index.js';
import type { MagnetLink, Metainfo } from '../index.js';
import { CliExit, EXIT } from './exit.js';

/** A .torrent file (a magnet link here is a usage error: these commands need the file). */
export function loadTorrent(file: string): Metainfo {
  if (file.startsWith('magnet:')) {
    throw new CliExit(EXIT.USAGE, 'seeding needs the data and its .torrent file, not a magnet link');
  }
  let bytes: Uint8Array;
  try {
    // Refuse a huge file before reading it whole (a 1.3 GB "torrent" took 7.6 s and 1.4 GB of memory).
    const size = statSync(file).size;
    if (size > MAX_TORRENT_BYTES) {
      throw new CliExit(EXIT.BAD_TORRENT, `invalid torrent ${file}: ${size} bytes, more than a torrent may have (${MAX_TORRENT_BYTES}) [ERR_METAINFO]`);
    }
    bytes = readFileSync(file);
  } catch (e) {
    if (e instanceof CliExit) throw e;
    throw new CliExit(EXIT.USAGE, `cannot read ${file}: ${(e as Error).message}`);
  }
  return parseTorrentOrExit(bytes, file);
}

export function parseTorrentOrExit(bytes: Uint8Array, file: string): Metainfo {
  try {
    return parseTorrent(bytes);
  } catch (e) {
    if (e instanceof BtError) {
      const field = e.field ? ` (field ${e.field})` : '';
      throw new CliExit(EXIT.BAD_TORRENT, `invalid torrent ${file}: ${e.message}${field} [${e.code}]`);
    }
    throw e;
  }
}

/** A magnet link, or CliExit 3 naming what is wrong with it. */
export function parseMagnetOrExit(uri: string): MagnetLink {
  try {
    return parseMagnet(uri);
  } catch (e) {
    throw new CliExit(EXIT.BAD_TORRENT, `invalid magnet link: ${(e as Error).message}`);
  }
}
