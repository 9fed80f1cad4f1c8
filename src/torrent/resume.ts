/**
 * Fast resume glue: which pieces are on disk at a start (trusting resume data for files unchanged since it was
 * saved), and saving it. The file format and the trust rules are storage/resume-data.ts.
 */
import type { Logger } from '../core/index.js';
import type { TorrentInfo } from '../metainfo/index.js';
import type { Hasher, PieceStorage } from '../storage/index.js';
import { checkPieces, loadResume, saveResume } from '../storage/index.js';
import type { Bitfield } from '../util/index.js';

/**
 * Which pieces are on disk already. With resume data (`file`) whose files are unchanged since it was saved, only the
 * pieces touching changed (or just-modified) files are hashed; otherwise (`full`, or no usable data) every piece is.
 */
export async function checkExisting(
  info: TorrentInfo,
  storage: PieceStorage,
  hasher: Hasher,
  downloadDir: string,
  file: string | undefined,
  full: boolean,
  log: Logger,
  signal: AbortSignal,
): Promise<Bitfield> {
  const resume = file && !full ? await loadResume(file, info, downloadDir).catch(() => undefined) : undefined;
  if (!resume) return checkPieces(info, storage, hasher, { signal });
  const found = await checkPieces(info, storage, hasher, { signal, pieces: resume.recheck });
  const have = resume.have;
  for (const i of resume.recheck) if (found.get(i)) have.set(i);
  log.info(`resume data: ${have.count - found.count} pieces trusted, ${resume.recheck.length} re-checked (${found.count} present)`);
  return have;
}

/** Record the verified pieces with the files' sizes and mtimes; a failure is a warning only. */
export async function saveResumeData(file: string | undefined, info: TorrentInfo, downloadDir: string, have: Bitfield, log: Logger): Promise<void> {
  if (!file) return;
  try {
    await saveResume(file, info, downloadDir, have);
  } catch (e) {
    log.warn(`resume data not saved: ${(e as Error).message}`);
  }
}
