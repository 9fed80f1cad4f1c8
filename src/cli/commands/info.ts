/** `torrentkit info`: what a .torrent or magnet link holds, as text or JSON. */
import { describeTorrent } from '../../index.js';
import { EXIT } from '../exit.js';
import { textSafe } from '../format.js';
import { loadTorrent, parseMagnetOrExit } from '../load.js';

export function runInfo(source: string, opts: { json?: boolean }, write: (text: string) => void = (text) => void process.stdout.write(text)): number {
  if (source.startsWith('magnet:')) {
    const m = parseMagnetOrExit(source);
    if (opts.json) {
      write(`${JSON.stringify({ infoHash: m.v2Only === true ? undefined : m.infoHashHex, infoHashV2: m.infoHashV2Hex, name: m.displayName, trackers: m.trackers, peers: m.peers, webSeeds: m.webSeeds })}\n`);
    } else {
      const hashes = [...(m.v2Only === true ? [] : [`info-hash: ${m.infoHashHex}`]), ...(m.infoHashV2Hex !== undefined ? [`info-hash v2: ${m.infoHashV2Hex}`] : [])];
      write(
        [...hashes, `name: ${m.displayName ?? '(none)'}`, ...m.trackers.map((t) => `tracker: ${t}`), ...m.peers.map((p) => `peer: ${p}`), ...m.webSeeds.map((w) => `web seed: ${w}`)].map(textSafe).join('\n') + '\n',
      );
    }
    return EXIT.OK;
  }
  const meta = loadTorrent(source);
  const i = meta.info;
  if (opts.json) {
    write(
      `${JSON.stringify({
        infoHash: meta.infoHashHex,
        ...(meta.infoHashV2Hex !== undefined ? { infoHashV2: meta.infoHashV2Hex, version: meta.version } : {}),
        name: i.name,
        totalLength: i.totalLength,
        pieceLength: i.pieceLength,
        pieces: i.pieceCount,
        private: i.private,
        files: i.files.map((f) => ({ path: f.path.join('/'), length: f.length })),
        trackers: meta.announceList,
        comment: meta.comment,
        createdBy: meta.createdBy,
        creationDate: meta.creationDate,
      })}\n`,
    );
    return EXIT.OK;
  }
  write(describeTorrent(meta).map(textSafe).join('\n') + '\n');
  return EXIT.OK;
}
