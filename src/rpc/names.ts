/**
 * Name conversion between Transmission's two RPC spellings. Legacy requests (≤ 4.0) mix kebab-case
 * (`download-dir`, `peer-limit`) and camelCase (`hashString`, `seedRatioLimit`); JSON-RPC (4.1) uses snake_case
 * (`download_dir`, `hash_string`). Inside the handler every name is snake_case: request keys are converted on the way
 * in, and answers are built with the legacy names and converted on the way out for JSON-RPC.
 */

const memo = new Map<string, string>();
const MEMO_MAX = 4096;

/** `hashString` → `hash_string`, `peer-limit` → `peer_limit`, `isUTP` → `is_utp`, `snake_case` unchanged. */
export function toSnake(name: string): string {
  const hit = memo.get(name);
  if (hit !== undefined) return hit;
  const out = name
    .replace(/-/g, '_')
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .toLowerCase();
  const fixed = RENAMED[out] ?? out;
  // Only remember names of a sane size: a hostile request must not fill the memo.
  if (name.length <= 64 && memo.size < MEMO_MAX) memo.set(name, fixed);
  return fixed;
}

/** Renames in 4.1 beyond the spelling (rpc-spec.md §5, "renamed"). */
const RENAMED: Record<string, string> = {
  cache_size_mb: 'cache_size_mib',
};

/** Every object key of `v`, deeply, in snake_case (arrays' items too; strings and numbers unchanged). */
export function snakeKeys(v: unknown): unknown {
  if (Array.isArray(v)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < v.length; i++) {
      const x = v[i] as unknown;
      const y = typeof x === 'object' && x !== null ? snakeKeys(x) : x;
      if (y !== x) (out ??= v.slice())[i] = y;
    }
    return out ?? v;
  }
  if (typeof v !== 'object' || v === null) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    out[toSnake(k)] = typeof x === 'object' && x !== null ? snakeKeys(x) : x;
  }
  return out;
}

/** A request's arguments with snake_case keys (one level: values are left as they are). */
export function normalizeArgs(args: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  for (const [k, v] of Object.entries(args)) out[toSnake(k)] = v;
  return out;
}
