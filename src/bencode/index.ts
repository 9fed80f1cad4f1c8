/** BEP 3 bencoding: strict decoder, canonical encoder, typed accessors. */
export type { BValue, BDict, BEncodable, DecodeOptions } from './types.js';
export { isDict, isList, isBytes } from './types.js';
export { bdecode, bdecodeTorrent, bdecodePrefix } from './decode.js';
export { bencode, keyBytes } from './encode.js';
export { getInt, getBytes, getStr, getDict, getList, utf8OrUndefined, utf8Lossy } from './accessors.js';
export { bytesToLatin1, latin1ToBytes } from './latin1.js';
