/** create / info / verify (src/cli/commands) run in-process on a temp dir with a captured stdout; --select-files checks. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCreate } from '../../../src/cli/commands/create.js';
import { selectionLine } from '../../../src/cli/commands/download.js';
import { runInfo } from '../../../src/cli/commands/info.js';
import { runVerify } from '../../../src/cli/commands/verify.js';
import { CliExit, EXIT } from '../../../src/cli/exit.js';
import { describeTorrent, formatMagnet, parseTorrent } from '../../../src/index.js';

test('create, info, verify on a small directory', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'tk-cli-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const root = path.join(dir, 'data', 'pl');
  await mkdir(path.join(root, 'sub'), { recursive: true });
  await writeFile(path.join(root, 'a.bin'), new Uint8Array(40_000).fill(7));
  await writeFile(path.join(root, 'sub', 'b.txt'), 'hello');
  let out = '';
  const write = (s: string): void => void (out += s);
  const tfile = path.join(dir, 't.torrent');

  assert.equal(await runCreate(root, { output: tfile, tracker: ['http://127.0.0.1:1/a'], webSeed: [], pieceLength: 16384, comment: 'hi' }, write), EXIT.OK);
  const meta = parseTorrent(await readFile(tfile));
  assert.equal(out, `${tfile}\ninfo-hash ${meta.infoHashHex}\n${formatMagnet(meta)}\n`);
  assert.equal(meta.createdBy, 'torrentkit/0.1.0');

  out = '';
  assert.equal(runInfo(tfile, {}, write), EXIT.OK);
  assert.equal(out, describeTorrent(meta).join('\n') + '\n');
  out = '';
  runInfo(tfile, { json: true }, write);
  const info = JSON.parse(out) as Record<string, unknown>;
  assert.deepEqual(Object.keys(info), ['infoHash', 'name', 'totalLength', 'pieceLength', 'pieces', 'private', 'files', 'trackers', 'comment', 'createdBy', 'creationDate']);
  assert.deepEqual(info.files, [
    { path: 'pl/a.bin', length: 40_000 },
    { path: 'pl/sub/b.txt', length: 5 },
  ]);

  out = '';
  assert.equal(await runVerify(tfile, { data: path.join(dir, 'data'), json: true }, write), EXIT.OK);
  const v = JSON.parse(out) as Record<string, unknown>;
  assert.deepEqual(Object.keys(v), ['infoHash', 'have', 'pieces', 'complete', 'seconds', 'files']);
  assert.deepEqual({ ...v, seconds: 0 }, {
    infoHash: meta.infoHashHex,
    have: 3,
    pieces: 3,
    complete: true,
    seconds: 0,
    files: [
      { path: 'pl/a.bin', length: 40_000, complete: true, missingPieces: 0 },
      { path: 'pl/sub/b.txt', length: 5, complete: true, missingPieces: 0 },
    ],
  });
  await rm(path.join(root, 'sub', 'b.txt'));
  out = '';
  assert.equal(await runVerify(tfile, { data: path.join(dir, 'data') }, write), EXIT.FAILURE);
  // The last piece holds the end of a.bin and all of b.txt: both are incomplete.
  assert.match(out, /^pl: 2\/3 pieces verified in \d+\.\d s\n {2}incomplete: pl\/a\.bin \(1 piece\(s\) missing or bad\)\n {2}incomplete: pl\/sub\/b\.txt \(1 piece\(s\) missing or bad\)\n$/);

  // --select-files against this torrent's two files.
  assert.equal(selectionLine(meta, [1]), 'selected 1 of 2 files (5 B): pl/sub/b.txt');
  assert.throws(
    () => selectionLine(meta, [0, 2, 4]),
    (e: unknown) => e instanceof CliExit && e.code === EXIT.USAGE && e.message === '--select-files: the torrent has 2 file(s); no file 3, 5',
  );
});

test('info: a magnet link as text and JSON; errors exit 3 (bad magnet, bad torrent) or 2 (unreadable file)', async (t) => {
  let out = '';
  const write = (s: string): void => void (out += s);
  const m = 'magnet:?xt=urn:btih:0123456789012345678901234567890123456789&dn=x&tr=http%3A%2F%2Fa%2Fb&x.pe=127.0.0.1:1';
  runInfo(m, {}, write);
  assert.equal(out, 'info-hash: 0123456789012345678901234567890123456789\nname: x\ntracker: http://a/b\npeer: 127.0.0.1:1\n');
  out = '';
  runInfo(m, { json: true }, write);
  assert.deepEqual(JSON.parse(out), { infoHash: '0123456789012345678901234567890123456789', name: 'x', trackers: ['http://a/b'], peers: ['127.0.0.1:1'], webSeeds: [] });
  const code = (f: () => unknown): number => {
    try {
      f();
    } catch (e) {
      if (e instanceof CliExit) return e.code;
      throw e;
    }
    return EXIT.OK;
  };
  assert.equal(code(() => runInfo('magnet:?xt=bad', {}, write)), EXIT.BAD_TORRENT);
  assert.equal(code(() => runInfo('/nonexistent/x.torrent', {}, write)), EXIT.USAGE);
  const dir = await mkdtemp(path.join(tmpdir(), 'tk-cli-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(path.join(dir, 'bad.torrent'), 'd4:infoi1ee');
  assert.equal(code(() => runInfo(path.join(dir, 'bad.torrent'), {}, write)), EXIT.BAD_TORRENT);
});

test('info: v2-only and hybrid torrents show both hashes; btmh magnets; verify refuses v2-only for now', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'tk-cli-v2-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const root = path.join(dir, 'pl');
  await mkdir(root, { recursive: true });
  await writeFile(path.join(root, 'a.bin'), new Uint8Array(40_000).fill(7));
  await writeFile(path.join(root, 'b.txt'), 'hello');
  let out = '';
  const write = (s: string): void => void (out += s);
  for (const mode of ['v2', 'hybrid'] as const) {
    const file = path.join(dir, `${mode}.torrent`);
    assert.equal(await runCreate(root, { output: file, tracker: [], webSeed: [], pieceLength: 16384, [mode]: true }, write), EXIT.OK);
    const meta = parseTorrent(await readFile(file));
    out = '';
    runInfo(file, {}, write);
    assert.match(out, new RegExp(`info-hash v2: ${meta.infoHashV2Hex!}\\n`));
    assert.match(out, mode === 'v2' ? /version: 2 \(v2 only\)/ : new RegExp(`info-hash: ${meta.infoHashHex}\\ninfo-hash v2: .*\\nversion: hybrid`));
    out = '';
    runInfo(file, { json: true }, write);
    const j = JSON.parse(out) as Record<string, unknown>;
    assert.equal(j.infoHashV2, meta.infoHashV2Hex);
    assert.equal(j.version, mode === 'v2' ? 2 : 'hybrid');
    if (mode === 'v2') await assert.rejects(runVerify(file, { data: dir }, write), (e: unknown) => e instanceof CliExit && /v2-only/.test(e.message));
  }
  out = '';
  const v2 = '95e04d0c4bad94ab206efa884666fd89777dbe4f7bd9945af1829037a85c6192';
  runInfo(`magnet:?xt=urn:btmh:1220${v2}&dn=x`, {}, write);
  assert.equal(out, `info-hash v2: ${v2}\nname: x\n`);
  out = '';
  runInfo(`magnet:?xt=urn:btmh:1220${v2}&xt=urn:btih:${v2.slice(0, 40)}`, { json: true }, write);
  assert.deepEqual(JSON.parse(out), { infoHash: v2.slice(0, 40), infoHashV2: v2, trackers: [], peers: [], webSeeds: [] });
});
