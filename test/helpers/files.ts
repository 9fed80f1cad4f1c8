/** Byte-for-byte comparison of files and directory trees. */
import { lstat, open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import assert from 'node:assert/strict';

export interface TreeEntry {
  /** Relative path with '/' separators; directories end with '/'. */
  path: string;
  type: 'file' | 'dir' | 'other';
  size: number;
}

/** Every entry under root (sorted), without following symlinks. A missing root gives []. */
export async function listTree(root: string): Promise<TreeEntry[]> {
  const out: TreeEntry[] = [];
  const walk = async (dir: string, rel: string): Promise<void> => {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' && rel === '') return;
      throw e;
    }
    for (const name of names.sort()) {
      const abs = join(dir, name);
      const st = await lstat(abs);
      const r = rel + name;
      if (st.isDirectory()) {
        out.push({ path: `${r}/`, type: 'dir', size: 0 });
        await walk(abs, `${r}/`);
      } else {
        out.push({ path: r, type: st.isFile() ? 'file' : 'other', size: st.size });
      }
    }
  };
  await walk(root, '');
  return out;
}

/** Offset of the first differing byte, -1 when identical (size included). */
export async function firstDifference(a: string, b: string): Promise<number> {
  const [fa, fb] = [await open(a, 'r'), await open(b, 'r')];
  try {
    const [sa, sb] = [await fa.stat(), await fb.stat()];
    const ba = Buffer.allocUnsafe(1 << 20);
    const bb = Buffer.allocUnsafe(1 << 20);
    let pos = 0;
    while (true) {
      const [ra, rb] = await Promise.all([fa.read(ba, 0, ba.length, pos), fb.read(bb, 0, bb.length, pos)]);
      const n = Math.min(ra.bytesRead, rb.bytesRead);
      if (ba.compare(bb, 0, n, 0, n) !== 0) {
        for (let i = 0; i < n; i++) if (ba[i] !== bb[i]) return pos + i;
      }
      if (ra.bytesRead !== rb.bytesRead) return pos + n;
      if (n === 0) return sa.size === sb.size ? -1 : pos;
      pos += n;
    }
  } finally {
    await fa.close();
    await fb.close();
  }
}

/** Differences between two trees (or two files): missing/extra entries, sizes, first differing byte. */
export async function diffTrees(expected: string, actual: string): Promise<string[]> {
  const st = await lstat(expected);
  if (st.isFile()) {
    const d = await firstDifference(expected, actual).catch((e: Error) => `unreadable: ${e.message}`);
    return d === -1 ? [] : [`${actual}: differs from ${expected} at byte ${d}`];
  }
  const [ea, aa] = [await listTree(expected), await listTree(actual)];
  const amap = new Map(aa.map((e) => [e.path, e]));
  const emap = new Map(ea.map((e) => [e.path, e]));
  const problems: string[] = [];
  for (const e of ea) {
    const a = amap.get(e.path);
    if (!a) problems.push(`missing: ${e.path}`);
    else if (a.type !== e.type) problems.push(`${e.path}: is ${a.type}, expected ${e.type}`);
    else if (e.type === 'file' && a.size !== e.size) problems.push(`${e.path}: size ${a.size}, expected ${e.size}`);
    else if (e.type === 'file') {
      const d = await firstDifference(join(expected, e.path), join(actual, e.path));
      if (d !== -1) problems.push(`${e.path}: differs at byte ${d}`);
    }
  }
  for (const a of aa) if (!emap.has(a.path)) problems.push(`unexpected: ${a.path}`);
  return problems;
}

/** Assert that `actual` is a byte-identical copy of `expected` (file or directory tree). */
export async function assertSameTree(expected: string, actual: string): Promise<void> {
  const problems = await diffTrees(expected, actual);
  assert.deepEqual(problems, [], `${actual} is not a byte-identical copy of ${expected}:\n${problems.slice(0, 20).join('\n')}`);
}
