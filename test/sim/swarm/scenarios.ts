/** Shared settings of the swarm scenario tests: small torrents and swarms, so each runs in a few seconds of wall time. */
import type { SwarmOptions, SwarmResult } from './swarm.js';

export const SMALL: Omit<SwarmOptions, 'seed'> = {
  leechers: 8,
  sizeBytes: 4 * 1024 * 1024,
  pieceLength: 64 * 1024,
  maxVirtualMs: 30 * 60_000,
  progress: process.env.TK_TEST_VERBOSE ? (l: string): void => void process.stderr.write(`${l}\n`) : undefined,
};

/** One line for the test log: what happened, in virtual and wall time. */
export function summary(r: SwarmResult): string {
  return `${r.complete}/${r.leechers} complete, virtual ${(r.virtualMs / 1000).toFixed(1)} s, wall ${(r.wallMs / 1000).toFixed(1)} s, ${r.traceEvents} trace events, trace ${r.trace.slice(0, 16)}`;
}
