/**
 * QueuedMode: checked, waiting for a download or seed slot (EngineSettings.maxActiveDownloads / maxActiveSeeds);
 * no peers. The engine calls leaveQueue when a slot frees up (a seed creates its files first).
 */
import { BaseMode } from './mode.js';

export class QueuedMode extends BaseMode {
  readonly state = 'queued' as const;
  private leaving = false;

  override async leaveQueue(): Promise<void> {
    const abort = this.core.abort;
    if (!abort || this.leaving) return;
    const signal = abort.signal;
    this.leaving = true;
    try {
      await this.core.activate(signal);
    } catch (e) {
      if (!signal.aborted) this.core.fail(e);
    } finally {
      this.leaving = false;
    }
  }
}
