/** FileSelection (pure): piece priorities from file priorities (shared pieces, pad and empty files), BEP 53, validation, files(). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BtError } from '../../../src/core/errors.js';
import type { TorrentInfo } from '../../../src/metainfo/types.js';
import { FileSelection } from '../../../src/torrent/file-selection.js';
import { Bitfield } from '../../../src/util/bitfield.js';

const PL = 16384;

/** A TorrentInfo over files of these lengths (pad files marked), piece hashes zero (unused here). */
function info(files: { length: number; pad?: boolean }[], pieceLength = PL): TorrentInfo {
  let offset = 0;
  const tf = files.map((f, i) => {
    const r = { path: ['t', f.pad ? `.pad/${i}` : `f${i}`], length: f.length, offset, ...(f.pad ? { pad: true } : {}) };
    offset += f.length;
    return r;
  });
  const pieceCount = Math.ceil(offset / pieceLength);
  return { name: 't', pieceLength, pieces: new Uint8Array(pieceCount * 20), pieceCount, files: tf, totalLength: offset, private: false, singleFile: false };
}

// Three files over two pieces: f0 in piece 0, f1 across pieces 0 and 1, f2 in piece 1.
const SHARED = info([{ length: 10_000 }, { length: 10_000 }, { length: 12_768 }]);

describe('FileSelection.piecePriorities', () => {
  it('every piece normal while nothing is set', () => {
    const sel = new FileSelection();
    sel.setInfo(SHARED);
    assert.equal(sel.active, false);
    assert.deepEqual([...sel.piecePriorities(SHARED)], [4, 4]);
  });

  it('a piece takes the highest priority of the files it touches (a skipped file in a shared piece is fetched)', () => {
    const sel = new FileSelection();
    sel.setInfo(SHARED);
    sel.set(0, 7);
    sel.set(1, 0);
    sel.set(2, 1);
    assert.equal(sel.active, true);
    assert.deepEqual([...sel.piecePriorities(SHARED)], [7, 1]);
    sel.set(0, 0);
    sel.set(2, 0);
    sel.set(1, 2);
    assert.deepEqual([...sel.piecePriorities(SHARED)], [2, 2], 'the middle file alone needs both pieces');
    sel.set(1, 0);
    assert.deepEqual([...sel.piecePriorities(SHARED)], [0, 0]);
    assert.equal(sel.wanted(1), false);
    assert.equal(sel.wanted(3), true, 'unknown files default to normal');
  });

  it('pad files and empty files count for nothing', () => {
    const padded = info([{ length: 10_000 }, { length: PL - 10_000, pad: true }, { length: 0 }, { length: PL }]);
    assert.equal(padded.pieceCount, 2);
    const sel = new FileSelection();
    sel.setInfo(padded);
    sel.set(0, 0);
    assert.deepEqual([...sel.piecePriorities(padded)], [0, 4], 'piece 0 holds only the skipped file and padding');
    sel.set(3, 0);
    sel.set(0, 5);
    assert.deepEqual([...sel.piecePriorities(padded)], [5, 0]);
  });
});

describe('FileSelection: BEP 53 selectOnly', () => {
  it('waits for the file list, then skips every file not listed', () => {
    const sel = new FileSelection();
    sel.selectOnly([1, 99]);
    assert.equal(sel.active, false, 'nothing to apply it to yet');
    assert.equal(sel.priority(0), 4);
    assert.equal(sel.setInfo(SHARED), true);
    assert.equal(sel.active, true);
    assert.deepEqual([0, 1, 2].map((i) => sel.priority(i)), [0, 4, 0]);
    assert.deepEqual([...sel.piecePriorities(SHARED)], [4, 4]);
    assert.equal(sel.setInfo(SHARED), false, 'applied once');
  });

  it('applies at once when the file list is known', () => {
    const sel = new FileSelection();
    assert.equal(sel.setInfo(SHARED), false);
    sel.selectOnly([2]);
    assert.deepEqual([0, 1, 2].map((i) => sel.priority(i)), [0, 0, 4]);
    assert.deepEqual([...sel.piecePriorities(SHARED)], [0, 4]);
  });
});

describe('FileSelection: validation', () => {
  const settingsError = (fn: () => void, re: RegExp): void =>
    assert.throws(fn, (e: unknown) => e instanceof BtError && e.code === 'ERR_SETTINGS' && re.test(e.message));

  it('refuses files not in the torrent and priorities out of range, with ERR_SETTINGS', () => {
    const sel = new FileSelection();
    sel.set(100, 4); // no file list yet: any index is taken
    sel.setInfo(SHARED);
    settingsError(() => sel.set(3, 4), /file 3 is not in the torrent \(3 files\)/);
    settingsError(() => sel.set(-1, 4), /file -1/);
    settingsError(() => sel.set(1.5, 4), /file 1.5/);
    settingsError(() => sel.set(0, 8), /0 \(skip\) to 7, not 8/);
    settingsError(() => sel.set(0, -1), /not -1/);
    settingsError(() => sel.set(0, 2.5), /not 2.5/);
    assert.equal(sel.priority(0), 4, 'a refused value changes nothing');
    assert.equal(sel.active, false);
  });
});

describe('FileSelection.files', () => {
  it("reports each file's bytes in verified pieces", () => {
    const sel = new FileSelection();
    sel.setInfo(SHARED);
    sel.set(2, 0);
    assert.deepEqual(sel.files(SHARED, undefined).map((f) => f.have), [0, 0, 0]);
    const have = new Bitfield(2);
    have.set(0);
    const files = sel.files(SHARED, have);
    assert.deepEqual(files.map((f) => [f.index, f.path.join('/'), f.length, f.priority, f.have]), [
      [0, 't/f0', 10_000, 4, 10_000],
      [1, 't/f1', 10_000, 4, PL - 10_000],
      [2, 't/f2', 12_768, 0, 0],
    ]);
    have.set(1);
    assert.deepEqual(sel.files(SHARED, have).map((f) => f.have), [10_000, 10_000, 12_768]);
    const withEmpty = info([{ length: 0 }, { length: 100 }]);
    const all = new Bitfield(1);
    all.setAll();
    assert.deepEqual(new FileSelection().files(withEmpty, all).map((f) => f.have), [0, 100]);
  });
});
