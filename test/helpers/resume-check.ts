/**
 * Fast-resume checks for CLI tests: the `resume data: …` line a `-v` run logs at start, and what is really on
 * disk (every piece hashed from the files, no resume data).
 */
import { readFile } from 'node:fs/promises';
import { parseTorrent } from '../../src/metainfo/index.js';
import { FsStorage, InlineHasher, checkPieces } from '../../src/storage/index.js';
import type { TkRun } from './cli.js';

export interface ResumeLine {
  trusted: number;
  rechecked: number;
  present: number;
}

const RESUME_LINE = /resume data: (\d+) pieces trusted, (\d+) re-checked \((\d+) present\)/;

/**
 * The `resume data: T pieces trusted, R re-checked (P present)` line of a `-v` run (stderr), waiting for it: it
 * may arrive after the `checked` event (another pipe). Undefined when the run logged that it had no usable data.
 */
export async function resumeLine(run: TkRun, timeoutMs = 10_000): Promise<ResumeLine | undefined> {
  const parse = (s: string): ResumeLine | undefined => {
    const m = RESUME_LINE.exec(s);
    return m ? { trusted: Number(m[1]), rechecked: Number(m[2]), present: Number(m[3]) } : undefined;
  };
  const now = parse(run.proc.stderr);
  if (now || /no usable resume data|resume data ignored/.test(run.proc.stderr)) return now;
  const line = await run.proc.waitForLine((l) => RESUME_LINE.test(l) || /no usable resume data|resume data ignored/.test(l), timeoutMs, 'the resume data line', 'any');
  return parse(line);
}

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
