/** Fakes for the CLI unit tests: tracker status, peer, stats. */
import type { PeerInfo, TorrentStats, TrackerStatus } from '../../../src/index.js';

export function tracker(over: Partial<TrackerStatus> = {}): TrackerStatus {
  return { url: 'http://t.example/announce', tier: 0, state: 'working', peersReceived: 3, totalPeersReceived: 7, failures: 0, events: [], ...over };
}

export function peer(over: Partial<PeerInfo> = {}): PeerInfo {
  return {
    address: '127.0.0.1:6881',
    source: 'manual',
    encryption: 'rc4',
    client: 'lt 2.0',
    outgoing: true,
    transport: 'tcp',
    progress: 1,
    downloadRate: 0,
    uploadRate: 0,
    amChoking: true,
    amInterested: true,
    peerChoking: false,
    peerInterested: false,
    ...over,
  };
}

export function stats(over: Partial<TorrentStats> = {}): TorrentStats {
  return { state: 'downloading', progress: 0.123456, piecesHave: 5, pieceCount: 40, downloaded: 81920, uploaded: 1024, downloadRate: 2048.4, uploadRate: 10.6, peers: 2, seeds: 1, eta: 61.4, left: 1, ...over };
}

/** A ReporterIo that records what is written and runs the interval timer by hand. */
export class FakeIo {
  out = '';
  time = 1_700_000_000_000;
  timers: { ms: number; fn: () => void; stopped: boolean }[] = [];
  write = (text: string): void => {
    this.out += text;
  };
  now = (): number => this.time;
  every = (ms: number, fn: () => void): (() => void) => {
    const t = { ms, fn, stopped: false };
    this.timers.push(t);
    return () => {
      t.stopped = true;
    };
  };
  /** Advance time by ms and fire every running timer once. */
  tick(ms: number): void {
    this.time += ms;
    for (const t of this.timers) if (!t.stopped) t.fn();
  }
  lines(): string[] {
    return this.out.split('\n').filter((l) => l.length > 0);
  }
}
