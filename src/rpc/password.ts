/**
 * RPC password hashes: "scrypt$<N>$<salt b64>$<hash b64>" (scrypt, r 8, p 1, 32-byte key, 16-byte random salt).
 * Verification recomputes the hash with the stored N and salt and compares in constant time.
 */
import { scrypt, timingSafeEqual } from 'node:crypto';
import { BtError, NodeRandom } from '../core/index.js';
import type { Random } from '../core/index.js';

const DEFAULT_N = 16384;
const KEY_LEN = 32;
/** Bounds on a stored N (a hostile settings.json must not make each login cost gigabytes). */
const MIN_N = 1024;
const MAX_N = 1 << 20;

function scryptAsync(password: string, salt: Uint8Array, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // maxmem: 128 * N * r bytes are needed; leave headroom.
    scrypt(password, salt, KEY_LEN, { N: n, r: 8, p: 1, maxmem: 256 * n * 8 + 1024 * 1024 }, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/** Hash a password with a fresh random salt. */
export async function hashPassword(password: string, opts: { random?: Random; n?: number } = {}): Promise<string> {
  const n = opts.n ?? DEFAULT_N;
  if (!Number.isInteger(n) || n < MIN_N || n > MAX_N || (n & (n - 1)) !== 0) {
    throw new BtError('ERR_SETTINGS', `scrypt N must be a power of two in ${MIN_N}..${MAX_N}`, { op: 'settings' });
  }
  const salt = (opts.random ?? new NodeRandom()).bytes(16);
  const key = await scryptAsync(password, salt, n);
  return `scrypt$${n}$${Buffer.from(salt).toString('base64')}$${key.toString('base64')}`;
}

interface ParsedHash {
  n: number;
  salt: Buffer;
  key: Buffer;
}

function parseHash(stored: string): ParsedHash | undefined {
  const parts = stored.split('$');
  if (parts.length !== 4 || parts[0] !== 'scrypt' || !/^\d{1,8}$/.test(parts[1])) return undefined;
  const n = Number(parts[1]);
  if (n < MIN_N || n > MAX_N || (n & (n - 1)) !== 0) return undefined;
  const b64 = /^[A-Za-z0-9+/]+={0,2}$/;
  if (!b64.test(parts[2]) || !b64.test(parts[3])) return undefined;
  const salt = Buffer.from(parts[2], 'base64');
  const key = Buffer.from(parts[3], 'base64');
  if (salt.length < 8 || key.length !== KEY_LEN) return undefined;
  return { n, salt, key };
}

/** True when `value` looks like a hash made by hashPassword (and not a plaintext password). */
export function isPasswordHash(value: string): boolean {
  return parseHash(value) !== undefined;
}

/** Whether `password` matches `stored`; a malformed `stored` matches nothing. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const h = parseHash(stored);
  if (!h) return false;
  const key = await scryptAsync(password, h.salt, h.n);
  return timingSafeEqual(key, h.key);
}
