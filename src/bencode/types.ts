/** BEP 3 bencoding: the decoded value model shared by the decoder, encoder and accessors. */

/** A decoded bencoded value: integers are safe JS numbers, byte strings are Uint8Array (subarrays of the input). */
export type BValue = number | Uint8Array | BValue[] | BDict;

/**
 * A decoded dictionary: a null-prototype object whose keys are the raw key bytes decoded as latin1,
 * so any key bytes round-trip (ASCII keys read naturally: `d['piece length']`).
 */
export interface BDict {
  [key: string]: BValue;
}

/**
 * What the encoder accepts: BValue plus JS strings (encoded as UTF-8) and plain objects whose
 * undefined-valued properties are skipped. Object keys are taken as latin1 byte strings when every
 * char code is < 256 (as decoded BDict keys are), otherwise as UTF-8.
 */
export type BEncodable =
  | number
  | string
  | Uint8Array
  | readonly BEncodable[]
  | { readonly [key: string]: BEncodable | undefined };

export interface DecodeOptions {
  /** Maximum nesting of lists/dicts (default 64). */
  maxDepth?: number;
  /** Maximum input length in bytes (bdecode, bdecodeTorrent) or value length (bdecodePrefix). Default: unlimited. */
  maxLength?: number;
  /**
   * Maximum number of values (integers, strings, lists, dicts and keys count one each) in the input (bdecode,
   * bdecodeTorrent), checked by an allocation-free scan before anything is built (libtorrent's max_decode_tokens).
   * Default: unlimited.
   */
  maxTokens?: number;
  /**
   * bdecode / bdecodeTorrent: accept (and ignore) bytes after the one top-level value, as libtorrent does for
   * .torrent files found in the wild. Default false: trailing bytes are an error.
   */
  allowTrailing?: boolean;
}

/** True for a decoded dictionary (any non-array, non-byte-string object). */
export function isDict(v: unknown): v is BDict {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v);
}

export function isList(v: unknown): v is BValue[] {
  return Array.isArray(v);
}

export function isBytes(v: unknown): v is Uint8Array {
  return v instanceof Uint8Array;
}
