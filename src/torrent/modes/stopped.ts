/** StoppedMode: no peers, no timers, files closed. Starting fetches the metadata (a magnet) or checks the data. */
import { BaseMode } from './mode.js';

export class StoppedMode extends BaseMode {
  readonly state = 'stopped' as const;
  override readonly started = false;

  override start(): Promise<void> {
    return this.core.begin();
  }
}
