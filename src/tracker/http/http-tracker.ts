/**
 * One HTTP(S) tracker URL (BEP 3, BEP 23, BEP 7, BEP 48) as a `Tracker`: builds the GET, hands it to an
 * injected `HttpGet` (node:http by default), parses the reply and keeps the `tracker id` the tracker gave us,
 * sending it back on later announces.
 */
import type { Clock } from '../../core/index.js';
import { BtError } from '../../core/index.js';
import type { AnnounceRequest, AnnounceResponse, ScrapeResponse, Tracker } from '../types.js';
import { buildAnnounceUrl, buildScrapeUrl, parseAnnounceResponse, parseScrapeResponse, scrapeUrlFor } from './codec.js';
import { DEFAULT_HTTP_MAX_BYTES, DEFAULT_HTTP_MAX_REDIRECTS, DEFAULT_HTTP_TIMEOUT_MS, nodeHttpGet, textSnippet } from './http-get.js';
import type { HttpGet } from './http-get.js';

export interface HttpTrackerOptions {
  /** The announce URL (http: or https:). */
  url: string;
  clock: Clock;
  /** Transport; node:http / node:https by default. */
  get?: HttpGet;
  /** Deadline for one request, redirects included (default 30 s). */
  timeoutMs?: number;
  /** Largest reply accepted (default 1 MiB). */
  maxResponseBytes?: number;
  /** Default 5. */
  maxRedirects?: number;
  userAgent?: string;
}

export class HttpTracker implements Tracker {
  readonly url: string;
  readonly canScrape: boolean;
  private readonly scrapeUrl: string | undefined;
  private readonly get: HttpGet;
  /** The tracker's `tracker id`, kept until it sends another one (BEP 3). */
  private trackerId: string | undefined;
  private readonly inFlight = new Set<AbortController>();
  private disposed = false;

  constructor(private readonly o: HttpTrackerOptions) {
    let u: URL;
    try {
      u = new URL(o.url);
    } catch (e) {
      throw new BtError('ERR_TRACKER', `bad tracker URL ${JSON.stringify(o.url.slice(0, 200))}`, { op: 'validate', field: 'url', cause: e });
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') {
      throw new BtError('ERR_TRACKER', `an HTTP tracker needs an http: or https: URL, not ${u.protocol}`, { op: 'validate', field: 'url' });
    }
    this.url = o.url;
    this.scrapeUrl = scrapeUrlFor(o.url);
    this.canScrape = this.scrapeUrl !== undefined;
    this.get = o.get ?? nodeHttpGet;
  }

  async announce(req: AnnounceRequest, opts: { signal?: AbortSignal } = {}): Promise<AnnounceResponse> {
    const body = await this.request(buildAnnounceUrl(this.url, req, this.trackerId), opts.signal);
    const { trackerId, ...reply } = parseAnnounceResponse(body);
    if (trackerId !== undefined && !this.disposed) this.trackerId = trackerId;
    return reply;
  }

  async scrape(infoHash: Uint8Array, opts: { signal?: AbortSignal } = {}): Promise<ScrapeResponse> {
    if (this.scrapeUrl === undefined) {
      throw new BtError('ERR_TRACKER', `tracker ${this.url} has no scrape URL (its last path segment doesn't start with "announce")`, { op: 'message' });
    }
    const body = await this.request(buildScrapeUrl(this.scrapeUrl, [infoHash]), opts.signal);
    return parseScrapeResponse(body, infoHash);
  }

  /** Abort every outstanding request (they reject with ERR_ABORTED); later calls reject the same way. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const ac of this.inFlight) ac.abort(new BtError('ERR_ABORTED', 'tracker disposed', { op: 'stop' }));
    this.inFlight.clear();
  }

  /** One GET under our own AbortController (so dispose can end it), linked to the caller's signal. */
  private request(url: string, signal?: AbortSignal): Promise<Uint8Array> {
    if (this.disposed) return Promise.reject(new BtError('ERR_ABORTED', 'tracker disposed', { op: 'stop' }));
    if (signal?.aborted) return Promise.reject(new BtError('ERR_ABORTED', 'tracker request aborted', { op: 'message', cause: signal.reason }));
    const ac = new AbortController();
    const onAbort = (): void => ac.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    this.inFlight.add(ac);
    return new Promise<Uint8Array>((resolve, reject) => {
      // Reject on abort even when an injected `get` ignores its signal; its late result is then dropped.
      const aborted = (): void => reject(new BtError('ERR_ABORTED', this.disposed ? 'tracker disposed' : 'tracker request aborted', { op: 'message', cause: ac.signal.reason }));
      ac.signal.addEventListener('abort', aborted, { once: true });
      const done = (): void => {
        ac.signal.removeEventListener('abort', aborted);
        signal?.removeEventListener('abort', onAbort);
        this.inFlight.delete(ac);
      };
      this.get(url, {
        clock: this.o.clock,
        timeoutMs: this.o.timeoutMs ?? DEFAULT_HTTP_TIMEOUT_MS,
        maxBytes: this.o.maxResponseBytes ?? DEFAULT_HTTP_MAX_BYTES,
        maxRedirects: this.o.maxRedirects ?? DEFAULT_HTTP_MAX_REDIRECTS,
        signal: ac.signal,
        userAgent: this.o.userAgent,
      }).then(
        (r) => {
          done();
          if (r.status < 200 || r.status > 299) {
            const snippet = textSnippet(r.body);
            reject(new BtError('ERR_TRACKER', `tracker answered HTTP ${r.status}${snippet ? `: ${snippet}` : ''}`, { op: 'message' }));
          } else {
            resolve(r.body);
          }
        },
        (e: unknown) => {
          done();
          reject(e);
        },
      );
    });
  }
}
