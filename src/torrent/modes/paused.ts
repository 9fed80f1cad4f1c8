/** PausedMode: checked, data open, no peers and no requests. Starting resumes downloading or seeding at once. */
import { BaseMode } from './mode.js';

export class PausedMode extends BaseMode {
  readonly state = 'paused' as const;

  override start(): Promise<void> {
    this.core.resumeActive();
    return Promise.resolve();
  }
}
