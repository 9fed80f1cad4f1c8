/**
 * Fast resume glue: which pieces are on disk at a start, trusting resume data for files unchanged since it was
 * saved (ResumeWriter saves it). The data's format and trust rules are storage/resume-data.ts; where it lives is the
 * engine's choice (TorrentEnv.resume).
 */
import type { Logger } from '../core/index.js';
import type { TorrentInfo } from '../metainfo/index.js';
import type { Hasher, PieceStorage, ResumeStore } from '../storage/index.js';
import { checkPieces } from '../storage/index.js';
import type { Bitfield } from '../util/index.js';

/** What checkExisting found. */
export interface ExistingPieces {
  have: Bitfield;
  /** Pieces hashed (0 when the resume data vouched for everything). */
  hashed: number;
}

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
): Promise<ExistingPieces> {
  const resume = store && !full ? await store.load(info).catch(() => undefined) : undefined;
  if (!resume) {
    if (store) log.info(full ? 'resume data ignored: full check' : 'no usable resume data: full check');
    return { have: await checkPieces(info, storage, hasher, { signal }), hashed: info.pieceCount };
  }
  const found = await checkPieces(info, storage, hasher, { signal, pieces: resume.recheck });
  const have = resume.have;
  for (const i of resume.recheck) if (found.get(i)) have.set(i);
  log.info(`resume data: ${have.count - found.count} pieces trusted, ${resume.recheck.length} re-checked (${found.count} present)`);
  return { have, hashed: resume.recheck.length };
}
