/**
 * A torrent's mode: the state it is in, as an object (after MonoTorrent's Modes/). The torrent's state is its
 * mode's `state`; what happens to peers, messages and ticks is the mode's to say. Modes enter and exit; the
 * torrent core switches between them (TorrentCore.setMode) and holds what outlives a mode (peers, picker, storage).
 *
 *   stopped ─start→ metadata ─info→ checking → queued ⇄ downloading ⇄ seeding ─pause→ paused
 *                   (magnet)                              any ─failure→ error; any ─stop→ stopped
 */
import type { Message } from '../../wire/index.js';
import type { PeerSession } from '../peer-session.js';
import type { TorrentCore } from '../torrent-core.js';
import type { TorrentState } from '../types.js';

export interface Mode {
  readonly state: TorrentState;
  /** Peers are dialed and accepted in this mode. */
  readonly connectable: boolean;
  /** Blocks are requested in this mode (from peers and web seeds). */
  readonly requesting: boolean;
  /** Started (anything but stopped and error). */
  readonly started: boolean;
  /** The user starts the torrent: resolves once checking is done (if it checks). */
  start(): Promise<void>;
  /** The user pauses it: peers go, the data stays open. */
  pause(): void;
  /** The engine's queue has a slot for it. */
  leaveQueue(): Promise<void>;
  enter(): void;
  exit(): void;
  /** A peer joined: our first messages to it. */
  onPeerAttached(st: PeerSession): void;
  /** A message other than extended ones (those go through the torrent's Extensions first). */
  onMessage(st: PeerSession, m: Message): void;
  /** The peer's extended handshake was read. */
  onHandshaken(st: PeerSession): void;
  /** A peer left (it is no longer in the peer set). */
  onPeerClosed(st: PeerSession): void;
  /** Once a second, while the torrent's ticker runs. */
  tick(now: number): void;
  /** File priorities changed (the picker's piece priorities are already updated). */
  onSelectionChanged(): void;
  /** A limit or budget that held requests and uploads back has room again. */
  wake(): void;
}

/** Modes that ignore peers and time: the idle ones override only what they need. */
export abstract class BaseMode implements Mode {
  abstract readonly state: TorrentState;
  readonly connectable: boolean = false;
  readonly requesting: boolean = false;
  readonly started: boolean = true;
  constructor(protected readonly core: TorrentCore) {}
  /** Default: already started (or starting); the running check's promise. */
  start(): Promise<void> {
    return this.core.startPromise ?? Promise.resolve();
  }
  pause(): void {}
  async leaveQueue(): Promise<void> {}
  enter(): void {}
  exit(): void {}
  onPeerAttached(_st: PeerSession): void {}
  onMessage(_st: PeerSession, _m: Message): void {}
  onHandshaken(_st: PeerSession): void {}
  onPeerClosed(_st: PeerSession): void {}
  tick(_now: number): void {}
  onSelectionChanged(): void {}
  wake(): void {}
}
