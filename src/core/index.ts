export type { Clock, Timer } from './clock.js';
export { NodeClock } from './node-clock.js';
export { FakeClock } from './fake-clock.js';
export type { Random } from './random.js';
export { NodeRandom, SeededRandom } from './node-random.js';
export { BtError, isBtError } from './errors.js';
export type { BtErrorCode, BtOp } from './errors.js';
export { NullLogger, TextLogger } from './logger.js';
export type { Logger, LogLevel, LogMsg } from './logger.js';
