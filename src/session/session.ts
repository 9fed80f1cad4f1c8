// STUB (integrator replaces): the real openSession is written on the `session` branch.
import { BtError } from '../core/index.js';
import type { OpenSessionOptions, SessionApi } from './types.js';

export async function openSession(_opts: OpenSessionOptions): Promise<SessionApi> {
  throw new BtError('ERR_UNSUPPORTED', 'openSession: not on this branch yet (stub)');
}
