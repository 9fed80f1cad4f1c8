/** `torrentkit create`: a .torrent from a file or directory. */
import { writeFileSync } from 'node:fs';
import { createTorrentFromPath, formatMagnet } from '../../index.js';
import { EXIT } from '../exit.js';

export interface CreateOpts {
  output?: string;
  tracker: string[];
  webSeed: string[];
  pieceLength?: number;
  private?: boolean;
  comment?: string;
}

export async function runCreate(path: string, opts: CreateOpts, write: (text: string) => void = (text) => void process.stdout.write(text)): Promise<number> {
  const { torrent, meta } = await createTorrentFromPath(path, {
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
  write(`${out}\ninfo-hash ${meta.infoHashHex}\n${formatMagnet(meta)}\n`);
  return EXIT.OK;
}
