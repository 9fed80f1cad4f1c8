/** A small LRU of whole pieces read for uploading: peers ask for a piece block by block, in order. */
export class PieceReadCache {
  private readonly map = new Map<number, Promise<Uint8Array>>();
  private bytes = 0;
  private readonly sizes = new Map<number, number>();
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
    const size = this.sizeOf(piece);
    this.map.set(piece, p);
    this.sizes.set(piece, size);
    this.bytes += size;
    p.catch(() => this.drop(piece));
    while (this.bytes > this.maxBytes && this.map.size > 1) {
      const oldest = this.map.keys().next().value as number;
      this.drop(oldest);
    }
    return p;
  }

  drop(piece: number): void {
    if (!this.map.delete(piece)) return;
    this.bytes -= this.sizes.get(piece) ?? 0;
    this.sizes.delete(piece);
  }

  clear(): void {
    this.map.clear();
    this.sizes.clear();
    this.bytes = 0;
  }
}
