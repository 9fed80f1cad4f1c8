/**
 * BEP 52 creation interop: `torrentkit create --v2` and `--hybrid` give the info-hashes libtorrent 2.0 gives for
 * the same files and piece length (python3-libtorrent's create_torrent, v2_only or hybrid flags), for a directory
 * with empty, tiny, block-sized, unaligned, multi-piece, hidden, executable and non-ASCII files whose names sort
 * differently by path string and by tree (a-c / a/b), and for a single file; and libtorrent loads torrentkit's
 * torrents with the same hashes and roots.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTorrentFromPath } from '../../src/storage/create-torrent.js';
import { parseTorrent } from '../../src/metainfo/index.js';
import { runCreate } from '../../src/cli/commands/create.js';
import { LT_PYTHON, requireTools } from '../helpers/tools.js';

const LT_SCRIPT = `
import libtorrent as lt, sys, json, hashlib, os
root, piece, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
if mode == 'load':
    ti = lt.torrent_info(root)
    ih = ti.info_hashes()
    print(json.dumps({'v1': str(ih.v1) if ih.has_v1() else None, 'v2': str(ih.v2) if ih.has_v2() else None}))
    sys.exit(0)
fs = lt.file_storage(); lt.add_files(fs, root)
ct = lt.create_torrent(fs, piece, flags=(lt.create_torrent.v2_only if mode == 'v2' else 0))
lt.set_piece_hashes(ct, os.path.dirname(os.path.abspath(root)))
ib = lt.bencode(ct.generate()[b'info'])
print(json.dumps({'v1': hashlib.sha1(ib).hexdigest() if mode != 'v2' else None, 'v2': hashlib.sha256(ib).hexdigest()}))
`;

function lt(args: string[]): { v1: string | null; v2: string | null } {
  const r = spawnSync(LT_PYTHON, ['-c', LT_SCRIPT, ...args], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`libtorrent failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as { v1: string | null; v2: string | null };
}

/** Deterministic filler bytes (xorshift32). */
function content(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed | 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

function makeTree(dir: string): string {
  const root = join(dir, 'pl');
  mkdirSync(join(root, 'a'), { recursive: true });
  mkdirSync(join(root, 'sub', 'deep'), { recursive: true });
  const files: [string, number][] = [
    ['empty', 0],
    ['one', 1],
    ['a/b', 16383],
    ['a-c', 16384],
    ['sub/deep/x', 40000],
    ['big', 1048581],
    ['.hidden', 300],
    ['é.txt', 5000],
    ['run.sh', 70000],
  ];
  files.forEach(([p, n], i) => writeFileSync(join(root, p), content(n, i + 1)));
  chmodSync(join(root, 'run.sh'), 0o755);
  return root;
}

test('create --v2 / --hybrid: the info-hashes are libtorrent 2.0 ones; libtorrent reads ours alike', { timeout: 300_000 }, async (t) => {
  if (!requireTools(t, ['libtorrent'])) return;
  const dir = mkdtempSync(join(tmpdir(), 'tk-create-v2-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const root = makeTree(dir);
  const single = join(root, 'big');
  for (const [path, pieces] of [
    [root, [16384, 65536, 262144]],
    [single, [16384, 1048576]],
  ] as const) {
    for (const piece of pieces) {
      for (const mode of ['v2', 'hybrid'] as const) {
        const want = lt([path, String(piece), mode]);
        const { torrent, meta } = await createTorrentFromPath(path, { pieceLength: piece, version: mode === 'v2' ? 2 : 'hybrid' });
        const what = `${path === root ? 'directory' : 'single file'} at ${piece}, ${mode}`;
        assert.equal(meta.infoHashV2Hex, want.v2, `${what}: v2 info-hash`);
        if (mode === 'hybrid') assert.equal(meta.infoHashHex, want.v1, `${what}: v1 info-hash`);
        else assert.equal(meta.infoHashHex, want.v2!.slice(0, 40), `${what}: the truncated v2 hash names the swarm`);
        const file = join(dir, `${mode}-${piece}.torrent`);
        writeFileSync(file, torrent);
        const loaded = lt([file, '0', 'load']);
        assert.equal(loaded.v2, want.v2, `${what}: libtorrent loads our torrent`);
        if (mode === 'hybrid') assert.equal(loaded.v1, want.v1);
        assert.equal(parseTorrent(readFileSync(file)).infoHashV2Hex, want.v2);
      }
    }
  }
});

test('the create command: --v2 and --hybrid print both hashes; both together is a usage error', { timeout: 120_000 }, async (t) => {
  if (!requireTools(t, ['libtorrent'])) return;
  const dir = mkdtempSync(join(tmpdir(), 'tk-create-v2-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const root = makeTree(dir);
  let out = '';
  const write = (s: string): void => void (out += s);
  const file = join(dir, 'h.torrent');
  assert.equal(await runCreate(root, { output: file, tracker: [], webSeed: [], pieceLength: 65536, hybrid: true }, write), 0);
  const want = lt([root, '65536', 'hybrid']);
  assert.match(out, new RegExp(`info-hash ${want.v1!}\\ninfo-hash-v2 ${want.v2!}\\nmagnet:\\?xt=urn:btih:${want.v1!}&xt=urn:btmh:1220${want.v2!}`));
  out = '';
  assert.equal(await runCreate(root, { output: join(dir, 'v2.torrent'), tracker: [], webSeed: [], pieceLength: 65536, v2: true }, write), 0);
  assert.match(out, new RegExp(`info-hash-v2 ${lt([root, '65536', 'v2']).v2!}\\nmagnet:\\?xt=urn:btmh:1220`));
  await assert.rejects(runCreate(root, { output: join(dir, 'x.torrent'), tracker: [], webSeed: [], v2: true, hybrid: true }, write), /choose one/);
});
