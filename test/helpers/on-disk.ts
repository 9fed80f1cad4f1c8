/** What is really on disk: every piece of a torrent hashed from the files under a directory (no resume data). */
import { readFile } from 'node:fs/promises';
import { parseTorrent } from '../../src/metainfo/index.js';
import { FsStorage, InlineHasher, checkPieces } from '../../src/storage/index.js';

/** How many pieces of `torrentFile` are complete and correct under `dir` (a full hash check). */
export async function piecesOnDisk(torrentFile: string, dir: string): Promise<number> {
  const meta = parseTorrent(new Uint8Array(await readFile(torrentFile)));
  const storage = new FsStorage(meta.info, dir);
  try {
    return (await checkPieces(meta.info, storage, new InlineHasher())).count;
  } finally {
    await storage.close();
  }
}
