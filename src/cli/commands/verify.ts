/** `torrentkit verify`: hash the data under DIR against the torrent, no network. Exit 0 when complete, 1 when not. */
import { verifyTorrent } from '../../index.js';
import { CliExit, EXIT } from '../exit.js';
import { loadTorrent } from '../load.js';
import { textSafe } from '../format.js';

export async function runVerify(file: string, opts: { data: string; json?: boolean }, write: (text: string) => void = (text) => void process.stdout.write(text)): Promise<number> {
  const meta = loadTorrent(file);
  // BEP 52 piece checks (merkle trees) are not wired into verify yet: src/metainfo/NOTES-v2.md.
  if (meta.version === 2) throw new CliExit(EXIT.BAD_TORRENT, `${file}: verifying v2-only torrents is not supported yet (hybrid torrents verify as v1)`);
  const info = meta.info;
  const t0 = Date.now();
  const v = await verifyTorrent(meta, opts.data);
  const seconds = (Date.now() - t0) / 1000;
  const files = v.files.map((f) => ({ path: f.path.join('/'), length: f.length, complete: f.complete, missingPieces: f.missingPieces }));
  if (opts.json) {
    write(`${JSON.stringify({ infoHash: meta.infoHashHex, have: v.have, pieces: v.pieceCount, complete: v.complete, seconds, files })}\n`);
  } else {
    write(`${textSafe(info.name)}: ${v.have}/${v.pieceCount} pieces verified in ${seconds.toFixed(1)} s${v.complete ? ', complete' : ''}\n`);
    for (const f of files) if (!f.complete) write(`  incomplete: ${textSafe(f.path)} (${f.missingPieces} piece(s) missing or bad)\n`);
  }
  return v.complete ? EXIT.OK : EXIT.FAILURE;
}
