/** ErrorMode: the torrent failed (torrent.error says why); peers and timers are gone. Starting again begins afresh. */
import { BaseMode } from './mode.js';

export class ErrorMode extends BaseMode {
  readonly state = 'error' as const;
  override readonly started = false;

  override start(): Promise<void> {
    return this.core.begin();
  }
}
