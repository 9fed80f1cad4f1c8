/**
 * RPC errors: one class for every failure a method reports. Legacy answers carry `message` as their `result`
 * string; JSON-RPC answers carry `{code, message: <the code's text>, data: {error_string: message}}` with
 * Transmission 4.1's codes (libtransmission/rpcimpl.h, JsonRpc::Error).
 */
export const RpcCode = {
  PARSE_ERROR: -32700,
  INVALID_REQUEST: -32600,
  METHOD_NOT_FOUND: -32601,
  INVALID_PARAMS: -32602,
  INTERNAL_ERROR: -32603,
  SET_ANNOUNCE_LIST: 1,
  INVALID_TRACKER_LIST: 2,
  PATH_NOT_ABSOLUTE: 3,
  UNRECOGNIZED_INFO: 4,
  SYSTEM_ERROR: 5,
  FILE_IDX_OOR: 6,
  PIECE_IDX_OOR: 7,
  HTTP_ERROR: 8,
  CORRUPT_TORRENT: 9,
  INVALID_BLOCKLIST_DATA: 10,
} as const;

export type RpcCodeValue = (typeof RpcCode)[keyof typeof RpcCode];

const CODE_TEXT: Record<number, string> = {
  [-32700]: 'Parse error',
  [-32600]: 'Invalid Request',
  [-32601]: 'Method not found',
  [-32602]: 'Invalid params',
  [-32603]: 'Internal error',
  1: 'error setting announce list',
  2: 'Invalid tracker list',
  3: 'path is not absolute',
  4: 'unrecognized info',
  5: 'system error',
  6: 'file index out of range',
  7: 'piece index out of range',
  8: 'HTTP error from backend service',
  9: 'invalid or corrupt torrent file',
  10: "couldn't parse any valid blocklist rules",
};

export function codeText(code: number): string {
  return CODE_TEXT[code] ?? 'error';
}

export class RpcError extends Error {
  constructor(
    readonly code: RpcCodeValue,
    message?: string,
    /** Extra keys for JSON-RPC's error.data.result (and the legacy answer's arguments). */
    readonly result?: Record<string, unknown>,
  ) {
    super(message ?? codeText(code));
    this.name = 'RpcError';
  }
}

export function invalidParams(message: string): RpcError {
  return new RpcError(RpcCode.INVALID_PARAMS, message);
}
