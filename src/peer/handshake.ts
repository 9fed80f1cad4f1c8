/**
 * BEP 3 handshake over a fresh Connection, for both directions. Incoming connections are routed by the
 * info-hash of the peer's handshake before we answer with ours.
 */
import type { Clock } from '../core/index.js';
import { BtError } from '../core/index.js';
import type { Connection } from '../transport/index.js';
import { equalBytes, toHex } from '../util/index.js';
import type { Handshake } from '../wire/index.js';
import { FrameDecoder, encodeHandshake } from '../wire/index.js';

export interface HandshakeResult {
  remote: Handshake;
  decoder: FrameDecoder;
}

export interface HandshakeOptions {
  clock: Clock;
  timeoutMs: number;
  reserved: Uint8Array;
  peerId: Uint8Array;
  maxMessageLength: number;
}

/** Run the handshake. For outgoing connections pass the info-hash; for incoming pass `route`, which
 *  returns our info-hash to answer with, or undefined to refuse. */
export function performHandshake(
  conn: Connection,
  opts: HandshakeOptions & ({ infoHash: Uint8Array } | { route: (infoHash: Uint8Array) => Uint8Array | undefined }),
): Promise<HandshakeResult> {
  return new Promise((resolve, reject) => {
    const decoder = new FrameDecoder({ maxMessageLength: opts.maxMessageLength, expectHandshake: true });
    let done = false;
    // Resolved: bytes that arrive before the caller takes the connection over (PeerConnection.start sets its own
    // handlers) belong to the message stream; they wait in the decoder, which goes to the caller with the result.
    let handedOver = false;
    const timer = opts.clock.setTimeout(() => fail(new BtError('ERR_TIMEOUT', 'handshake timed out', { op: 'handshake' })), opts.timeoutMs);
    const fail = (e: Error): void => {
      if (done) return;
      done = true;
      timer.cancel();
      conn.close(false);
      reject(e);
    };
    const outgoing = 'infoHash' in opts;
    if (outgoing) conn.write(encodeHandshake({ reserved: opts.reserved, infoHash: opts.infoHash, peerId: opts.peerId }));
    conn.setHandlers({
      onData: (chunk) => {
        if (handedOver) return decoder.push(chunk);
        if (done) return;
        try {
          decoder.push(chunk);
          const r = decoder.next();
          if (r === null) return;
          if (r.kind !== 'handshake') throw new BtError('ERR_HANDSHAKE', 'expected a handshake', { op: 'handshake' });
          const hs = r.handshake;
          if (outgoing) {
            if (!equalBytes(hs.infoHash, opts.infoHash)) {
              throw new BtError('ERR_HANDSHAKE', `peer answered with another info-hash ${toHex(hs.infoHash)}`, { op: 'handshake' });
            }
          } else {
            const ours = opts.route(hs.infoHash);
            if (!ours) throw new BtError('ERR_HANDSHAKE', `unknown info-hash ${toHex(hs.infoHash)}`, { op: 'handshake' });
            conn.write(encodeHandshake({ reserved: opts.reserved, infoHash: ours, peerId: opts.peerId }));
          }
          done = true;
          handedOver = true;
          timer.cancel();
          resolve({ remote: hs, decoder });
        } catch (e) {
          fail(e instanceof Error ? e : new BtError('ERR_HANDSHAKE', String(e), { op: 'handshake' }));
        }
      },
      onDrain: () => {},
      onClose: (err) => fail(new BtError('ERR_CLOSED', `closed during handshake${err ? `: ${err.message}` : ''}`, { op: 'handshake', cause: err })),
    });
  });
}
