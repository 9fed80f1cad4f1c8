/**
 * libtorrent's own parser test torrents (../shared/vectors/libtorrent-test-torrents, data only): every one gets
 * libtorrent's verdict, or a clear refusal where libtorrent sanitises a hostile path; none crashes; the v2
 * hashes and roots of v2.torrent, v2_multipiece_file and v2_only are libtorrent's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseTorrent } from '../../../src/metainfo/index.js';
import type { Metainfo } from '../../../src/metainfo/index.js';
import { BtError } from '../../../src/core/errors.js';
import { toHex } from '../../../src/util/bytes.js';
import { repoRoot } from '../../helpers/tools.js';

const DIR = process.env.TK_LT_VECTORS ?? join(repoRoot(), '..', 'shared', 'vectors', 'libtorrent-test-torrents');

/** What libtorrent refuses (../shared/vectors/README.md). */
const REFUSED = new Set(
  `missing_piece_len invalid_piece_len negative_piece_len no_name bad_name invalid_name invalid_info string negative_size
  negative_file_size invalid_path_list missing_path_list invalid_pieces unaligned_pieces invalid_file_size invalid_symlink
  many_pieces no_files zero zero2 duplicate_files2 v2_mismatching_metadata v2_no_power2_piece v2_invalid_file
  v2_deep_recursion v2_non_multiple_piece_layer v2_piece_layer_invalid_file_hash v2_invalid_piece_layer
  v2_invalid_piece_layer_root v2_unknown_piece_layer_entry v2_invalid_piece_layer_size v2_bad_file_alignment
  v2_unordered_files v2_overlong_integer v2_missing_file_root_invalid_symlink v2_large_file v2_large_offset v2_piece_size
  v2_invalid_pad_file v2_zero_root v2_zero_root_small v2_empty_filename`.split(/\s+/),
);

/** Loaded by libtorrent with a sanitised path; a clear refusal is the safer policy torrentkit takes. */
const HOSTILE_PATHS = new Set(
  `parent_path hidden_parent_path slash_path slash_path2 slash_path3 backslash_path absolute_filename invalid_filename
  invalid_filename2 invalid_directory_name invalid_name2 invalid_name3 empty_path empty_path_multi duplicate_files
  symlink_filtered_path v2_invalid_filename v2_invalid_filename2`.split(/\s+/),
);

/** Loaded by libtorrent's parser, refused here on purpose (each with the reason). */
const STRICTER: Record<string, RegExp> = {
  // a piece length of 512 MiB is beyond MAX_PIECE_LENGTH (128 MiB): one piece buffer would be half a gigabyte
  large_piece_size: /piece length: must be in 1\.\.134217728/,
  // its piece layer does not hash to its pieces root: libtorrent's add_torrent refuses it (torrent_invalid_piece_layer)
  v2_invalid_root_hash: /does not hash to the pieces root/,
};

function load(name: string): Metainfo | BtError {
  try {
    return parseTorrent(readFileSync(join(DIR, `${name}.torrent`)));
  } catch (e) {
    if (e instanceof BtError) return e;
    throw new Error(`${name}: not a BtError: ${String(e)}`, { cause: e });
  }
}

