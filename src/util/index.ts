export { Bitfield } from './bitfield.js';
export { toHex, fromHex, equalBytes, concatBytes, utf8, fromUtf8, parseHostPort, formatHostPort, formatIPv6 } from './bytes.js';
export { TypedEmitter } from './typed-emitter.js';
export type { EventMap } from './typed-emitter.js';
export { RateMeter } from './rate.js';
export { TokenBucket, Budget } from './token-bucket.js';
export { IpFilter } from './ip-filter.js';
export type { IpFilterParse } from './ip-filter.js';
