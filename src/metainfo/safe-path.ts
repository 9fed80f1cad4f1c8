/**
 * BEP 3 file paths: every `name` and `path` component must be a single, relative, harmless path segment.
 * Rejected (BtError ERR_UNSAFE_PATH): empty, `.`, `..`, containing `/`, `\` or NUL, a Windows drive (`C:`).
 */
import { BtError } from '../core/index.js';

/** Why a path component is unsafe, or undefined when it is safe. */
export function unsafeComponentReason(c: string): string | undefined {
  if (c.length === 0) return 'empty path component';
  if (c === '.' || c === '..') return `path component ${JSON.stringify(c)} is not allowed`;
  if (c.includes('/') || c.includes('\\')) return `path component ${JSON.stringify(c)} contains a path separator`;
  if (c.includes('\0')) return 'path component contains NUL';
  if (/^[A-Za-z]:/.test(c)) return `path component ${JSON.stringify(c)} looks like a Windows drive`;
  return undefined;
}

export function isSafePathComponent(c: string): boolean {
  return unsafeComponentReason(c) === undefined;
}

/** Throw BtError ERR_UNSAFE_PATH naming `field` when `c` is not a safe path component. */
export function assertSafePathComponent(c: string, field: string): void {
  const why = unsafeComponentReason(c);
  if (why !== undefined) throw new BtError('ERR_UNSAFE_PATH', `${field}: ${why}`, { op: 'validate', field });
}
