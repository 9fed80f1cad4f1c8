/** BEP 14 Local Peer Discovery for the engine: one service for all torrents, never for private ones. */
import { LsdService } from '../lsd/index.js';
import type { TorrentManager } from '../torrent/index.js';
import { formatHostPort } from '../util/index.js';
import type { Deps } from './deps.js';
import type { EngineSettings } from './settings.js';

export class LocalDiscovery {
  private lsd: LsdService | undefined;
  private errors = 0;

  constructor(
    private readonly settings: EngineSettings,
    private readonly deps: Deps,
    private readonly torrent: (infoHashHex: string) => TorrentManager | undefined,
    private readonly isSelf: (host: string, port: number) => boolean,
    private readonly warn: (msg: string) => void,
  ) {}

  /** Start announcing `port` for the active torrents; failures (no multicast route, ...) are quiet warnings. */
  start(port: number, torrents: Iterable<TorrentManager>): void {
    if (!this.settings.lsdEnabled) return;
    const lsd = new LsdService({
      clock: this.deps.clock,
      random: this.deps.random,
      port,
      socketFactory: () => this.deps.createLsdSocket(this.settings.lsdInterface, (e) => this.error(e)),
      hasTorrent: (hex) => {
        const t = this.torrent(hex);
        return t !== undefined && allowed(t);
      },
      onPeer: (hex, host, peerPort) => {
        const t = this.torrent(hex);
        if (!t || !allowed(t) || this.isSelf(host, peerPort)) return;
        t.addPeer(formatHostPort(host, peerPort), 'lsd');
      },
      onError: (e) => this.error(e),
    });
    this.lsd = lsd;
    for (const t of torrents) if (allowed(t) && (t.state === 'downloading' || t.state === 'seeding')) lsd.add(t.infoHashHex);
    lsd.start().catch((e: unknown) => {
      this.error(e);
      if (this.lsd === lsd) this.lsd = undefined;
      void lsd.stop();
    });
  }

  add(t: TorrentManager): void {
    if (allowed(t)) this.lsd?.add(t.infoHashHex);
  }

  remove(t: TorrentManager): void {
    this.lsd?.remove(t.infoHashHex);
  }

  async stop(): Promise<void> {
    const lsd = this.lsd;
    this.lsd = undefined;
    await lsd?.stop().catch(() => undefined);
  }

  private error(e: unknown): void {
    const msg = `local peer discovery: ${e instanceof Error ? e.message : String(e)}`;
    // Quiet: a machine (or test namespace) without a multicast route is normal; say it once.
    if (this.errors++ === 0) this.deps.logger.info(msg);
    else this.deps.logger.debug(() => msg);
    this.warn(msg);
  }
}

function allowed(t: TorrentManager): boolean {
  return t.hasMetadata && !t.meta.info.private;
}
