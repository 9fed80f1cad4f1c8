// STUB (integrator replaces): the real createRpcHandler is written on the `rpc` branch.
import { BtError } from '../core/index.js';
import type { SessionApi } from '../session/index.js';
import type { RpcHandler, RpcHandlerOptions } from './types.js';

export function createRpcHandler(_session: SessionApi, _opts: RpcHandlerOptions = {}): RpcHandler {
  throw new BtError('ERR_UNSUPPORTED', 'createRpcHandler: not on this branch yet (stub)');
}
