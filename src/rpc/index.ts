export type * from './types.js';
export { createRpcHandler } from './handler.js';
export { RpcCode, RpcError } from './errors.js';
export { startRpcServer } from './node-http-server.js';
export { hashPassword, verifyPassword, isPasswordHash } from './password.js';
export { LoginBackoff, hostAllowed, ipAllowed, isLoopbackAddress, parseBasicAuth } from './security.js';
export type { LoginBackoffOptions } from './security.js';
