/** Peer wire message codec: BEP 3/5/6/10 vectors, round trips and payload length checks. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isBtError } from '../../../src/core/errors.js';
import type { Message } from '../../../src/wire/index.js';
import { decodeMessage, encodeMessage, encodePieceHeader, encodeRequest, MessageId, readU32 } from '../../../src/wire/index.js';
import { hex, messageArb } from './arbitraries.js';

/** Decode a complete frame produced by encodeMessage. */
function decodeFrame(frame: Uint8Array): Message {
  const len = readU32(frame, 0);
  assert.equal(len, frame.length - 4, 'length prefix covers the rest of the frame');
  if (len === 0) return { type: 'keep-alive' };
  return decodeMessage(frame[4]!, frame.subarray(5));
}

describe('encodeMessage: known vectors', () => {
  const vectors: [Message, string][] = [
    [{ type: 'keep-alive' }, '00000000'],
    [{ type: 'choke' }, '00000001 00'],
    [{ type: 'unchoke' }, '00000001 01'],
    [{ type: 'interested' }, '00000001 02'],
    [{ type: 'not-interested' }, '00000001 03'],
    [{ type: 'have', index: 0x01020304 }, '00000005 04 01020304'],
    [{ type: 'bitfield', bits: hex('ff80') }, '00000003 05 ff80'],
    [{ type: 'request', index: 1, begin: 0x4000, length: 0x4000 }, '0000000d 06 00000001 00004000 00004000'],
    [{ type: 'piece', index: 2, begin: 0, block: hex('aabbcc') }, '0000000c 07 00000002 00000000 aabbcc'],
    [{ type: 'cancel', index: 1, begin: 0x4000, length: 0x4000 }, '0000000d 08 00000001 00004000 00004000'],
    [{ type: 'port', port: 6881 }, '00000003 09 1ae1'],
    [{ type: 'suggest', index: 7 }, '00000005 0d 00000007'],
    [{ type: 'have-all' }, '00000001 0e'],
    [{ type: 'have-none' }, '00000001 0f'],
    [{ type: 'reject', index: 3, begin: 0x8000, length: 0x4000 }, '0000000d 10 00000003 00008000 00004000'],
    [{ type: 'allowed-fast', index: 0xffffffff }, '00000005 11 ffffffff'],
    [{ type: 'extended', id: 0, payload: hex('6465') }, '00000004 14 00 6465'],
    [{ type: 'extended', id: 3, payload: new Uint8Array(0) }, '00000002 14 03'],
    [{ type: 'unknown', id: 0xc8, payload: hex('0102') }, '00000003 c8 0102'],
  ];
  for (const [msg, bytes] of vectors) {
    it(`${msg.type} → ${bytes}`, () => {
      const frame = encodeMessage(msg);
      assert.deepEqual(frame, hex(bytes));
      assert.deepEqual(decodeFrame(frame), msg);
    });
  }

  it('encodeRequest matches the spec vector', () => {
    assert.deepEqual(encodeRequest(1, 0x4000, 0x4000), hex('00 00 00 0d 06 00 00 00 01 00 00 40 00 00 00 40 00'));
  });

  it('encodePieceHeader is the first 13 bytes of the piece frame', () => {
    const h = encodePieceHeader(1, 0x4000, 0x4000);
    assert.deepEqual(h, hex('00004009 07 00000001 00004000'));
    const block = new Uint8Array(0x4000).fill(9);
    const full = encodeMessage({ type: 'piece', index: 1, begin: 0x4000, block });
    assert.deepEqual(full.subarray(0, 13), h);
    assert.deepEqual(full.subarray(13), block);
  });

  it('rejects out-of-range numbers on encode', () => {
    const bad: Message[] = [
      { type: 'have', index: -1 },
      { type: 'have', index: 2 ** 32 },
      { type: 'request', index: 0, begin: 1.5, length: 1 },
      { type: 'port', port: 65536 },
      { type: 'extended', id: 256, payload: new Uint8Array(0) },
      { type: 'unknown', id: -1, payload: new Uint8Array(0) },
    ];
    for (const m of bad) assert.throws(() => encodeMessage(m), (e) => isBtError(e, 'ERR_WIRE'), JSON.stringify(m));
    assert.throws(() => encodeRequest(0, 0, -1), (e) => isBtError(e, 'ERR_WIRE'));
    assert.throws(() => encodePieceHeader(0, 0, -1), (e) => isBtError(e, 'ERR_WIRE'));
  });
});

describe('decodeMessage', () => {
  it('round-trips every message type (property)', () => {
    fc.assert(
      fc.property(messageArb, (msg) => {
        assert.deepEqual(decodeFrame(encodeMessage(msg)), msg);
      }),
      { numRuns: 2000 },
    );
  });

  it('returns views (zero-copy) for piece blocks', () => {
    const frame = encodeMessage({ type: 'piece', index: 0, begin: 0, block: new Uint8Array(64).fill(1) });
    const m = decodeMessage(7, frame.subarray(5));
    assert.equal(m.type, 'piece');
    if (m.type === 'piece') assert.equal(m.block.buffer, frame.buffer);
  });

  it('rejects wrong payload lengths with ERR_WIRE', () => {
    const want: Record<number, number> = {
      [MessageId.choke]: 0,
      [MessageId.unchoke]: 0,
      [MessageId.interested]: 0,
      [MessageId['not-interested']]: 0,
      [MessageId.have]: 4,
      [MessageId.request]: 12,
      [MessageId.cancel]: 12,
      [MessageId.port]: 2,
      [MessageId.suggest]: 4,
      [MessageId['have-all']]: 0,
      [MessageId['have-none']]: 0,
      [MessageId.reject]: 12,
      [MessageId['allowed-fast']]: 4,
    };
    for (const [id, n] of Object.entries(want)) {
      for (const len of [0, 1, 2, 3, 4, 5, 8, 11, 12, 13, 16]) {
        const p = new Uint8Array(len);
        if (len === n) assert.doesNotThrow(() => decodeMessage(Number(id), p));
        else {
          assert.throws(
            () => decodeMessage(Number(id), p),
            (e) => isBtError(e, 'ERR_WIRE') && /payload must be/.test((e as Error).message),
            `id ${id} with ${len} bytes`,
          );
        }
      }
    }
    for (const len of [0, 7]) assert.throws(() => decodeMessage(MessageId.piece, new Uint8Array(len)), (e) => isBtError(e, 'ERR_WIRE'));
    assert.throws(() => decodeMessage(MessageId.extended, new Uint8Array(0)), (e) => isBtError(e, 'ERR_WIRE'));
    assert.deepEqual(decodeMessage(MessageId.piece, new Uint8Array(8)), { type: 'piece', index: 0, begin: 0, block: new Uint8Array(0) });
    assert.deepEqual(decodeMessage(MessageId.bitfield, new Uint8Array(0)), { type: 'bitfield', bits: new Uint8Array(0) });
  });

  it('maps unknown ids to { type: "unknown" }', () => {
    for (const id of [10, 11, 12, 0x12, 19, 21, 255]) {
      assert.deepEqual(decodeMessage(id, hex('abcd')), { type: 'unknown', id, payload: hex('abcd') });
    }
  });

  it('only ever throws BtError ERR_WIRE on arbitrary input', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 20 }), (id, p) => {
        try {
          decodeMessage(id, p);
        } catch (e) {
          assert.ok(isBtError(e, 'ERR_WIRE'));
        }
      }),
    );
  });
});
