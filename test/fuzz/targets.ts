/**
 * Fuzz targets: every parser and decoder of torrentkit, its valid samples (the mutation corpus), a
 * structure-aware fast-check generator and the input families whose cost growth is measured.
 * A target's run() throws a plain Error for a broken invariant (a round trip that does not hold): that
 * counts as a crash like any exception that is not a BtError.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { bdecode, bencode } from '../../src/bencode/index.js';
import type { BEncodable } from '../../src/bencode/index.js';
import { isBtError, NodeClock, SeededRandom } from '../../src/core/index.js';
import { decodeKrpc, encodeError, encodeQuery, encodeResponse } from '../../src/dht/index.js';
import { decodeLsdAnnounce, encodeLsdAnnounce } from '../../src/lsd/index.js';
import { buildTorrent, buildTorrentV2, formatMagnet, parseMagnet, parseTorrent } from '../../src/metainfo/index.js';
import type { Metainfo, TorrentInfo } from '../../src/metainfo/index.js';
import { DH_PRIVATE_KEY_BYTES, DhKeyPair, MSE_PREFER_RC4, MseInitiator, MseReceiver, SkeyIndex } from '../../src/mse/index.js';
import type { DhKeyAgreement } from '../../src/mse/index.js';
import { natpmp, upnp } from '../../src/nat/index.js';
import { loadResume, MemoryStateFiles, saveResume } from '../../src/storage/index.js';
import { decodeResponse, parseAnnounceResponse, parseScrapeResponse } from '../../src/tracker/index.js';
import { decodePacket, encodePacket, ST_DATA, ST_STATE, ST_SYN } from '../../src/transport/utp/index.js';
import { Bitfield } from '../../src/util/index.js';
import { createNodeRangeFetcher, planRanges } from '../../src/webseed/index.js';
import type { NodeRangeFetcher } from '../../src/webseed/index.js';
import {
  decodeExtendedHandshake,
  decodeMessage,
  decodeUtMetadata,
  decodeUtPex,
  encodeExtendedHandshake,
  encodeHandshake,
  encodeMessage,
  encodeUtMetadata,
  encodeUtPex,
  FrameDecoder,
  decodeHashMessage,
  encodeHashMessage,
  isHashMessageId,
} from '../../src/wire/index.js';
import type { Message } from '../../src/wire/index.js';
import type { Family, Target } from './harness.js';
import { ascii, concat, Prng, repeat } from './mutate.js';

const IH = new Uint8Array(20).fill(7);
const PEER_ID = ascii('-TK0001-abcdefghijkl');
const utf8 = new TextDecoder('utf-8', { fatal: false });
const latin1 = new TextDecoder('latin1');
const enc = (v: BEncodable): Uint8Array => bencode(v);
const u8 = (n: number, fill = 0): Uint8Array => new Uint8Array(n).fill(fill);
const str = (s: string): Uint8Array => ascii(s);

function fail(msg: string): never {
  throw new Error(`invariant: ${msg}`);
}

// ---- shared fast-check pieces ------------------------------------------------------------------------

const bytesArb = (max = 64): fc.Arbitrary<Uint8Array> => fc.uint8Array({ maxLength: max });
const intArb = fc.oneof(fc.integer({ min: -5, max: 70000 }), fc.constantFrom(0, 1, -1, 2 ** 31, 2 ** 32, 2 ** 53 - 1, 16384, 65535));
const textArb = fc.oneof(fc.string({ maxLength: 24 }), fc.constantFrom('', '.', '..', '/', 'a/b', 'con', 'a\0b', '\u001b[2J', 'é', 'http://t/a', 'udp://t:1'));
/** Any bencode value, bounded. */
const bvalueArb: fc.Arbitrary<BEncodable> = fc.letrec<{ v: BEncodable }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    intArb,
    bytesArb(40),
    fc.array(tie('v'), { maxLength: 5 }),
    fc.dictionary(fc.string({ maxLength: 8 }), tie('v'), { maxKeys: 5 }),
  ),
})).v;

/** A bencoded dict with some of `fields` (each value from its arbitrary) plus random extra keys. */
function dictArb(fields: Record<string, fc.Arbitrary<BEncodable>>): fc.Arbitrary<Uint8Array> {
  return fc
    .tuple(fc.record(fields, { requiredKeys: [] }), fc.dictionary(fc.string({ maxLength: 6 }), bvalueArb, { maxKeys: 2 }), fc.oneof(fc.constant(undefined), bvalueArb))
    .map(([d, extra, swap]) => {
      const out: Record<string, BEncodable | undefined> = { ...extra, ...(d as Record<string, BEncodable>) };
      const keys = Object.keys(fields);
      if (swap !== undefined && keys.length > 0) out[keys[keys.length - 1]!] = swap; // a field of the wrong type
      return enc(out);
    });
}

const hostArb = fc.oneof(fc.ipV4(), fc.ipV6(), fc.constantFrom('0.0.0.0', '255.255.255.255', '::', '::ffff:1.2.3.4'));

// ---- bencode ------------------------------------------------------------------------------------------

