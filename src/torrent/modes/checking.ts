/**
 * CheckingMode: hash what is on disk (trusting fast-resume data where the files did not change), then build the
 * Download (picker, assembler, web seeds) and go on: queued when the engine's queue has no slot, else active.
 * No peers meanwhile. Storage failures put the torrent in error (ERR_STORAGE); anything else is a bug of ours
 * (ERR_INTERNAL, logged with its stack).
 */
import { BtError } from '../../core/index.js';
import { Download } from '../download.js';
import { checkExisting } from '../resume.js';
import type { TorrentCore } from '../torrent-core.js';
import { BaseMode } from './mode.js';
import { QueuedMode } from './queued.js';

/** A storage operation's failure, as a BtError ERR_STORAGE (unless it is a BtError already). */
export async function storageOp<T>(p: () => Promise<T>): Promise<T> {
  try {
    return await p();
  } catch (e) {
    throw e instanceof BtError ? e : new BtError('ERR_STORAGE', e instanceof Error ? e.message : String(e), { cause: e });
  }
}

export class CheckingMode extends BaseMode {
  readonly state = 'checking' as const;
  done: Promise<void> = Promise.resolve();

  constructor(
    core: TorrentCore,
    private readonly signal: AbortSignal,
  ) {
    super(core);
  }

  override enter(): void {
    this.done = this.run();
  }

  private async run(): Promise<void> {
    const core = this.core;
    const env = core.env;
    const signal = this.signal;
    // One of the engine's check slots (many torrents started at once check a few at a time).
    const slots = env.checkSlots;
    if (slots && !(await slots.acquire(signal))) return;
    let held = slots !== undefined;
    const release = (): void => {
      if (held) slots!.release();
      held = false;
    };
    try {
      const meta = core.meta!;
      if (!core.storage) {
        const created = await storageOp(async () => env.createStorage(meta, core.downloadDir));
        // Stopped meanwhile: stop() found no storage to close, so close this one (it is not the torrent's).
        if (signal.aborted) {
          await created.close().catch(() => undefined);
          return;
        }
        core.storage = created;
      }
      const storage = core.storage;
      const full = core.forceFullCheck;
      core.forceFullCheck = false;
      const store = env.resume?.(core.owner);
      const { have, hashed } = await storageOp(() => checkExisting(meta.info, storage, env.hasher, store, full, core.log, signal));
      release();
      if (signal.aborted) return;
      const download = new Download(core, storage, have, signal);
      core.active = download;
      core.resume.start();
      // What hashing found is worth keeping before any download: a crash now need not hash it again.
      if (hashed > 0) core.resume.request();
      core.applySelection();
      core.events.emit('checked', have.count, meta.info.pieceCount);
      core.startTicker();
      if (env.mayActivate && !env.mayActivate(core.owner, download.picker.finished ? 'seed' : 'download')) {
        core.setMode(new QueuedMode(core));
        return;
      }
      await core.activate(signal);
    } catch (e) {
      if (signal.aborted) return;
      core.fail(e, 'ERR_INTERNAL');
    } finally {
      release();
    }
  }
}
