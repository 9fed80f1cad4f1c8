export type * from './types.js';
export { createRpcHandler } from './handler.js';
export { RpcCode, RpcError } from './errors.js';
