/**
 * Exit codes of the CLI and how an error maps to one (with the message printed on stderr).
 * 0 ok · 1 runtime failure · 2 usage error · 3 invalid or unsafe torrent · 130 interrupted.
 */
import { BtError } from '../index.js';

export const EXIT = { OK: 0, FAILURE: 1, USAGE: 2, BAD_TORRENT: 3, INTERRUPTED: 130 } as const;

/** An error that ends the program with this exit code and message. */
export class CliExit extends Error {
  constructor(readonly code: number, message: string) {
    super(message);
  }
}

/** The exit code for an error thrown out of the program, writing its message (if any) with `writeErr`. */
export function exitCodeFor(e: unknown, writeErr: (text: string) => void): number {
  const err = e as { code?: unknown };
  if (typeof err?.code === 'string' && err.code.startsWith('commander.')) {
    // commander already printed what it had to say (help, version, or the usage error).
    return err.code === 'commander.helpDisplayed' || err.code === 'commander.version' ? EXIT.OK : EXIT.USAGE;
  }
  if (e instanceof CliExit) {
    writeErr(`torrentkit: ${e.message}\n`);
    return e.code;
  }
  if (e instanceof BtError) {
    const bad = e.code === 'ERR_UNSAFE_PATH' || e.code === 'ERR_METAINFO' || e.code === 'ERR_BENCODE';
    writeErr(`torrentkit: ${e.message}${e.field ? ` (field ${e.field})` : ''} [${e.code}]\n`);
    return bad ? EXIT.BAD_TORRENT : EXIT.FAILURE;
  }
  writeErr(`torrentkit: ${(e as Error)?.stack ?? String(e)}\n`);
  return EXIT.FAILURE;
}
