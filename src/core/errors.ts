/**
 * One error family with stable codes. `op` names the step that failed (libtorrent's operation_t idea).
 * Codes are part of the public API: add, never rename.
 */
export type BtErrorCode =
  | 'ERR_BENCODE'
  | 'ERR_METAINFO'
  | 'ERR_MAGNET'
  | 'ERR_WIRE'
  | 'ERR_HANDSHAKE'
  | 'ERR_PROTOCOL'
  | 'ERR_PROXY'
  | 'ERR_STORAGE'
  | 'ERR_UNSAFE_PATH'
  | 'ERR_HASH'
  | 'ERR_TIMEOUT'
  | 'ERR_CONNECT'
  | 'ERR_CLOSED'
  | 'ERR_ABORTED'
  | 'ERR_SETTINGS'
  | 'ERR_DUPLICATE_TORRENT'
  | 'ERR_LIMIT'
  | 'ERR_STATE'
  | 'ERR_TRACKER'
  | 'ERR_LISTEN'
  | 'ERR_UTP'
  | 'ERR_UNSUPPORTED'
  | 'ERR_NAT'
  | 'ERR_DHT'
  | 'ERR_METADATA'
  | 'ERR_MSE'
  /** A saved state file (the session's, src/session) is cut short, garbled or of an unknown version. */
  | 'ERR_STATE_FILE'
  /** A file index, byte range or piece index outside the torrent (streaming). */
  | 'ERR_RANGE'
  /** A bug of the engine's own (an exception where none was expected), not anything a peer or the disk did. */
  | 'ERR_INTERNAL';

export type BtOp =
  | 'decode'
  | 'encode'
  | 'parse'
  | 'validate'
  | 'create'
  | 'connect'
  | 'handshake'
  | 'read'
  | 'write'
  | 'hash'
  | 'check'
  | 'listen'
  | 'message'
  | 'settings'
  | 'start'
  | 'stop'
  | 'announce'
  | 'scrape'
  | 'resolve'
  | 'discover'
  | 'map'
  | 'unmap';

export class BtError extends Error {
  readonly code: BtErrorCode;
  readonly op: BtOp | undefined;
  /** For validation errors: the field (e.g. `info.pieces`) that failed. */
  readonly field: string | undefined;
  constructor(code: BtErrorCode, message: string, opts: { op?: BtOp; field?: string; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'BtError';
    this.code = code;
    this.op = opts.op;
    this.field = opts.field;
  }
}

export function isBtError(e: unknown, code?: BtErrorCode): e is BtError {
  return e instanceof BtError && (code === undefined || e.code === code);
}
