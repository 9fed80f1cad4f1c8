/**
 * A hostile seeder, written with raw node:net Buffers (no project code): it accepts connections, answers
 * the BitTorrent handshake for one info-hash, claims every piece (bitfield), unchokes, and answers every
 * request with a block of the requested length whose bytes are garbage. Used to check that the engine
 * detects the corrupt pieces (hash-failed) and bans the peer.
 */
import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { createHash, randomBytes } from 'node:crypto';

const PSTR = Buffer.from('BitTorrent protocol', 'latin1');
const HANDSHAKE_LEN = 68;
const MAX_MESSAGE = 1 << 20;

export interface BadPeerStats {
  connections: number;
  handshakes: number;
  requests: number;
  bytesServed: number;
  /** Connections that were closed by the other side. */
  closedByRemote: number;
}

export interface BadPeer {
  port: number;
  /** "127.0.0.1:port", as the engine will name this peer. */
  address: string;
  stats: BadPeerStats;
  close(): Promise<void>;
}

function msg(id: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(payload.length + 1, 0);
  head[4] = id;
  return Buffer.concat([head, payload]);
}

/**
 * Start the hostile seeder on 127.0.0.1 (port 0: any). `infoHash` is 40 hex characters; `pieces` is the
 * torrent's piece count (for the bitfield).
 */
export async function startBadPeer(infoHash: string, pieces: number, port = 0): Promise<BadPeer> {
  const ih = Buffer.from(infoHash, 'hex');
  if (ih.length !== 20) throw new Error(`bad info-hash ${infoHash}`);
  const peerId = Buffer.concat([Buffer.from('-XX0001-', 'latin1'), createHash('sha1').update(randomBytes(8)).digest().subarray(0, 12)]);
  const stats: BadPeerStats = { connections: 0, handshakes: 0, requests: 0, bytesServed: 0, closedByRemote: 0 };
  const sockets = new Set<Socket>();
  const bitfield = Buffer.alloc(Math.ceil(pieces / 8));
  for (let i = 0; i < pieces; i++) bitfield[i >> 3]! |= 0x80 >> (i & 7);

  const onSocket = (sock: Socket): void => {
    stats.connections++;
    sockets.add(sock);
    sock.setNoDelay(true);
    let buf: Buffer = Buffer.alloc(0);
    let shook = false;
    let closing = false;
    const bail = (): void => {
      closing = true;
      sock.destroy();
    };
    sock.on('data', (chunk: Buffer) => {
      if (closing) return;
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      if (!shook) {
        if (buf.length < HANDSHAKE_LEN) return;
        if (buf[0] !== 19 || !buf.subarray(1, 20).equals(PSTR) || !buf.subarray(28, 48).equals(ih)) return bail();
        shook = true;
        stats.handshakes++;
        buf = buf.subarray(HANDSHAKE_LEN);
        // Handshake (no extensions), then "I have everything" and unchoke.
        sock.write(Buffer.concat([Buffer.from([19]), PSTR, Buffer.alloc(8), ih, peerId]));
        sock.write(Buffer.concat([msg(5, bitfield), msg(1)]));
      }
      while (buf.length >= 4) {
        const len = buf.readUInt32BE(0);
        if (len > MAX_MESSAGE) return bail();
        if (buf.length < 4 + len) break;
        const id = len > 0 ? buf[4] : -1;
        const body = buf.subarray(5, 4 + len);
        buf = buf.subarray(4 + len);
        if (id === 2) {
          sock.write(msg(1)); // interested -> unchoke (again)
        } else if (id === 6 && body.length === 12) {
          const index = body.readUInt32BE(0);
          const begin = body.readUInt32BE(4);
          const length = body.readUInt32BE(8);
          if (length === 0 || length > 128 * 1024) return bail();
          stats.requests++;
          stats.bytesServed += length;
          const head = Buffer.alloc(8);
          head.writeUInt32BE(index, 0);
          head.writeUInt32BE(begin, 4);
          sock.write(msg(7, Buffer.concat([head, randomBytes(length)]))); // garbage where the data should be
        }
        // keep-alive, choke, have, bitfield, cancel, extended ...: ignored
      }
    });
    sock.on('error', () => undefined);
    sock.on('close', () => {
      if (!closing) stats.closedByRemote++;
      sockets.delete(sock);
    });
  };

  const server: Server = createServer(onSocket);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port }, resolve);
  });
  const addr = server.address();
  const boundPort = typeof addr === 'object' && addr ? addr.port : port;
  return {
    port: boundPort,
    address: `127.0.0.1:${boundPort}`,
    stats,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
