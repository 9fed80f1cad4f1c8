/** Typed readers for a request's (snake_case) arguments: wrong types and out-of-range numbers are RpcErrors. */
import { invalidParams } from './errors.js';

export type Args = Record<string, unknown>;

export function optBool(a: Args, key: string): boolean | undefined {
  const v = a[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'boolean') return v;
  // Transmission's variant reads 0/1 as booleans too (old clients send them).
  if (v === 0 || v === 1) return v === 1;
  throw invalidParams(`argument '${key}' must be a boolean`);
}

export function optNumber(a: Args, key: string, min: number, max: number, integer = true): number | undefined {
  const v = a[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw invalidParams(`argument '${key}' must be a number`);
  if (integer && !Number.isInteger(v)) throw invalidParams(`argument '${key}' must be an integer`);
  if (v < min || v > max) throw invalidParams(`argument '${key}' must be between ${min} and ${max}`);
  return v;
}

export function optString(a: Args, key: string, maxLength = 64 * 1024): string | undefined {
  const v = a[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw invalidParams(`argument '${key}' must be a string`);
  if (v.length > maxLength) throw invalidParams(`argument '${key}' is too long`);
  return v;
}

export function optStringList(a: Args, key: string, maxItems = 10_000, maxLength = 64 * 1024): string[] | undefined {
  const v = a[key];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.length > maxItems) throw invalidParams(`argument '${key}' must be a list of strings`);
  for (const s of v) if (typeof s !== 'string' || s.length > maxLength) throw invalidParams(`argument '${key}' must be a list of strings`);
  return v as string[];
}

/** A list of non-negative integers below `bound` (file indexes...). */
export function optIndexList(a: Args, key: string, maxItems = 1_000_000): number[] | undefined {
  const v = a[key];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.length > maxItems) throw invalidParams(`argument '${key}' must be a list of integers`);
  for (const n of v) if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) throw invalidParams(`argument '${key}' must be a list of non-negative integers`);
  return v as number[];
}

export const MAX_KBPS = 2 ** 31 - 1;
