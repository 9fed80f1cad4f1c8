/**
 * BEP 5 announce tokens: SHA-1 of a secret and the querier's IP, truncated to 8 bytes. The secret rotates every
 * 5 minutes and the previous one is still accepted, so a token stays valid for 5 to 10 minutes.
 */
import { createHash } from 'node:crypto';
import type { Clock, Random } from '../core/index.js';
import { canonicalHost } from './addr.js';

export const TOKEN_ROTATE_MS = 5 * 60_000;
export const TOKEN_LENGTH = 8;

export class TokenManager {
  private current: Uint8Array;
  private previous: Uint8Array;
  private rotatedAt: number;

  constructor(
    private readonly clock: Clock,
    private readonly random: Random,
    private readonly rotateMs = TOKEN_ROTATE_MS,
  ) {
    this.current = random.bytes(16);
    this.previous = random.bytes(16);
    this.rotatedAt = clock.now();
  }

  /** Rotate lazily: after one period the current secret becomes the previous one; after two both are new. */
  private tick(): void {
    const now = this.clock.now();
    const periods = Math.floor((now - this.rotatedAt) / this.rotateMs);
    if (periods <= 0) return;
    this.previous = periods === 1 ? this.current : this.random.bytes(16);
    this.current = this.random.bytes(16);
    this.rotatedAt += periods * this.rotateMs;
  }

  private make(secret: Uint8Array, host: string): Uint8Array {
    const h = createHash('sha1').update(secret).update(canonicalHost(host)).digest();
    return new Uint8Array(h.buffer, h.byteOffset, TOKEN_LENGTH);
  }

  issue(host: string): Uint8Array {
    this.tick();
    return this.make(this.current, host);
  }

  verify(token: Uint8Array, host: string): boolean {
    this.tick();
    if (token.length !== TOKEN_LENGTH) return false;
    return same(token, this.make(this.current, host)) || same(token, this.make(this.previous, host));
  }
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  let d = a.length ^ b.length;
  for (let i = 0; i < a.length && i < b.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}
