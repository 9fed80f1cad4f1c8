/** `torrentkit create`: a .torrent from a file or directory. */
import { writeFileSync } from 'node:fs';
import { createTorrentFromPath, formatMagnet } from '../../index.js';
import { CliExit, EXIT } from '../exit.js';

export interface CreateOpts {
  output?: string;
  tracker: string[];
  webSeed: string[];
  pieceLength?: number;
  private?: boolean;
  comment?: string;
  /** BEP 52: v2 only. */
  v2?: boolean;
  /** BEP 52: v1 + v2 hybrid. */
  hybrid?: boolean;
}

export async function runCreate(path: string, opts: CreateOpts, write: (text: string) => void = (text) => void process.stdout.write(text)): Promise<number> {
  if (opts.v2 === true && opts.hybrid === true) throw new CliExit(EXIT.USAGE, '--v2 and --hybrid: choose one (a hybrid holds v2 already)');
  const { torrent, meta } = await createTorrentFromPath(path, {
    version: opts.v2 === true ? 2 : opts.hybrid === true ? 'hybrid' : 1,
    pieceLength: opts.pieceLength,
    trackers: opts.tracker.map((t) => [t]),
    urlList: opts.webSeed,
    private: opts.private,
    comment: opts.comment,
    createdBy: 'torrentkit/0.1.0',
    creationDate: Math.floor(Date.now() / 1000),
  });
  const out = opts.output ?? `${meta.info.name}.torrent`;
  writeFileSync(out, torrent);
  const v2 = meta.infoHashV2Hex !== undefined ? `info-hash-v2 ${meta.infoHashV2Hex}\n` : '';
  write(meta.version === 2 ? `${out}\n${v2}${formatMagnet(meta)}\n` : `${out}\ninfo-hash ${meta.infoHashHex}\n${v2}${formatMagnet(meta)}\n`);
  return EXIT.OK;
}
