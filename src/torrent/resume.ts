/**
 * Fast resume glue: which pieces are on disk at a start, trusting resume data for files unchanged since it was
 * saved, and saving it. The data's format and trust rules are storage/resume-data.ts; where it lives is the
 * engine's choice (TorrentEnv.resume).
 */
import type { Logger } from '../core/index.js';
import type { TorrentInfo } from '../metainfo/index.js';
import type { Hasher, PieceStorage, ResumeStore } from '../storage/index.js';
import { checkPieces } from '../storage/index.js';
import type { Bitfield } from '../util/index.js';

/**
 * Which pieces are on disk already. With resume data whose files are unchanged since it was saved, only the pieces
 * touching changed (or just-modified) files are hashed; otherwise (`full`, or no usable data) every piece is.
 */
export async function checkExisting(
  info: TorrentInfo,
  storage: PieceStorage,
  hasher: Hasher,
  store: ResumeStore | undefined,
  full: boolean,
  log: Logger,
  signal: AbortSignal,
): Promise<Bitfield> {
  const resume = store && !full ? await store.load(info).catch(() => undefined) : undefined;
  if (!resume) return checkPieces(info, storage, hasher, { signal });
  const found = await checkPieces(info, storage, hasher, { signal, pieces: resume.recheck });
  const have = resume.have;
  for (const i of resume.recheck) if (found.get(i)) have.set(i);
  log.info(`resume data: ${have.count - found.count} pieces trusted, ${resume.recheck.length} re-checked (${found.count} present)`);
  return have;
}

/** Record the verified pieces; a failure is a warning only. */
export async function saveResumeData(store: ResumeStore | undefined, info: TorrentInfo, have: Bitfield, log: Logger): Promise<void> {
  if (!store) return;
  try {
    await store.save(info, have);
  } catch (e) {
    log.warn(`resume data not saved: ${(e as Error).message}`);
  }
}
