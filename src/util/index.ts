export { Bitfield } from './bitfield.js';
export { toHex, fromHex, equalBytes, concatBytes, utf8, fromUtf8, parseHostPort, formatHostPort } from './bytes.js';
export { TypedEmitter } from './typed-emitter.js';
export type { EventMap } from './typed-emitter.js';
export { RateMeter } from './rate.js';
