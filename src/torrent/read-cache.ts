/** A small LRU of whole pieces read for uploading: peers ask for a piece block by block, in order. */
export class PieceReadCache {
  private readonly map = new Map<number, Promise<Uint8Array>>();
  private bytes = 0;
  constructor(
    private readonly maxBytes: number,
    private readonly load: (piece: number) => Promise<Uint8Array>,
    private readonly sizeOf: (piece: number) => number,
  ) {}

  get(piece: number): Promise<Uint8Array> {
    const hit = this.map.get(piece);
    if (hit) {
      this.map.delete(piece);
      this.map.set(piece, hit);
      return hit;
    }
    const p = this.load(piece);
    this.map.set(piece, p);
    this.bytes += this.sizeOf(piece);
    p.catch(() => this.drop(piece));
    while (this.bytes > this.maxBytes && this.map.size > 1) {
      const oldest = this.map.keys().next().value as number;
      this.drop(oldest);
    }
    return p;
  }

  drop(piece: number): void {
    if (!this.map.delete(piece)) return;
    this.bytes -= this.sizeOf(piece);
  }

  clear(): void {
    this.map.clear();
    this.bytes = 0;
  }
}
