/**
 * Who pays for a piece that failed its hash check (pure). Every peer that sent a block of it is blamed; one that
 * sent the whole piece alone is certainly guilty and counts double. At `threshold` weighted failures a peer is
 * banned (a web seed disabled).
 */

/** The weight each contributor of a failed piece is charged. */
export function blameWeight(contributors: readonly string[]): number {
  return contributors.length === 1 ? 2 : 1;
}

/** Has a peer with `failures` weighted failures earned a ban? */
export function shouldBan(failures: number, threshold: number): boolean {
  return failures >= threshold;
}

/** The ban reason: how many pieces it sent that failed (weighted failures over the weight of the last one). */
export function banReason(failures: number, weight: number): string {
  return `sent data for ${Math.ceil(failures / weight)} pieces that failed their hash check`;
}
