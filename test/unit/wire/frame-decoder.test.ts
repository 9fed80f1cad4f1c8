/** Incremental BEP 3 framing: fragmentation, limits, handshake in one or two steps, garbage. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isBtError } from '../../../src/core/errors.js';
import { concatBytes } from '../../../src/util/bytes.js';
import type { FrameResult, Handshake, Message } from '../../../src/wire/index.js';
import { encodeHandshake, encodeMessage, FrameDecoder, suggestedMaxMessageLength } from '../../../src/wire/index.js';
import { handshakeArb, hex, messageArb, splitAt } from './arbitraries.js';

const MAX = 1024;

function drain(d: FrameDecoder): FrameResult[] {
  const out: FrameResult[] = [];
  for (;;) {
    const r = d.next();
    if (r === null) return out;
    out.push(r);
  }
}

function wrapMessages(ms: Message[]): FrameResult[] {
  return ms.map((message) => ({ kind: 'message', message }));
}

const hs: Handshake = { reserved: hex('0000000000100005'), infoHash: new Uint8Array(20).fill(0xaa), peerId: new Uint8Array(20).fill(0x42) };

describe('FrameDecoder', () => {
  it('decodes many messages from one chunk', () => {
    const msgs: Message[] = [];
    for (let i = 0; i < 100; i++) msgs.push(i % 2 ? { type: 'have', index: i } : { type: 'request', index: i, begin: 0, length: 16384 });
    msgs.push({ type: 'keep-alive' });
    const d = new FrameDecoder({ maxMessageLength: MAX });
    d.push(concatBytes(msgs.map(encodeMessage)));
    assert.deepEqual(drain(d), wrapMessages(msgs));
    assert.equal(d.bufferedBytes, 0);
  });

  it('decodes one byte at a time, handshake first', () => {
    const msgs: Message[] = [{ type: 'bitfield', bits: hex('ff') }, { type: 'unchoke' }, { type: 'piece', index: 1, begin: 2, block: hex('010203') }];
    const all = concatBytes([encodeHandshake(hs), ...msgs.map(encodeMessage)]);
    const d = new FrameDecoder({ maxMessageLength: MAX, expectHandshake: true });
    const out: FrameResult[] = [];
    for (let i = 0; i < all.length; i++) {
      d.push(all.subarray(i, i + 1));
      out.push(...drain(d));
    }
    assert.deepEqual(out, [{ kind: 'handshake', handshake: hs }, ...wrapMessages(msgs)]);
    assert.equal(d.awaitingHandshake, false);
  });

  it('yields the same sequence for any fragmentation (property)', () => {
    fc.assert(
      fc.property(
        fc.option(handshakeArb, { nil: undefined }),
        fc.array(messageArb, { maxLength: 30 }),
        fc.array(fc.nat(), { maxLength: 40 }),
        fc.boolean(),
        (h, msgs, cuts, drainEachPush) => {
          const parts = [...(h ? [encodeHandshake(h)] : []), ...msgs.map(encodeMessage)];
          const chunks = splitAt(concatBytes(parts), cuts);
          const d = new FrameDecoder({ maxMessageLength: MAX, expectHandshake: h !== undefined });
          const out: FrameResult[] = [];
          for (const c of chunks) {
            d.push(c);
            if (drainEachPush) out.push(...drain(d));
          }
          out.push(...drain(d));
          const want: FrameResult[] = [...(h ? [{ kind: 'handshake' as const, handshake: h }] : []), ...wrapMessages(msgs)];
          assert.deepEqual(out, want);
          assert.equal(d.bufferedBytes, 0);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('returns a piece block inside one chunk as a zero-copy view, and copies one spanning chunks', () => {
    const block = new Uint8Array(16384).fill(7);
    const frame = encodeMessage({ type: 'piece', index: 3, begin: 16384, block });
    const d = new FrameDecoder({ maxMessageLength: 16384 + 9 });
    const chunk = concatBytes([encodeMessage({ type: 'choke' }), frame]);
    d.push(chunk);
    drain(d);
    d.push(chunk);
    const r = drain(d);
    const m = r[1]!;
    assert.equal(m.kind, 'message');
    if (m.kind === 'message' && m.message.type === 'piece') {
      assert.equal(m.message.block.buffer, chunk.buffer, 'zero-copy');
      assert.deepEqual(m.message.block, block);
    } else assert.fail('expected a piece');

    d.push(frame.subarray(0, 1000));
    assert.equal(d.next(), null);
    d.push(frame.subarray(1000));
    const s = d.nextMessage();
    assert.ok(s?.type === 'piece');
    assert.notEqual(s.block.buffer, frame.buffer);
    assert.deepEqual(s.block, block);
  });

  it('rejects an oversize length prefix as soon as it arrives, without buffering the frame', () => {
    const d = new FrameDecoder({ maxMessageLength: 16384 + 9 });
    d.push(hex('0000'));
    assert.equal(d.next(), null);
    d.push(hex('400a'));
    assert.throws(() => d.next(), (e) => isBtError(e, 'ERR_WIRE') && /exceeds the limit/.test((e as Error).message));
    assert.equal(d.bufferedBytes, 0);
    // The stream is out of sync: the error is sticky.
    d.push(encodeMessage({ type: 'choke' }));
    assert.throws(() => d.next(), (e) => isBtError(e, 'ERR_WIRE'));

    const huge = new FrameDecoder({ maxMessageLength: MAX });
    huge.push(hex('ffffffff 07'));
    assert.throws(() => huge.next(), (e) => isBtError(e, 'ERR_WIRE'));
  });

  it('accepts a frame of exactly maxMessageLength', () => {
    const d = new FrameDecoder({ maxMessageLength: 9 + 100 });
    d.push(encodeMessage({ type: 'piece', index: 0, begin: 0, block: new Uint8Array(100) }));
    assert.equal(d.nextMessage()?.type, 'piece');
    d.push(encodeMessage({ type: 'piece', index: 0, begin: 0, block: new Uint8Array(101) }));
    assert.throws(() => d.nextMessage(), (e) => isBtError(e, 'ERR_WIRE'));
  });

  it('reports a bad payload length but stays in sync', () => {
    const d = new FrameDecoder({ maxMessageLength: MAX });
    d.push(concatBytes([hex('00000004 06 000000'), encodeMessage({ type: 'have', index: 9 })]));
    assert.throws(() => d.next(), (e) => isBtError(e, 'ERR_WIRE') && /request/.test((e as Error).message));
    assert.deepEqual(d.nextMessage(), { type: 'have', index: 9 });
  });

  it('routes by info-hash after 48 bytes (peekHandshakeHead), then yields the full handshake', () => {
    const bytes = concatBytes([encodeHandshake(hs), encodeMessage({ type: 'have-all' })]);
    const d = new FrameDecoder({ maxMessageLength: MAX, expectHandshake: true });
    d.push(bytes.subarray(0, 47));
    assert.equal(d.peekHandshakeHead(), null);
    d.push(bytes.subarray(47, 48));
    assert.deepEqual(d.peekHandshakeHead(), { reserved: hs.reserved, infoHash: hs.infoHash });
    assert.equal(d.next(), null);
    assert.equal(d.bufferedBytes, 48);
    d.push(bytes.subarray(48));
    assert.deepEqual(d.next(), { kind: 'handshake', handshake: hs });
    assert.equal(d.peekHandshakeHead(), null);
    assert.deepEqual(d.next(), { kind: 'message', message: { type: 'have-all' } });
  });

  it('refuses a bad protocol header at the first wrong byte', () => {
    const d = new FrameDecoder({ maxMessageLength: MAX, expectHandshake: true });
    d.push(hex('13 42'));
    assert.equal(d.next(), null);
    d.push(hex('58'));
    assert.throws(() => d.next(), (e) => isBtError(e, 'ERR_HANDSHAKE'));
    assert.throws(() => d.peekHandshakeHead(), (e) => isBtError(e, 'ERR_HANDSHAKE'));

    const e2 = new FrameDecoder({ maxMessageLength: MAX, expectHandshake: true });
    e2.push(hex('00'));
    assert.throws(() => e2.next(), (e) => isBtError(e, 'ERR_HANDSHAKE'));
  });

  it('nextMessage before the handshake is an error; takeBuffered hands over the rest', () => {
    const d = new FrameDecoder({ maxMessageLength: MAX, expectHandshake: true });
    assert.throws(() => d.nextMessage(), (e) => isBtError(e, 'ERR_WIRE'));
    const d2 = new FrameDecoder({ maxMessageLength: MAX, expectHandshake: true });
    d2.push(concatBytes([encodeHandshake(hs), hex('0102')]));
    d2.push(hex('03'));
    assert.equal(d2.nextHandshake() !== null, true);
    assert.deepEqual(d2.takeBuffered(), hex('010203'));
    assert.equal(d2.bufferedBytes, 0);
  });

  it('validates maxMessageLength and suggests one', () => {
    assert.throws(() => new FrameDecoder({ maxMessageLength: 0 }), (e) => isBtError(e, 'ERR_WIRE'));
    assert.throws(() => new FrameDecoder({ maxMessageLength: 1.5 }), (e) => isBtError(e, 'ERR_WIRE'));
    assert.equal(suggestedMaxMessageLength(10), 32 * 1024);
    assert.equal(suggestedMaxMessageLength(8 * 100_000), 100_001);
  });

  it('on random garbage: only BtError, no hang, bounded buffering (property)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 600 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        fc.boolean(),
        fc.integer({ min: 1, max: 300 }),
        (garbage, cuts, expectHandshake, max) => {
          const d = new FrameDecoder({ maxMessageLength: max, expectHandshake });
          const bound = Math.max(max, 68);
          try {
            for (const c of splitAt(garbage, cuts)) {
              const before = d.bufferedBytes;
              d.push(c);
              assert.ok(d.bufferedBytes <= before + c.length);
              // Each non-null result consumes at least 4 bytes, so this loop ends.
              let guard = 0;
              while (d.next() !== null) assert.ok(++guard <= garbage.length / 4 + 1, 'decoder made no progress');
              assert.ok(d.bufferedBytes < bound, `buffered ${d.bufferedBytes} >= ${bound}`);
            }
          } catch (e) {
            assert.ok(isBtError(e, 'ERR_WIRE') || isBtError(e, 'ERR_HANDSHAKE'), `unexpected ${String(e)}`);
          }
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('garbage after a valid handshake still yields only BtError', () => {
    fc.assert(
      fc.property(handshakeArb, fc.uint8Array({ maxLength: 400 }), fc.array(fc.nat(), { maxLength: 20 }), (h, garbage, cuts) => {
        const d = new FrameDecoder({ maxMessageLength: 200, expectHandshake: true });
        let handshakes = 0;
        try {
          for (const c of splitAt(concatBytes([encodeHandshake(h), garbage]), cuts)) {
            d.push(c);
            for (let r = d.next(); r !== null; r = d.next()) if (r.kind === 'handshake') handshakes++;
          }
        } catch (e) {
          assert.ok(isBtError(e, 'ERR_WIRE'), `unexpected ${String(e)}`);
        }
        assert.equal(handshakes, 1);
      }),
    );
  });
});
