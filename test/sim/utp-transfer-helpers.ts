/** Bulk transfer both ways over a SimNet, with byte-exact verification as data arrives. */
import assert from 'node:assert/strict';
import type { UtpConnection } from '../../src/transport/utp/index.js';
import { patternBytes, type SimNet, type SimNode } from './utp-sim-net.js';

export interface Side {
  conn: UtpConnection | undefined;
  received: number;
  sent: number;
  mismatch: string | undefined;
  closed: boolean;
  closeErr: Error | undefined;
}

/** Attach a writer (pushes `payload` with backpressure) and a checker (compares with `expect`) to a connection. */
export function attach(side: Side, conn: UtpConnection, payload: Uint8Array, expect: Uint8Array, chunk = 64 * 1024): void {
  side.conn = conn;
  const pump = (): void => {
    while (side.sent < payload.length) {
      const n = Math.min(chunk, payload.length - side.sent);
      const ok = conn.write(payload.subarray(side.sent, side.sent + n));
      side.sent += n;
      if (!ok) return;
    }
  };
  conn.setHandlers({
    onData: (c) => {
      if (side.mismatch) return;
      const want = expect.subarray(side.received, side.received + c.length);
      if (want.length !== c.length || Buffer.compare(Buffer.from(want.buffer, want.byteOffset, want.length), Buffer.from(c.buffer, c.byteOffset, c.length)) !== 0) {
        side.mismatch = `bytes differ in [${side.received}, ${side.received + c.length})`;
      }
      side.received += c.length;
    },
    onDrain: pump,
    onClose: (err) => {
      side.closed = true;
      side.closeErr = err;
    },
  });
  pump();
}

export function newSide(): Side {
  return { conn: undefined, received: 0, sent: 0, mismatch: undefined, closed: false, closeErr: undefined };
}

export interface TransferResult {
  virtualMs: number;
  a: Side;
  b: Side;
}

/** a dials b; both send `size` bytes; returns when both received everything (or the time limit). */
export function transferBothWays(net: SimNet, a: SimNode, b: SimNode, size: number, maxVirtualMs: number, onConnA?: (c: UtpConnection) => void): TransferResult {
  const pa = patternBytes(size, 1);
  const pb = patternBytes(size, 2);
  const sa = newSide();
  const sb = newSide();
  b.socket.onAccept = (c) => attach(sb, c, pb, pa);
  const ca = a.socket.connect(b.host, b.port);
  onConnA?.(ca);
  attach(sa, ca, pa, pb);
  const virtualMs = net.run(() => (sa.received >= size && sb.received >= size) || !!sa.mismatch || !!sb.mismatch, maxVirtualMs);
  assert.equal(sa.mismatch, undefined, 'a received bytes identical to what b sent');
  assert.equal(sb.mismatch, undefined, 'b received bytes identical to what a sent');
  return { virtualMs, a: sa, b: sb };
}
