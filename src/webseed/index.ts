/** BEP 19 web seeds: pure range planning (plan.ts) and the node:http(s) range fetcher (http-range.ts). */
export { webSeedFileUrl, planRanges, usableWebSeed } from './plan.js';
export type { RangeRequest } from './plan.js';
export { createNodeRangeFetcher } from './http-range.js';
export type { RangeFetch, RangeFetchOptions, NodeRangeFetcher } from './http-range.js';
