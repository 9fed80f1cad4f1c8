/** Injected randomness. Only core/ may use Math.random or crypto's generators directly. */
export interface Random {
  bytes(n: number): Uint8Array;
  /** An integer in [0, max). */
  int(max: number): number;
}