const bencodeTarget: Target = {
  name: 'bencode',
  entry: 'bencode bdecode (+ a re-encode round trip)',
  maxLen: 64 * 1024,
  samples: () => [enc({ a: [1, 2, str('x')], b: { c: -3 } }), str('i-42e'), str('4:spam'), str('le'), str('d1:ad1:bl1:ceee'), enc({ info: { x: 1 }, z: [] })],
  arbitrary: bvalueArb.map((v) => enc(v)),
  run(b) {
    // The decoder is lenient about key order (as libtorrent is), so the invariant is a value round trip.
    const again = bencode(bdecode(b));
    if (Buffer.compare(Buffer.from(bencode(bdecode(again))), Buffer.from(again)) !== 0) fail('bencode(bdecode(x)) does not round-trip');
  },
  families: [
    { name: 'deep nesting (l…e)', n0: 8, make: (n) => concat(repeat(str('l'), n), repeat(str('e'), n)) },
    { name: 'many list items', n0: 2000, make: (n) => concat(str('l'), repeat(str('i1e'), n), str('e')) },
    { name: 'long string', n0: 20000, make: (n) => concat(str(`${n}:`), u8(n, 97)) },
    { name: 'many dict keys', n0: 1000, make: (n) => enc(Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${String(i).padStart(7, '0')}`, 0]))) },
  ],
};

// ---- metainfo -----------------------------------------------------------------------------------------

function torrentBytes(o: { name?: string; files?: { path: string[]; length: number }[]; length?: number; urlList?: string[]; tiers?: string[][]; pieceLength?: number }): Uint8Array {
  const pl = o.pieceLength ?? 16384;
  const total = o.files ? o.files.reduce((a, f) => a + f.length, 0) : (o.length ?? 1);
  const info: Record<string, BEncodable> = { name: o.name ?? 'n', 'piece length': pl, pieces: u8(Math.ceil(total / pl) * 20) };
  if (o.files) info['files'] = o.files.map((f) => ({ length: f.length, path: f.path }));
  else info['length'] = o.length ?? 1;
  const top: Record<string, BEncodable | undefined> = { announce: 'http://t/a', info };
  if (o.urlList) top['url-list'] = o.urlList;
  if (o.tiers) top['announce-list'] = o.tiers;
  return enc(top);
}

/** buildTorrent(parsed) must give a torrent that parses to the same info. */
function roundTrip(m: Metainfo): void {
  const i = m.info;
  if (i.files.some((f) => f.pad)) return; // buildTorrent does not write BEP 47 attrs
  if (m.version !== 1) return; // v2 and hybrid: parse-v2.test.ts checks buildTorrentV2 against the parser
  let built: Uint8Array;
  try {
    built = buildTorrent({
      name: i.name,
      files: i.singleFile ? null : i.files.map((f) => ({ path: f.path.slice(1), length: f.length })),
      length: i.totalLength,
      pieceLength: i.pieceLength,
      pieceHashes: i.pieces,
      trackers: m.announceList,
      urlList: m.urlList,
      private: i.private,
      comment: m.comment,
      createdBy: m.createdBy,
      creationDate: m.creationDate,
    });
  } catch (e) {
    if (isBtError(e)) return; // something parse accepts but build refuses: allowed
    throw e;
  }
  let m2: Metainfo;
  try {
    m2 = parseTorrent(built);
  } catch (e) {
    fail(`buildTorrent(parseTorrent(x)) does not parse: ${(e as Error).message}`);
  }
  const i2 = m2.info;
  if (i2.name !== i.name || i2.totalLength !== i.totalLength || i2.pieceCount !== i.pieceCount || i2.private !== i.private) fail('round trip changed the info');
  if (i2.files.length !== i.files.length || i2.files.some((f, k) => f.length !== i.files[k]!.length || f.path.join('/') !== i.files[k]!.path.join('/'))) fail('round trip changed the files');
}

const V2_ROOT = u8(32, 5);
const metainfoSamples = (): Uint8Array[] => [
  buildTorrentV2({ name: 'v2', version: 2, singleFile: false, pieceLength: 16384, files: [{ path: ['a'], length: 10, piecesRoot: V2_ROOT }, { path: ['d', 'e'], length: 0 }] }),
  buildTorrentV2({ name: 'h', version: 'hybrid', singleFile: false, pieceLength: 16384, pieceHashes: u8(40), files: [{ path: ['a'], length: 10, piecesRoot: V2_ROOT }, { path: ['b'], length: 20, piecesRoot: V2_ROOT }] }),
  buildTorrent({ name: 'single.bin', files: null, length: 100, pieceLength: 32, pieceHashes: u8(80), trackers: [['http://a/'], ['udp://b:1']], comment: 'x', creationDate: 1 }),
  buildTorrent({
    name: 'multi',
    files: [
      { path: ['d', 'a'], length: 7 },
      { path: ['b'], length: 0 },
      { path: ['c'], length: 40 },
    ],
    pieceLength: 16,
    pieceHashes: u8(60),
    private: true,
    urlList: ['http://w1/', 'http://w2/'],
  }),
  enc({
    info: { name: 'p', 'piece length': 16, pieces: u8(40), files: [{ length: 10, path: ['a'] }, { length: 6, path: ['.pad', '6'], attr: 'p' }, { length: 10, path: ['b'] }] },
    nodes: [['1.2.3.4', 6881]],
    'url-list': 'http://w/',
  }),
];

const metainfoArb: fc.Arbitrary<Uint8Array> = fc
  .record({
    name: textArb,
    pl: fc.constantFrom(1, 16, 16384, 0, -1, 2 ** 27, 2 ** 28),
    files: fc.option(fc.array(fc.record({ length: intArb, path: fc.array(textArb, { maxLength: 4 }) }), { maxLength: 6 })),
    length: intArb,
    tiers: fc.option(fc.array(fc.array(textArb, { maxLength: 3 }), { maxLength: 3 })),
    urls: fc.option(fc.oneof(fc.array(textArb, { maxLength: 4 }), textArb)),
    extra: fc.dictionary(fc.constantFrom('private', 'comment', 'created by', 'creation date', 'nodes', 'encoding', 'attr'), bvalueArb, { maxKeys: 3 }),
    piecesDelta: fc.integer({ min: -21, max: 21 }),
  })
  .map((r) => {
    const total = r.files ? r.files.reduce((a, f) => a + Math.max(0, f.length), 0) : Math.max(0, r.length);
    const np = r.pl > 0 ? Math.min(4000, Math.ceil(total / r.pl)) : 1;
    const info: Record<string, BEncodable> = { name: r.name, 'piece length': r.pl, pieces: u8(Math.max(0, np * 20 + (r.piecesDelta % 3 === 0 ? r.piecesDelta : 0))) };
    if (r.files) info['files'] = r.files;
    else info['length'] = r.length;
    if ('private' in r.extra) info['private'] = r.extra['private']!;
    const top: Record<string, BEncodable | undefined> = { ...r.extra, announce: 'http://t/a', info };
    if (r.tiers) top['announce-list'] = r.tiers;
    if (r.urls) top['url-list'] = r.urls;
    return enc(top);
  });

const metainfoTarget: Target = {
  name: 'metainfo',
  entry: 'metainfo parseTorrent + buildTorrent round trip',
  maxLen: 256 * 1024,
  samples: metainfoSamples,
  arbitrary: metainfoArb,
  run(b) {
    roundTrip(parseTorrent(b));
  },
  families: [
    { name: 'many files', n0: 500, make: (n) => torrentBytes({ files: Array.from({ length: n }, (_, i) => ({ path: [`f${i}`], length: 1 })) }) },
    { name: 'path components (item 1)', n0: 500, make: (n) => torrentBytes({ files: [{ path: Array.from({ length: n }, () => 'a'), length: 1 }, { path: ['b'], length: 1 }] }) },
    {
      name: '20 files x path components (item 1)',
      n0: 100,
      make: (n) => torrentBytes({ files: Array.from({ length: 20 }, (_, i) => ({ path: [...Array.from({ length: n }, () => 'a'), `f${i}`], length: 1 })) }),
    },
    { name: 'url-list entries (item 2)', n0: 300, make: (n) => torrentBytes({ urlList: Array.from({ length: n }, (_, i) => `http://w${i}.example/`) }) },
    { name: 'announce-list tiers', n0: 1000, make: (n) => torrentBytes({ tiers: Array.from({ length: n }, (_, i) => [`http://t${i}.example/a`]) }) },
    { name: 'long name', n0: 20000, make: (n) => torrentBytes({ name: 'x'.repeat(n) }) },
    {
      name: 'v2 file tree width',
      n0: 500,
      make: (n) => enc({ info: { 'file tree': Object.fromEntries(Array.from({ length: n }, (_, i) => [`f${i}`, { '': { length: 1, 'pieces root': V2_ROOT } }])), 'meta version': 2, name: 'w', 'piece length': 16384 } }),
    },
  ],
};

// ---- magnet -------------------------------------------------------------------------------------------

const HEX_IH = '07'.repeat(20);
const magnetSamples = (): Uint8Array[] => [
  str(`magnet:?xt=urn:btih:${HEX_IH}&dn=name&tr=http%3A%2F%2Ft%2Fa&tr=udp://t:1&x.pe=1.2.3.4:5&ws=http://w/&so=0,2-4`),
  str('magnet:?xt=urn:btih:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA&dn=b32'),
  str(formatMagnet({ infoHash: IH, infoHashHex: HEX_IH, displayName: 'a b', trackers: ['http://x/'], peers: ['[::1]:6881'], webSeeds: [], selectOnly: [1] })),
];
const magnetArb = fc
  .array(
    fc.tuple(
      fc.constantFrom('xt', 'dn', 'tr', 'x.pe', 'ws', 'so', 'xl', 'as', 'kt', 'XT', 'tr.1'),
      fc.oneof(textArb, fc.constantFrom(`urn:btih:${HEX_IH}`, 'urn:btih:', 'urn:btmh:1220' + '00'.repeat(32), '1-3,5', '4-2', '99999999999', '%', '%zz', '%00', '[::1]:1', '1.2.3.4:0')),
    ),
    { maxLength: 8 },
  )
  .map((ps) => str(`magnet:?${ps.map(([k, v]) => `${k}=${v}`).join('&')}`));
const magnetFamily = (name: string, param: (i: number) => string): Family => ({ name, n0: 500, make: (n) => str(`magnet:?xt=urn:btih:${HEX_IH}${Array.from({ length: n }, (_, i) => `&${param(i)}`).join('')}`) });
const magnetTarget: Target = {
  name: 'magnet',
  entry: 'metainfo parseMagnet',
  maxLen: 64 * 1024,
  samples: magnetSamples,
  arbitrary: magnetArb,
  run(b) {
    parseMagnet(latin1.decode(b));
  },
  families: [
    magnetFamily('many tr=', (i) => `tr=http://t${i}.example/a`),
    magnetFamily('many x.pe=', (i) => `x.pe=10.0.${i >> 8 & 255}.${i & 255}:6881`),
    magnetFamily('many ws=', (i) => `ws=http://w${i}.example/`),
    magnetFamily('many so= of 70,000 files', () => 'so=1-70000'),
    { name: 'long so= list', n0: 500, make: (n) => str(`magnet:?xt=urn:btih:${HEX_IH}&so=${Array.from({ length: n }, (_, i) => `${2 * i}-${2 * i + 1}`).join(',')}`) },
  ],
};

// ---- peer wire ----------------------------------------------------------------------------------------

const MSGS: Message[] = [
  { type: 'keep-alive' },
  { type: 'choke' },
  { type: 'unchoke' },
  { type: 'interested' },
  { type: 'not-interested' },
  { type: 'have', index: 5 },
  { type: 'bitfield', bits: Uint8Array.of(0xff, 0x80) },
  { type: 'request', index: 1, begin: 16384, length: 16384 },
  { type: 'piece', index: 1, begin: 0, block: u8(32, 9) },
  { type: 'cancel', index: 1, begin: 0, length: 16384 },
  { type: 'port', port: 6881 },
  { type: 'suggest', index: 3 },
  { type: 'have-all' },
  { type: 'have-none' },
  { type: 'reject', index: 1, begin: 0, length: 16384 },
  { type: 'allowed-fast', index: 2 },
  { type: 'extended', id: 0, payload: encodeExtendedHandshake({ m: { ut_metadata: 1, ut_pex: 2 }, v: 'tk', p: 6881 }) },
];
const HANDSHAKE = encodeHandshake({ reserved: Uint8Array.of(0, 0, 0, 0, 0, 0x10, 0, 5), infoHash: IH, peerId: PEER_ID });
const MAX_MSG = 16384 + 9 + 1024;

function runStream(b: Uint8Array): void {
  if (b.length === 0) return;
  const dec = new FrameDecoder({ maxMessageLength: MAX_MSG, expectHandshake: (b[0]! & 1) === 1 });
  const rng = new Prng(b.length * 31 + b[0]!);
  const body = b.subarray(1);
  const tiny = (b[0]! & 2) === 2;
  for (let o = 0; o < body.length; ) {
    const n = tiny ? 1 + rng.int(4) : 1 + rng.int(4096);
    dec.push(body.subarray(o, o + n));
    o += n;
    for (let k = 0; dec.next() !== null; k++) if (k > 1e6) fail('FrameDecoder.next() never returns null');
  }
}
const wireArb = fc
  .tuple(fc.nat(3), fc.boolean(), fc.array(fc.nat(MSGS.length - 1), { maxLength: 12 }), fc.array(fc.tuple(fc.nat(30), bytesArb(40)), { maxLength: 3 }))
  .map(([mode, hs, idx, raw]) =>
    concat(Uint8Array.of(mode | (hs ? 1 : 0)), hs ? HANDSHAKE : u8(0), ...idx.map((i) => encodeMessage(MSGS[i]!)), ...raw.map(([id, p]) => concat(Uint8Array.of(0, 0, 0, p.length + 1, id), p))),
  );
const streamOf = (mode: number, parts: Uint8Array[]): Uint8Array => concat(Uint8Array.of(mode), ...parts);
const wireStreamTarget: Target = {
  name: 'wire-stream',
  entry: 'wire FrameDecoder (BEP 3 handshake + framing + every message)',
  maxLen: 128 * 1024,
  samples: () => [streamOf(1, [HANDSHAKE, ...MSGS.map(encodeMessage)]), streamOf(0, MSGS.map(encodeMessage)), streamOf(3, [HANDSHAKE, encodeMessage(MSGS[8]!)])],
  arbitrary: wireArb,
  run: runStream,
  families: [
    { name: 'many have messages', n0: 2000, make: (n) => streamOf(0, [repeat(encodeMessage({ type: 'have', index: 1 }), n)]) },
    { name: 'one frame in 1-4 byte chunks', n0: 2048, make: (n) => streamOf(2, [encodeMessage({ type: 'piece', index: 0, begin: 0, block: u8(n) })]) },
    { name: 'many keep-alives', n0: 4000, make: (n) => streamOf(0, [u8(4 * n)]) },
  ],
};

const wireMessageTarget: Target = {
  name: 'wire-message',
  entry: 'wire decodeMessage (id, payload) for every id',
  maxLen: MAX_MSG,
  samples: () => MSGS.filter((m) => m.type !== 'keep-alive').map((m) => encodeMessage(m).subarray(4)),
  arbitrary: fc.tuple(fc.nat(30), bytesArb(64)).map(([id, p]) => concat(Uint8Array.of(id), p)),
  run(b) {
    if (b.length === 0) return;
    decodeMessage(b[0]!, b.subarray(1));
  },
  families: [
    { name: 'bitfield payload', n0: 1024, make: (n) => concat(Uint8Array.of(5), u8(n, 0xff)) },
    { name: 'piece block', n0: 2048, make: (n) => concat(Uint8Array.of(7), u8(8), u8(n)) },
  ],
};

const hashMessageTarget: Target = {
  name: 'wire-hash-message',
  entry: 'wire decodeHashMessage (BEP 52 hash request 21, hashes 22, hash reject 23)',
  maxLen: 64 * 1024,
  samples: () => {
    const f = { piecesRoot: u8(32, 9), baseLayer: 1, index: 4, length: 4, proofLayers: 2 };
    return [
      encodeHashMessage({ type: 'hash-request', ...f }).subarray(4),
      encodeHashMessage({ type: 'hash-reject', ...f }).subarray(4),
      encodeHashMessage({ type: 'hashes', ...f, hashes: u8(6 * 32, 3) }).subarray(4),
    ];
  },
  arbitrary: fc.tuple(fc.integer({ min: 21, max: 23 }), bytesArb(48), bytesArb(200)).map(([id, h, rest]) => concat(Uint8Array.of(id), h, rest)),
  run(b) {
    if (b.length === 0) return;
    if (isHashMessageId(b[0]!)) decodeHashMessage(b[0]!, b.subarray(1));
    else decodeMessage(b[0]!, b.subarray(1));
  },
  families: [{ name: 'hashes payload', n0: 2048, make: (n) => concat(Uint8Array.of(22), u8(32, 1), Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x20, 0, 0, 0, 0, 0), u8(n)) }],
};

const extendedTarget: Target = {
  name: 'extended-handshake',
  entry: 'wire decodeExtendedHandshake (BEP 10)',
  maxLen: 64 * 1024,
  samples: () => [
    encodeExtendedHandshake({ m: { ut_metadata: 1, ut_pex: 2 }, v: 'torrentkit', p: 6881, reqq: 250, yourip: Uint8Array.of(1, 2, 3, 4), metadata_size: 12345, upload_only: 1 }),
    encodeExtendedHandshake({ m: {}, ipv6: u8(16, 1), ipv4: u8(4, 2) }),
  ],
  arbitrary: dictArb({ m: fc.dictionary(fc.string({ maxLength: 12 }), intArb, { maxKeys: 4 }), v: textArb, p: intArb, reqq: intArb, yourip: bytesArb(17), ipv4: bytesArb(5), ipv6: bytesArb(17), metadata_size: intArb, upload_only: intArb }),
  run(b) {
    decodeExtendedHandshake(b);
  },
  families: [
    { name: 'many m entries', n0: 250, make: (n) => enc({ m: Object.fromEntries(Array.from({ length: n }, (_, i) => [`ext_${String(i).padStart(6, '0')}`, (i % 250) + 1])) }) },
    { name: 'long v', n0: 8000, make: (n) => enc({ m: {}, v: 'v'.repeat(n) }) },
  ],
};

const utMetadataTarget: Target = {
  name: 'ut-metadata',
  entry: 'wire decodeUtMetadata (BEP 9)',
  maxLen: 64 * 1024,
  samples: () => [
    encodeUtMetadata({ type: 'request', piece: 0 }),
    encodeUtMetadata({ type: 'reject', piece: 3 }),
    encodeUtMetadata({ type: 'data', piece: 0, totalSize: 40000, data: u8(16384, 1) }).subarray(0, 4000),
    encodeUtMetadata({ type: 'data', piece: 2, totalSize: 40000, data: u8(40000 - 32768, 1) }),
  ],
  arbitrary: fc
    .tuple(dictArb({ msg_type: fc.oneof(fc.nat(4), intArb), piece: intArb, total_size: intArb }), bytesArb(64))
    .map(([d, tail]) => concat(d, tail)),
  run(b) {
    decodeUtMetadata(b, (b.length & 1) === 1 ? { metadataSize: 40000 } : {});
  },
  families: [{ name: 'data payload', n0: 2000, make: (n) => concat(enc({ msg_type: 1, piece: 0, total_size: 1 << 20 }), u8(n)) }],
};

const pexArb = dictArb({ added: bytesArb(80), 'added.f': bytesArb(14), added6: bytesArb(80), 'added6.f': bytesArb(6), dropped: bytesArb(40), dropped6: bytesArb(40) });
const utPexTarget: Target = {
  name: 'ut-pex',
  entry: 'wire decodeUtPex',
  maxLen: 64 * 1024,
  samples: () => [
    encodeUtPex({ added: [{ host: '1.2.3.4', port: 6881, flags: 0x10 }, { host: '::1', port: 1, flags: 2 }], dropped: [{ host: '5.6.7.8', port: 9 }, { host: '2001:db8::1', port: 2 }] }),
    encodeUtPex({ added: [], dropped: [] }),
  ],
  arbitrary: pexArb,
  run(b) {
    decodeUtPex(b, (b.length & 1) === 1 ? { maxPeersPerFamily: 100000 } : {});
  },
  families: [
    { name: 'many added peers', n0: 1000, make: (n) => enc({ added: repeat(Uint8Array.of(10, 0, 0, 1, 0x1a, 0xe1), n), 'added.f': u8(n) }) },
    { name: 'many added6 peers', n0: 500, make: (n) => enc({ added6: repeat(concat(u8(15), Uint8Array.of(1, 0x1a, 0xe1)), n) }) },
  ],
};

// ---- MSE ----------------------------------------------------------------------------------------------

const SEED_A = 11;
const SEED_B = 22;
const skeys = new SkeyIndex([IH]);
function mseTranscript(): { aToB: Uint8Array; bToA: Uint8Array } {
  const toB: Uint8Array[] = [];
  const toA: Uint8Array[] = [];
  const a = new MseInitiator({ policy: MSE_PREFER_RC4, random: new SeededRandom(SEED_A), send: (x) => toB.push(x.slice()), infoHash: IH, initialPayload: HANDSHAKE });
  const b = new MseReceiver({ policy: MSE_PREFER_RC4, random: new SeededRandom(SEED_B), send: (x) => toA.push(x.slice()), resolveSkey: (h) => skeys.resolve(h) });
  a.start();
  let ai = 0;
  let bi = 0;
  for (let k = 0; k < 20 && !(a.done && b.done); k++) {
    while (ai < toB.length && !b.done) b.receive(toB[ai++]!);
    while (bi < toA.length && !a.done) a.receive(toA[bi++]!);
  }
  if (!a.done || !b.done) throw new Error('fuzz setup: MSE pair did not complete');
  return { aToB: concat(...toB), bToA: concat(...toA) };
}
let transcript: { aToB: Uint8Array; bToA: Uint8Array } | undefined;
const getTranscript = (): { aToB: Uint8Array; bToA: Uint8Array } => (transcript ??= mseTranscript());

/** Feed in chunks chosen by the input's first byte (whole, or 1..64-byte pieces). */
function feedChunks(b: Uint8Array, feed: (x: Uint8Array) => void): void {
  const mode = b[0] ?? 0;
  const body = b.subarray(1);
  const rng = new Prng(mode + body.length);
  for (let o = 0; o < body.length; ) {
    const n = mode < 128 ? body.length : 1 + rng.int(64);
    feed(body.subarray(o, o + n));
    o += n;
  }
}
/**
 * The DH key pair a machine seeded with `seed` draws, with computeSecret memoised by the peer key's bytes: a
 * pure function of those bytes, and most inputs keep the transcript's key (mutations mostly hit the later,
 * encrypted fields), so an input costs no modular exponentiation unless its key is new. An invalid key is
 * never cached (parsePublicKey refuses it each time). Bounded: cleared at 4,096 keys.
 */
class MemoKeyPair implements DhKeyAgreement {
  readonly publicKey: Uint8Array;
  private readonly inner: DhKeyPair;
  private readonly cache = new Map<string, Uint8Array>();
  hits = 0;
  misses = 0;
  constructor(seed: number) {
    this.inner = new DhKeyPair(new SeededRandom(seed));
    this.publicKey = this.inner.publicKey;
  }
  computeSecret(peer: Uint8Array): Uint8Array {
    const k = Buffer.from(peer.buffer, peer.byteOffset, peer.byteLength).toString('latin1');
    const hit = this.cache.get(k);
    if (hit) {
      this.hits++;
      return hit.slice();
    }
    this.misses++;
    const s = this.inner.computeSecret(peer);
    if (this.cache.size >= 4096) this.cache.clear();
    this.cache.set(k, s.slice());
    return s;
  }
}
const mseKeys = new Map<number, MemoKeyPair>();
/**
 * What a machine seeded with `seed` gets: the memoised key pair, and a Random in the state the real machine's
 * would be in after drawing its key pair (so PadA/PadB and everything after are the same bytes).
 */
export function mseSeeded(seed: number): { random: SeededRandom; keyPair: MemoKeyPair } {
  let keyPair = mseKeys.get(seed);
  if (!keyPair) {
    keyPair = new MemoKeyPair(seed);
    // DhKeyPair draws 20 bytes once (a redraw, probability 2^-159, would break the equivalence: check).
    const real = new SeededRandom(seed);
    new DhKeyPair(real);
    if (Buffer.compare(real.bytes(32), skipKey(new SeededRandom(seed)).bytes(32)) !== 0) throw new Error('fuzz setup: DhKeyPair did not draw exactly 20 bytes');
    mseKeys.set(seed, keyPair);
  }
  return { random: skipKey(new SeededRandom(seed)), keyPair };
}
function skipKey(r: SeededRandom): SeededRandom {
  r.bytes(DH_PRIVATE_KEY_BYTES);
  return r;
}
/**
 * Feed one input to a machine of `role` (seeded as in the transcript); `memo`: with the memoised key pair (what
 * the targets run) or a real DhKeyPair drawn from the Random (what the engine does). Returns what the machine
 * sent and how it ended, so a test can check the two agree; throws what the machine throws.
 */
export function mseRun(role: 'receiver' | 'initiator', b: Uint8Array, memo: boolean): string {
  const sent: Uint8Array[] = [];
  const send = (x: Uint8Array): void => void sent.push(x.slice());
  const seeded = memo ? mseSeeded(role === 'receiver' ? SEED_B : SEED_A) : { random: new SeededRandom(role === 'receiver' ? SEED_B : SEED_A) };
  const m =
    role === 'receiver'
      ? new MseReceiver({ policy: MSE_PREFER_RC4, ...seeded, send, resolveSkey: (h) => skeys.resolve(h) })
      : new MseInitiator({ policy: MSE_PREFER_RC4, ...seeded, send, infoHash: IH, initialPayload: HANDSHAKE });
  if (m instanceof MseInitiator) m.start();
  feedChunks(b, (x) => {
    if (!m.done) m.receive(x);
  });
  return `${m.done ? 'done' : m.failed ? 'failed' : 'waiting'} ${m.error?.code ?? ''} ${Buffer.from(concat(...sent)).toString('hex')}`;
}
const mseFamilies: Family[] = [{ name: 'bytes after the key in 1-64 byte chunks', n0: 64, make: (n) => concat(Uint8Array.of(200), new Prng(n).bytes(96 + n)) }];
const mseReceiverTarget: Target = {
  name: 'mse-receiver',
  entry: 'mse MseReceiver.receive (state machine, random and mutated initiator transcripts)',
  maxLen: 4096,
  costly: 4,
  samples: () => [concat(Uint8Array.of(0), getTranscript().aToB), concat(Uint8Array.of(200), getTranscript().aToB)],
  run(b) {
    mseRun('receiver', b, true);
  },
  families: mseFamilies,
};
const mseInitiatorTarget: Target = {
  name: 'mse-initiator',
  entry: 'mse MseInitiator.start + receive (random and mutated receiver transcripts)',
  maxLen: 4096,
  costly: 4,
  samples: () => [concat(Uint8Array.of(0), getTranscript().bToA), concat(Uint8Array.of(200), getTranscript().bToA)],
  run(b) {
    mseRun('initiator', b, true);
  },
  families: mseFamilies,
};

// ---- DHT KRPC -----------------------------------------------------------------------------------------

const ID = u8(20, 3);
const node = (i: number): { id: Uint8Array; host: string; port: number } => ({ id: u8(20, i & 255), host: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, port: 6881 });
const krpcTarget: Target = {
  name: 'krpc',
  entry: 'dht decodeKrpc',
  maxLen: 4096,
  samples: () => [
    encodeQuery(str('aa'), { q: 'ping', id: ID }),
    encodeQuery(str('ab'), { q: 'find_node', id: ID, target: IH, want: ['n4', 'n6'] }),
    encodeQuery(str('ac'), { q: 'get_peers', id: ID, infoHash: IH }),
    encodeQuery(str('ad'), { q: 'announce_peer', id: ID, infoHash: IH, port: 6881, token: str('tok'), impliedPort: true, seed: true }),
    encodeResponse(str('ae'), { id: ID, nodes: [node(1), node(2)], nodes6: [{ id: ID, host: '2001:db8::1', port: 1 }], values: [{ host: '1.2.3.4', port: 5 }], token: str('t') }),
    encodeError(str('af'), 201, 'A Generic Error Ocurred'),
  ],
  arbitrary: fc
    .record({
      t: bytesArb(4),
      y: fc.constantFrom('q', 'r', 'e', 'x', ''),
      q: fc.constantFrom('ping', 'find_node', 'get_peers', 'announce_peer', 'vote'),
      a: fc.record({ id: bytesArb(21), target: bytesArb(21), info_hash: bytesArb(21), port: intArb, token: bytesArb(70), implied_port: intArb, want: fc.array(textArb, { maxLength: 9 }) }, { requiredKeys: [] }),
      r: fc.record({ id: bytesArb(21), nodes: bytesArb(60), nodes6: bytesArb(80), values: fc.array(bytesArb(20), { maxLength: 4 }), token: bytesArb(8) }, { requiredKeys: [] }),
      e: fc.array(fc.oneof(intArb, textArb), { maxLength: 3 }),
      v: bytesArb(6),
      ip: bytesArb(19),
    }, { requiredKeys: ['t', 'y'] })
    .map((r) => enc(r as unknown as BEncodable)),
  run(b) {
    decodeKrpc(b);
  },
  families: [
    { name: 'nodes in a response', n0: 8, make: (n) => encodeResponse(str('aa'), { id: ID, nodes: Array.from({ length: n }, (_, i) => node(i)) }) },
    { name: 'values in a response', n0: 16, make: (n) => encodeResponse(str('aa'), { id: ID, values: Array.from({ length: n }, (_, i) => ({ host: `10.0.0.${i & 255}`, port: 1 + i })) }) },
  ],
};

// ---- trackers -----------------------------------------------------------------------------------------

const be32 = (v: number): Uint8Array => Uint8Array.of((v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255);
const udpAnnounce = (n: number, entry = 6): Uint8Array => concat(be32(1), be32(77), be32(1800), be32(3), be32(4), repeat(concat(u8(entry - 2, 10), Uint8Array.of(0x1a, 0xe1)), n));
const udpTrackerTarget: Target = {
  name: 'udp-tracker',
  entry: 'tracker decodeResponse (BEP 15; first byte picks IPv4 / IPv6)',
  maxLen: 4096,
  samples: () => [
    concat(u8(1), be32(0), be32(77), u8(8, 5)),
    concat(u8(1), udpAnnounce(3)),
    concat(u8(1, 1), udpAnnounce(2, 18)),
    concat(u8(1), be32(2), be32(77), be32(1), be32(2), be32(3)),
    concat(u8(1), be32(3), be32(77), str('tracker says no')),
  ],
  run(b) {
    if (b.length === 0) return;
    decodeResponse(b.subarray(1), { ipv6: (b[0]! & 1) === 1 });
  },
  families: [
    { name: 'many IPv4 peers', n0: 100, make: (n) => concat(u8(1), udpAnnounce(n)) },
    { name: 'many scrape entries', n0: 100, make: (n) => concat(u8(1), be32(2), be32(77), u8(12 * n)) },
  ],
};

const httpTrackerArb = dictArb({
  interval: intArb,
  'min interval': intArb,
  complete: intArb,
  incomplete: intArb,
  'failure reason': textArb,
  'warning message': textArb,
  'tracker id': bytesArb(8),
  peers: fc.oneof(bytesArb(30), fc.array(fc.record({ ip: fc.oneof(hostArb, textArb), port: intArb, 'peer id': bytesArb(21) }, { requiredKeys: [] }), { maxLength: 4 })),
  peers6: bytesArb(40),
  files: fc.dictionary(fc.constantFrom(latin1.decode(IH), 'x'), fc.record({ complete: intArb, downloaded: intArb, incomplete: intArb }, { requiredKeys: [] }), { maxKeys: 2 }),
});
const httpTrackerTarget: Target = {
  name: 'http-tracker',
  entry: 'tracker parseAnnounceResponse, parseScrapeResponse',
  maxLen: 64 * 1024,
  samples: () => [
    enc({ interval: 1800, 'min interval': 60, complete: 3, incomplete: 4, peers: Uint8Array.of(1, 2, 3, 4, 0x1a, 0xe1), peers6: concat(u8(16, 1), Uint8Array.of(0, 1)), 'tracker id': 'tid' }),
    enc({ interval: 10, peers: [{ ip: '1.2.3.4', port: 1, 'peer id': PEER_ID }, { ip: '::1', port: 2 }] }),
    enc({ 'failure reason': 'nope' }),
    enc({ files: { [latin1.decode(IH)]: { complete: 1, downloaded: 2, incomplete: 3 } } }),
  ],
  arbitrary: httpTrackerArb,
  run(b) {
    try {
      parseAnnounceResponse(b);
    } finally {
      parseScrapeResponse(b, IH);
    }
  },
  families: [
    { name: 'compact peers', n0: 200, make: (n) => enc({ interval: 1, peers: repeat(Uint8Array.of(10, 0, 0, 1, 0x1a, 0xe1), n) }) },
    { name: 'dict peers', n0: 200, make: (n) => enc({ interval: 1, peers: Array.from({ length: n }, (_, i) => ({ ip: `10.0.${(i >> 8) & 255}.${i & 255}`, port: 1 + i })) }) },
    { name: 'scrape files', n0: 200, make: (n) => enc({ files: Object.fromEntries(Array.from({ length: n }, (_, i) => [String(i).padStart(20, '0'), { complete: 1 }])) }) },
  ],
};

// ---- LSD ----------------------------------------------------------------------------------------------

const lsdTarget: Target = {
  name: 'lsd',
  entry: 'lsd decodeLsdAnnounce (BEP 14)',
  maxLen: 4096,
  samples: () => [encodeLsdAnnounce({ port: 6881, infoHashes: [HEX_IH, 'ab'.repeat(20)], cookie: 'c00kie' }), encodeLsdAnnounce({ port: 1, infoHashes: [HEX_IH], ipv6: true })],
  arbitrary: fc
    .tuple(fc.constantFrom('BT-SEARCH * HTTP/1.1', 'BT-SEARCH * HTTP/1.0', 'M-SEARCH * HTTP/1.1', ''), fc.array(fc.tuple(fc.constantFrom('Host', 'Port', 'Infohash', 'cookie', 'INFOHASH', 'port'), fc.oneof(textArb, fc.constantFrom(HEX_IH, '6881', '0', '65536', '-1'))), { maxLength: 6 }))
    .map(([l, hs]) => str(`${l}\r\n${hs.map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n\r\n`)),
  run(b) {
    decodeLsdAnnounce(b);
  },
  families: [
    { name: 'infohash headers', n0: 2, make: (n) => str(`BT-SEARCH * HTTP/1.1\r\nHost: 239.192.152.143:6771\r\nPort: 1\r\n${`Infohash: ${HEX_IH}\r\n`.repeat(n)}\r\n\r\n`) },
    { name: 'long header line', n0: 150, make: (n) => str(`BT-SEARCH * HTTP/1.1\r\nPort: 1\r\nX: ${'a'.repeat(n)}\r\n\r\n`) },
  ],
};

// ---- uTP ----------------------------------------------------------------------------------------------

const hdr = { connectionId: 1234, timestamp: 1, timestampDiff: 2, wndSize: 65536, seqNr: 10, ackNr: 9 };
const utpTarget: Target = {
  name: 'utp',
  entry: 'transport/utp decodePacket (BEP 29)',
  maxLen: 4096,
  samples: () => [encodePacket({ ...hdr, type: ST_SYN }), encodePacket({ ...hdr, type: ST_STATE, sack: Uint8Array.of(5, 0, 0, 1) }), encodePacket({ ...hdr, type: ST_DATA, payload: u8(100, 3) })],
  arbitrary: fc
    .tuple(fc.nat(255), fc.nat(255), bytesArb(18), fc.array(fc.tuple(fc.nat(255), bytesArb(10)), { maxLength: 4 }), bytesArb(40))
    .map(([t, e, rest, exts, payload]) => concat(Uint8Array.of(t, exts.length > 0 ? exts[0]![0] : e), rest, u8(Math.max(0, 18 - rest.length)), ...exts.map(([next, d], i) => concat(Uint8Array.of(exts[i + 1]?.[0] ?? next & 1, d.length), d)), payload)),
  run(b) {
    decodePacket(b);
  },
  families: [{ name: 'payload length', n0: 400, make: (n) => encodePacket({ ...hdr, type: ST_DATA, payload: u8(n) }) }],
};

// ---- NAT: UPnP, SSDP, NAT-PMP, PCP --------------------------------------------------------------------

const WAN = 'urn:schemas-upnp-org:service:WANIPConnection:1';
const svcXml = (i: number): string => `<service><serviceType>${WAN}</serviceType><serviceId>id${i}</serviceId><controlURL>/ctl/${i}</controlURL></service>`;
const descXml = (inner: string): string => `<?xml version="1.0"?><root xmlns="urn:schemas-upnp-org:device-1-0"><URLBase>http://192.168.1.1:5000</URLBase>${inner}</root>`;
const deviceXml = (services: string, sub = ''): string => `<device><deviceType>urn:schemas-upnp-org:device:InternetGatewayDevice:1</deviceType><serviceList>${services}</serviceList>${sub ? `<deviceList>${sub}</deviceList>` : ''}</device>`;
const nestedDevices = (n: number): string => {
  let s = deviceXml(svcXml(0));
  for (let i = 1; i < n; i++) s = deviceXml('', s);
  return s;
};
const xmlArb: fc.Arbitrary<string> = fc.letrec<{ x: string }>((tie) => ({
  x: fc.oneof(
    { depthSize: 'small' },
    textArb.map((t) => t.replace(/[<&]/g, '')),
    fc.constantFrom(WAN, '/ctl', 'http://1.2.3.4:1/', '<![CDATA[x]]>', '&amp;', '&#x41;', '<!-- c -->', '<?pi x?>', '<!DOCTYPE x [<!ENTITY a "b">]>'),
    fc.tuple(fc.constantFrom('root', 'device', 'deviceList', 'serviceList', 'service', 'serviceType', 'controlURL', 'URLBase', 's:Envelope', 's:Body', 's:Fault', 'detail', 'UPnPError', 'errorCode', 'u:GetExternalIPAddressResponse', 'NewExternalIPAddress', 'x'), fc.array(tie('x'), { maxLength: 4 })).map(([t, kids]) => `<${t}>${kids.join('')}</${t}>`),
  ),
})).x;
const upnpDescriptionTarget: Target = {
  name: 'upnp-description',
  entry: 'nat upnp parseDeviceDescription (fast-xml-parser)',
  maxLen: 128 * 1024,
  samples: () => [str(descXml(deviceXml(svcXml(1), deviceXml(svcXml(2))))), str(descXml(deviceXml('<service><serviceType>urn:schemas-upnp-org:service:WANPPPConnection:1</serviceType><controlURL>http://h/c</controlURL></service>')))],
  arbitrary: xmlArb.map((x) => str(descXml(x))),
  run(b) {
    upnp.parseDeviceDescription(utf8.decode(b), 'http://192.168.1.1:5000/desc.xml');
  },
  families: [
    { name: 'nested devices', n0: 16, make: (n) => str(descXml(nestedDevices(n))) },
    { name: 'many services', n0: 100, make: (n) => str(descXml(deviceXml(Array.from({ length: n }, (_, i) => svcXml(i)).join('')))) },
    { name: 'deep XML nesting', n0: 100, make: (n) => str(descXml(`${'<a>'.repeat(n)}x${'</a>'.repeat(n)}`)) },
  ],
};

const soap = (body: string): string => `<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>${body}</s:Body></s:Envelope>`;
const upnpSoapTarget: Target = {
  name: 'upnp-soap',
  entry: 'nat upnp parseSoapResponse, parseSoapFault',
  maxLen: 32 * 1024,
  samples: () => [
    str(soap('<u:GetExternalIPAddressResponse xmlns:u="x"><NewExternalIPAddress>1.2.3.4</NewExternalIPAddress></u:GetExternalIPAddressResponse>')),
    str(soap('<s:Fault><faultcode>s:Client</faultcode><faultstring>UPnPError</faultstring><detail><UPnPError><errorCode>718</errorCode><errorDescription>Conflict</errorDescription></UPnPError></detail></s:Fault>')),
  ],
  arbitrary: xmlArb.map((x) => str(soap(x))),
  run(b) {
    const s = utf8.decode(b);
    try {
      upnp.parseSoapResponse(s, 'GetExternalIPAddress', 200);
    } finally {
      upnp.parseSoapFault(s);
    }
  },
  families: [{ name: 'many output arguments', n0: 100, make: (n) => str(soap(`<u:GetExternalIPAddressResponse>${Array.from({ length: n }, (_, i) => `<A${i}>${i}</A${i}>`).join('')}</u:GetExternalIPAddressResponse>`)) }],
};

const ssdpTarget: Target = {
  name: 'ssdp',
  entry: 'nat upnp parseSsdpResponse',
  maxLen: 8192,
  samples: () => [str('HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=120\r\nST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\nUSN: uuid:x\r\nLOCATION: http://192.168.1.1:5000/desc.xml\r\nSERVER: x\r\n\r\n')],
  arbitrary: fc
    .tuple(fc.constantFrom('HTTP/1.1 200 OK', 'HTTP/1.0 200', 'NOTIFY * HTTP/1.1', 'HTTP/1.1 404 x'), fc.array(fc.tuple(fc.constantFrom('ST', 'LOCATION', 'USN', 'SERVER', 'st', ''), fc.oneof(textArb, fc.constantFrom('http://[::1]:1/', 'file:///etc', 'http://a:99999/'))), { maxLength: 6 }))
    .map(([l, hs]) => str(`${l}\r\n${hs.map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`)),
  run(b) {
    upnp.parseSsdpResponse(b);
  },
  families: [{ name: 'header lines', n0: 25, make: (n) => str(`HTTP/1.1 200 OK\r\n${Array.from({ length: n }, (_, i) => `X-${i}: v\r\n`).join('')}ST: a\r\nLOCATION: http://h/\r\n\r\n`) }],
};

const natpmpTarget: Target = {
  name: 'natpmp-pcp',
  entry: 'nat natpmp decodeNatPmpResponse, decodePcpResponse',
  maxLen: 1100,
  samples: () => [
    Uint8Array.of(0, 128, 0, 0, 0, 0, 0, 9, 192, 168, 1, 2),
    Uint8Array.of(0, 130, 0, 0, 0, 0, 0, 9, 0x1a, 0xe1, 0x1a, 0xe1, 0, 0, 0x1c, 0x20),
    concat(Uint8Array.of(2, 0x81, 0, 0), be32(7200), be32(9), u8(12), u8(12, 5), Uint8Array.of(6, 0, 0, 0, 0x1a, 0xe1, 0x1a, 0xe1), u8(10), Uint8Array.of(0xff, 0xff, 1, 2, 3, 4)),
    Uint8Array.of(2, 0x80, 0, 1, 0, 0, 0, 0),
  ],
  run(b) {
    natpmp.decodeNatPmpResponse(b);
    natpmp.decodePcpResponse(b);
  },
  families: [{ name: 'trailing bytes', n0: 64, make: (n) => concat(Uint8Array.of(2, 0x81, 0, 0), u8(56 + n)) }],
};

// ---- web seeds ----------------------------------------------------------------------------------------

/** A TorrentInfo from bytes: 2-byte file lengths, a path depth per file, then offset and length of the range. */
function infoFromBytes(b: Uint8Array): { info: TorrentInfo; offset: number; length: number } | undefined {
  if (b.length < 5) return undefined;
  const nFiles = 1 + (b[0]! % 64);
  const files: TorrentInfo['files'] = [];
  let total = 0;
  for (let i = 0; i < nFiles; i++) {
    const o = 5 + i * 3;
    const len = o + 1 < b.length ? (b[o]! << 8) | b[o + 1]! : 0;
    const depth = 1 + ((b[o + 2] ?? 0) % 4);
    files.push({ path: ['t', ...Array.from({ length: depth }, (_, k) => String.fromCharCode(0x20 + ((b[(o + k) % b.length]! + k) % 0x5f)) + '%/?#'.slice(0, k))], length: len, offset: total, pad: (b[o + 2] ?? 0) >= 250 });
    total += len;
  }
  if (total === 0) return undefined;
  const offset = ((b[1]! << 8) | b[2]!) % total;
  const length = 1 + (((b[3]! << 8) | b[4]!) % (total - offset));
  return { info: { name: 't', pieceLength: 16384, pieces: u8(0), pieceCount: 1, files, totalLength: total, private: false, singleFile: nFiles === 1 && (b[0]! & 64) === 64 }, offset, length };
}
function checkPlan(base: string, info: TorrentInfo, offset: number, length: number): void {
  const plan = planRanges(base, info, offset, length);
  let sum = 0;
  for (const r of plan) {
    if (r.length <= 0 || r.start < 0) fail('empty or negative range');
    if (r.url !== undefined && !r.url.startsWith(base.replace(/\/$/, ''))) fail(`URL ${r.url} is not under ${base}`);
    sum += r.length;
  }
  if (sum !== length) fail(`plan covers ${sum} bytes, asked ${length}`);
}
const BASES = ['http://ws.example/', 'http://ws.example/dir', 'https://ws.example:8443/a/b/'];
/** The growth family's input: a marker and n (the byte coding above caps a layout at 64 files). */
const MANY_FILES = 'FAMILY';
const webseedPlanTarget: Target = {
  name: 'webseed-plan',
  entry: 'webseed planRanges (BEP 19) over generated file layouts',
  maxLen: 1024,
  samples: () => [Uint8Array.of(3, 0, 10, 0, 200, 0, 100, 0, 0, 50, 1, 0, 0, 0, 2), Uint8Array.of(64, 0, 0, 1, 0, 1, 0, 0)],
  run(b) {
    if (b.length === 10 && latin1.decode(b.subarray(0, 6)) === MANY_FILES) {
      const n = ((b[6]! << 24) | (b[7]! << 16) | (b[8]! << 8) | b[9]!) >>> 0;
      const files = Array.from({ length: n }, (_, i) => ({ path: ['t', 'd', `f${i}`], length: 10, offset: 10 * i }));
      checkPlan('http://ws.example/', { name: 't', pieceLength: 16384, pieces: u8(0), pieceCount: 1, files, totalLength: 10 * n, private: false, singleFile: false }, 0, 10 * n);
      return;
    }
    const x = infoFromBytes(b);
    if (x) checkPlan(BASES[b.length % 3]!, x.info, x.offset, x.length);
  },
  families: [{ name: 'many files in one range', n0: 1000, make: (n) => concat(str(MANY_FILES), be32(n)) }],
};

/** Web seed HTTP responses: a loopback server answers each range request with the input's bytes. */
let wsServer: net.Server | undefined;
let wsPort = 0;
let wsFetcher: NodeRangeFetcher | undefined;
let wsReply: Uint8Array = new Uint8Array(0);
const httpReply = (status: string, headers: string[], body: Uint8Array): Uint8Array => concat(str(`HTTP/1.1 ${status}\r\n${headers.map((h) => `${h}\r\n`).join('')}\r\n`), body);
const webseedResponseTarget: Target = {
  name: 'webseed-response',
  entry: 'webseed createNodeRangeFetcher().fetch against a loopback server answering with the input',
  maxLen: 16 * 1024,
  costly: 8,
  async setup() {
    wsServer = net.createServer((sock) => {
      sock.on('error', () => undefined);
      let got = '';
      sock.on('data', (d) => {
        got += d.toString('latin1');
        if (got.includes('\r\n\r\n')) sock.end(wsReply);
      });
    });
    await new Promise<void>((resolve) => wsServer!.listen(0, '127.0.0.1', resolve));
    wsPort = (wsServer.address() as net.AddressInfo).port;
    wsFetcher = createNodeRangeFetcher(new NodeClock());
  },
  async teardown() {
    wsFetcher?.close();
    await new Promise<void>((resolve) => wsServer?.close(() => resolve()) ?? resolve());
  },
  samples: () => [
    httpReply('206 Partial Content', ['Content-Range: bytes 100-115/1000', 'Content-Length: 16'], u8(16, 1)),
    httpReply('200 OK', ['Content-Length: 16'], u8(16, 2)),
    httpReply('302 Found', ['Location: /elsewhere', 'Content-Length: 0'], u8(0)),
    httpReply('206 Partial Content', ['Content-Range: bytes 100-115/1000', 'Transfer-Encoding: chunked'], str('10\r\n0123456789abcdef\r\n0\r\n\r\n')),
    httpReply('404 Not Found', ['Content-Length: 3'], str('no!')),
  ],
  async run(b) {
    wsReply = b;
    const start = b.length & 1 ? 0 : 100;
    const body = await wsFetcher!.fetch(`http://127.0.0.1:${wsPort}/f`, start, 16, { timeoutMs: 3000 });
    if (body.length !== 16) fail(`fetch resolved with ${body.length} bytes, asked 16`);
  },
  families: [
    { name: 'header lines', n0: 25, make: (n) => httpReply('206 Partial Content', [...Array.from({ length: n }, (_, i) => `X-H${i}: v`), 'Content-Range: bytes 100-115/1000', 'Content-Length: 16'], u8(16)) },
  ],
};

// ---- resume data --------------------------------------------------------------------------------------

let resumeDir = '';
let resumeInfo: TorrentInfo | undefined;
let resumeSample: Uint8Array = new Uint8Array(0);
/** The input is handed to loadResume from memory (its StateFiles seam); the torrent's data files are on disk. */
const resumeFiles = new MemoryStateFiles();
const resumeTarget: Target = {
  name: 'resume',
  entry: 'storage loadResume of the input (read from memory), compared with a 3-file torrent on disk',
  maxLen: 64 * 1024,
  costly: 2,
  async setup() {
    resumeDir = mkdtempSync(path.join(tmpdir(), 'tk-fuzz-resume-'));
    resumeInfo = parseTorrent(
      buildTorrent({
        name: 'r',
        files: [
          { path: ['a'], length: 40000 },
          { path: ['d', 'b'], length: 10 },
          { path: ['c'], length: 30000 },
        ],
        pieceLength: 16384,
        pieceHashes: u8(5 * 20),
      }),
    ).info;
    await mkdir(path.join(resumeDir, 'r', 'd'), { recursive: true });
    await writeFile(path.join(resumeDir, 'r', 'a'), u8(40000));
    await writeFile(path.join(resumeDir, 'r', 'd', 'b'), u8(10));
    const have = new Bitfield(resumeInfo.pieceCount);
    have.set(0);
    have.set(3);
    const p = path.join(resumeDir, 'sample.resume');
    await saveResume(p, resumeInfo, resumeDir, have);
    resumeSample = new Uint8Array(await readFile(p));
  },
  teardown() {
    rmSync(resumeDir, { recursive: true, force: true });
  },
  samples: () => [resumeSample, str('{}'), str('{"version":1}')],
  arbitrary: fc
    .record({ version: fc.oneof(fc.constant(1), fc.jsonValue()), fingerprint: fc.oneof(fc.string(), fc.jsonValue()), pieceLength: fc.oneof(fc.constant(16384), fc.jsonValue()), totalLength: fc.oneof(fc.constant(70010), fc.jsonValue()), pieceCount: fc.oneof(fc.constant(5), fc.jsonValue()), have: fc.oneof(fc.base64String(), fc.jsonValue()), files: fc.oneof(fc.array(fc.record({ size: fc.oneof(fc.integer(), fc.jsonValue()), mtimeNs: fc.oneof(fc.stringMatching(/^\d{0,20}$/), fc.jsonValue()), racy: fc.oneof(fc.boolean(), fc.jsonValue()) }, { requiredKeys: [] }), { maxLength: 4 }), fc.jsonValue()) }, { requiredKeys: [] })
    .map((o) => str(JSON.stringify(o))),
  async run(b) {
    const p = path.join(resumeDir, 'fuzz.resume');
    resumeFiles.files.set(p, b);
    await loadResume(p, resumeInfo!, resumeDir, { files: resumeFiles });
  },
  families: [
    { name: 'long have string', n0: 10000, make: (n) => str(JSON.stringify({ ...(JSON.parse(latin1.decode(resumeSample)) as object), have: 'A'.repeat(n) })) },
    { name: 'deep JSON nesting', n0: 500, make: (n) => str(`${'['.repeat(n)}${']'.repeat(n)}`) },
    { name: 'many files entries', n0: 500, make: (n) => str(JSON.stringify({ ...(JSON.parse(latin1.decode(resumeSample)) as object), files: Array.from({ length: n }, () => ({ size: 1, mtimeNs: '1', racy: false })) })) },
  ],
};

export const TARGETS: readonly Target[] = [
  bencodeTarget,
  metainfoTarget,
  magnetTarget,
  hashMessageTarget,
  wireStreamTarget,
  wireMessageTarget,
  extendedTarget,
  utMetadataTarget,
  utPexTarget,
  mseReceiverTarget,
  mseInitiatorTarget,
  krpcTarget,
  udpTrackerTarget,
  httpTrackerTarget,
  lsdTarget,
  utpTarget,
  upnpDescriptionTarget,
  upnpSoapTarget,
  ssdpTarget,
  natpmpTarget,
  webseedPlanTarget,
  webseedResponseTarget,
  resumeTarget,
];

export function targetByName(name: string): Target | undefined {
  return TARGETS.find((t) => t.name === name);
}

