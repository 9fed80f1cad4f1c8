/** Parsers for command-line option values (pure): each returns the value or throws commander's InvalidArgumentError. */
import { InvalidArgumentError } from 'commander';

/** For repeatable options: appends each value. */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** For repeatable comma-separated lists (--rpc-whitelist a,b --rpc-whitelist c): appends each item. */
export function collectList(value: string, previous: string[]): string[] {
  return [...previous, ...value.split(',').map((x) => x.trim()).filter((x) => x.length > 0)];
}

export function parsePort(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('expected a port number 0-65535');
  return n;
}

export function parsePositiveNumber(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number');
  return n;
}

export function parsePositiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

/** A rate in bytes per second: `500000`, `500k` (KiB/s), `2M` (MiB/s), `1.5M`; 0 = no limit. */
export function parseRate(v: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kKmMgG]?)(?:i?B)?(?:\/s)?\s*$/.exec(v);
  if (!m) throw new InvalidArgumentError('expected bytes per second, e.g. 500000, 500k or 2M (k = KiB, M = MiB)');
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
  const n = Math.round(Number(m[1]) * mult);
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError('rate too large');
  return n;
}

/** `1,3-5` (file numbers from 1, as `info` lists them) → a sorted list of 0-based indices. */
export function parseFileList(v: string): number[] {
  const out = new Set<number>();
  for (const part of v.split(',')) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    if (!m) throw new InvalidArgumentError('expected file numbers such as 1,3-5 (from 1, as `torrentkit info` lists them)');
    const a = Number(m[1]);
    const b = m[2] !== undefined ? Number(m[2]) : a;
    if (a < 1 || b < a || b - a > 1_000_000) throw new InvalidArgumentError(`bad file range ${part.trim()}`);
    for (let k = a; k <= b; k++) out.add(k - 1);
  }
  return [...out].sort((x, y) => x - y);
}
