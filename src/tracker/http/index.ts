/** HTTP(S) trackers (BEP 3, BEP 23, BEP 7, BEP 48): pure codec, node:http transport, and the `Tracker`. */
export {
  MAX_PEERS_PER_REPLY,
  MAX_INTERVAL_S,
  percentEncodeBytes,
  buildAnnounceUrl,
  parseAnnounceResponse,
  scrapeUrlFor,
  buildScrapeUrl,
  parseScrapeResponse,
} from './codec.js';
export { nodeHttpGet, DEFAULT_HTTP_TIMEOUT_MS, DEFAULT_HTTP_MAX_BYTES, DEFAULT_HTTP_MAX_REDIRECTS } from './http-get.js';
export type { HttpGet, HttpGetOptions, HttpGetResult } from './http-get.js';
export { HttpTracker } from './http-tracker.js';
export type { HttpTrackerOptions } from './http-tracker.js';
