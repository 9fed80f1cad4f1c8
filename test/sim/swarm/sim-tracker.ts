/**
 * An in-simulation HTTP tracker (BEP 3 announce, BEP 23 compact replies) behind the engine's `Deps.httpGet`
 * seam: each engine gets a `HttpGet` that knows its host's address, sends the announce across the simulated
 * network (a round trip on the link between the host and the tracker) and gets a bencoded reply. Peers are
 * listed in an order drawn from the tracker's own SeededRandom, as a real tracker picks a random subset.
 */
import type { HttpGet } from '../../../src/tracker/http/index.js';
import { BtError } from '../../../src/core/errors.js';
import { bencode } from '../../../src/bencode/index.js';
import { SeededRandom } from '../../../src/core/node-random.js';
import type { SimNetwork } from './sim-network.js';

interface TrackedPeer {
  host: string;
  port: number;
  left: number;
}

export interface TrackerStats {
  announces: number;
  started: number;
  completed: number;
  stopped: number;
}

function percentDecode(s: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '%') {
      out.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else out.push(c === '+' ? 0x20 : c.charCodeAt(0));
  }
  return Uint8Array.from(out);
}

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

export class SimTracker {
  /** info-hash hex → "host:port" → peer */
  private readonly swarms = new Map<string, Map<string, TrackedPeer>>();
  private readonly rng: SeededRandom;
  readonly stats: TrackerStats = { announces: 0, started: 0, completed: 0, stopped: 0 };
  /** Announce interval told to clients, seconds. */
  interval = 30;

  constructor(
    private readonly net: SimNetwork,
    /** The tracker's address on the simulated network (a host with rates of its own). */
    readonly address: string,
    seed: number,
  ) {
    this.rng = new SeededRandom(seed ^ 0x7ac0e);
    net.addHost(address, { upBps: 100_000_000, downBps: 100_000_000 });
  }

  get url(): string {
    return `http://${this.address}:80/announce`;
  }

  /** The HttpGet an engine on `host` uses. */
  httpGet(host: string): HttpGet {
    const clock = this.net.clock;
    return (url, opts) =>
      new Promise((resolve, reject) => {
        const link = this.net.link(host, this.address);
        const onAbort = (): void => {
          timer.cancel();
          reject(new BtError('ERR_ABORTED', 'tracker request aborted', { op: 'message' }));
        };
        const timer = clock.setTimeout(() => {
          opts.signal?.removeEventListener('abort', onAbort);
          try {
            resolve({ status: 200, body: this.answer(url, host) });
          } catch (e) {
            reject(e as Error);
          }
        }, 2 * link.latencyMs + 1);
        if (opts.signal?.aborted) return onAbort();
        opts.signal?.addEventListener('abort', onAbort, { once: true });
      });
  }

  private answer(url: string, host: string): Uint8Array {
    const q = url.slice(url.indexOf('?') + 1);
    const params = new Map<string, string>();
    for (const part of q.split('&')) {
      const eq = part.indexOf('=');
      if (eq > 0) params.set(part.slice(0, eq), part.slice(eq + 1));
    }
    if (!url.includes('/announce')) return bencode({ 'failure reason': 'only announce here' });
    const ih = params.get('info_hash');
    const port = Number(params.get('port'));
    if (!ih || !Number.isInteger(port)) return bencode({ 'failure reason': 'bad announce' });
    const key = hex(percentDecode(ih));
    let swarm = this.swarms.get(key);
    if (!swarm) {
      swarm = new Map();
      this.swarms.set(key, swarm);
    }
    this.stats.announces++;
    const event = params.get('event') ?? '';
    const me = `${host}:${port}`;
    if (event === 'stopped') {
      this.stats.stopped++;
      swarm.delete(me);
      return bencode({ interval: this.interval, peers: new Uint8Array(0) });
    }
    if (event === 'started') this.stats.started++;
    if (event === 'completed') this.stats.completed++;
    const left = Number(params.get('left') ?? '0');
    swarm.set(me, { host, port, left });
    const numWant = Math.min(200, Number(params.get('numwant') ?? '50'));
    const others = [...swarm.values()].filter((p) => `${p.host}:${p.port}` !== me);
    // A random subset, in a random order (Fisher-Yates from the tracker's seeded generator).
    for (let i = others.length - 1; i > 0; i--) {
      const j = this.rng.int(i + 1);
      [others[i], others[j]] = [others[j]!, others[i]!];
    }
    const list = others.slice(0, numWant);
    const compact = new Uint8Array(list.length * 6);
    list.forEach((p, i) => {
      const o = p.host.split('.').map(Number);
      compact.set(o, i * 6);
      compact[i * 6 + 4] = p.port >> 8;
      compact[i * 6 + 5] = p.port & 255;
    });
    let complete = 0;
    for (const p of swarm.values()) if (p.left === 0) complete++;
    return bencode({ interval: this.interval, 'min interval': this.interval, complete, incomplete: swarm.size - complete, peers: compact });
  }
}