test('every libtorrent test torrent gets libtorrent verdict (or a clear refusal of a hostile path)', (t) => {
  if (!existsSync(DIR)) {
    t.skip(`no vectors at ${DIR}`);
    return;
  }
  const names = readdirSync(DIR)
    .filter((f) => f.endsWith('.torrent'))
    .map((f) => f.slice(0, -'.torrent'.length));
  assert.ok(names.length >= 100, `${names.length} vectors`);
  const wrong: string[] = [];
  for (const name of names) {
    const r = load(name);
    const refused = r instanceof BtError;
    if (refused) assert.ok(r.message.length > 10 && ['ERR_METAINFO', 'ERR_BENCODE', 'ERR_UNSAFE_PATH'].includes(r.code), `${name}: ${r.code} ${r.message}`);
    if (REFUSED.has(name)) {
      if (!refused) wrong.push(`${name}: loaded, libtorrent refuses it`);
    } else if (STRICTER[name] !== undefined) {
      if (!refused || !STRICTER[name].test(r.message)) wrong.push(`${name}: expected the deliberate refusal ${String(STRICTER[name])}, got ${refused ? r.message : 'loaded'}`);
    } else if (HOSTILE_PATHS.has(name)) {
      if (refused && r.code !== 'ERR_UNSAFE_PATH' && !/duplicate path|path/.test(r.message)) wrong.push(`${name}: refused, but not for its path: ${r.message}`);
    } else if (refused) wrong.push(`${name}: refused (${r.message}), libtorrent loads it`);
  }
  assert.deepEqual(wrong, []);
});

test('v2 hashes and roots of v2.torrent, v2_multipiece_file, v2_only; other facts of the README', (t) => {
  if (!existsSync(DIR)) {
    t.skip(`no vectors at ${DIR}`);
    return;
  }
  const get = (n: string): Metainfo => {
    const r = load(n);
    if (r instanceof BtError) throw r;
    return r;
  };
  const v2 = get('v2');
  assert.equal(v2.version, 'hybrid');
  assert.equal(v2.infoHashV2Hex, '597b180c1a170a585dfc5e85d834d69013ceda174b8f357d5bb1a0ca509faf0a');
  assert.deepEqual(v2.info.files.map((f) => [f.path.join('/'), f.length]), [['test64K', 65536]]);
  assert.equal(toHex(v2.info.files[0]!.piecesRoot!), '60aae9c7b428f87e0713e88229e18f0adf12cd7b22a0dd8a92bb2485eb7af242');

  const mp = get('v2_multipiece_file');
  assert.equal(mp.version, 'hybrid');
  assert.equal(mp.infoHashV2Hex, '108ac2c3718ce722e6896edc56c4afa98f1d711ecaace7aad74fca418ebd03de');
  assert.equal(toHex(mp.info.files[0]!.piecesRoot!), '515ea9181744b817744ded9d2e8e9dc6a8450c0b0c52e24b5077f302ffbd9008');
  assert.equal(mp.info.files[0]!.length, 1048576);
  assert.equal(mp.pieceLayers!.size, 1);

  const only = get('v2_only');
  assert.equal(only.version, 2);
  assert.equal(only.infoHashV2Hex, '95e04d0c4bad94ab206efa884666fd89777dbe4f7bd9945af1829037a85c6192');
  assert.equal(only.infoHashHex, '95e04d0c4bad94ab206efa884666fd89777dbe4f');
  assert.deepEqual(only.info.files.map((f) => [f.path.join('/'), f.length]), [['test1MB', 1048576]]);
  assert.equal(toHex(only.info.files[0]!.piecesRoot!), '515ea9181744b817744ded9d2e8e9dc6a8450c0b0c52e24b5077f302ffbd9008');
  assert.equal(only.info.pieceCount, 16);

  for (const n of ['v2_no_piece_layers', 'v2_incomplete_piece_layer']) assert.equal(get(n).version, 2, n);
  assert.equal(get('v2_no_piece_layers').pieceLayers!.size, 0);
  const pad = get('pad_file');
  assert.equal(pad.info.files.length, 2);
  assert.equal(pad.info.files[1]!.pad, true);
  assert.equal(get('whitespace_url').announce, 'udp://test.com/announce');
  assert.equal(get('creation_date').creationDate, 1234567);
  // libtorrent stores this web seed escaped with a '/' added (http://test.com/test%20file/foo%20bar/); torrentkit
  // keeps the URL as written and escapes / joins when it builds a request (webseed/plan.ts).
  assert.deepEqual(get('url_seed_multi_space').urlList, ['http://test.com/test file/foo bar']);
});
