/**
 * TrackerFactory: URL scheme → Tracker constructor (MonoTorrent's TrackerFactory). The engine registers
 * http, https and udp; tests and users can register more (or replace one). An unknown scheme gives
 * ERR_UNSUPPORTED, which the TrackerManager reports once and skips.
 */
import { BtError } from '../core/index.js';
import type { Tracker } from './types.js';

export type TrackerCreator = (url: string) => Tracker;

export class TrackerFactory {
  private readonly creators = new Map<string, TrackerCreator>();

  /** `scheme` without the colon, case-insensitive ("http", "udp", "wss"). */
  register(scheme: string, create: TrackerCreator): this {
    this.creators.set(scheme.toLowerCase().replace(/:$/, ''), create);
    return this;
  }

  get schemes(): string[] {
    return [...this.creators.keys()];
  }

  create(url: string): Tracker {
    const m = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(url);
    if (!m) throw new BtError('ERR_UNSUPPORTED', `not a tracker URL: ${url}`, { op: 'parse' });
    const create = this.creators.get(m[1]!.toLowerCase());
    if (!create) throw new BtError('ERR_UNSUPPORTED', `unsupported tracker scheme "${m[1]!}:" (${url})`, { op: 'parse' });
    return create(url);
  }
}
