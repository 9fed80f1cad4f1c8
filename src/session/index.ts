export type * from './types.js';
export { openSession } from './session.js';
