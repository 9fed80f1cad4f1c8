/**
 * Encryption policy for peer connections (MSE/PE, see src/mse): one ordered preference, as MonoTorrent's
 * EngineSettings.AllowedEncryption. Outgoing connections try the kinds in order and fall back to the next on
 * failure (reconnecting, since a peer that refuses has usually hung up); incoming connections are told
 * plaintext from MSE by their first bytes and accepted when the policy allows that kind.
 *
 *   'rc4-full'   MSE handshake, then the whole stream RC4-encrypted (crypto_select 0x02)
 *   'rc4-header' MSE handshake (which hides the info-hash), then plaintext (crypto_select 0x01)
 *   'plaintext'  a plain BitTorrent handshake, no MSE
 */
import type { Clock, Random } from '../core/index.js';
import { BtError } from '../core/index.js';
import { EncryptedConnection, detectIncoming, mseIncoming, mseOutgoing } from '../mse/index.js';
import type { MseMethod, MsePolicy } from '../mse/index.js';
import type { Connection, Transport } from '../transport/index.js';
import type { HandshakeOptions, HandshakeResult } from './handshake.js';
import { performHandshake } from './handshake.js';

export type EncryptionType = 'rc4-full' | 'rc4-header' | 'plaintext';
/** What a connection ended up with. */
export type ConnectionEncryption = 'rc4' | 'header' | 'none';

export const ENCRYPTION_TYPES: readonly EncryptionType[] = ['rc4-full', 'rc4-header', 'plaintext'];

/** The CLI's names: plaintext only; prefer encryption (then plaintext); require encryption. */
export function encryptionPreset(name: 'plaintext' | 'prefer' | 'require', level: 'full' | 'header' | 'both' = 'both'): EncryptionType[] {
  const mse: EncryptionType[] = level === 'full' ? ['rc4-full'] : level === 'header' ? ['rc4-header'] : ['rc4-full', 'rc4-header'];
  if (name === 'plaintext') return ['plaintext'];
  if (name === 'require') return mse;
  return [...mse, 'plaintext'];
}

/** The MSE methods the preference allows, in its order ('rc4-header' is MSE's 'plaintext' method). */
export function msePolicyFor(prefs: readonly EncryptionType[]): MsePolicy | undefined {
  const methods: MseMethod[] = [];
  for (const p of prefs) {
    if (p === 'rc4-full') methods.push('rc4');
    else if (p === 'rc4-header') methods.push('plaintext');
  }
  return methods.length > 0 ? { methods } : undefined;
}

function outcome(method: MseMethod): ConnectionEncryption {
  return method === 'rc4' ? 'rc4' : 'header';
}

export interface SecureHandshakeResult extends HandshakeResult {
  conn: Connection;
  encryption: ConnectionEncryption;
}

export interface OutgoingOptions extends HandshakeOptions {
  transport: Transport;
  host: string;
  port: number;
  infoHash: Uint8Array;
  prefs: readonly EncryptionType[];
  random: Random;
  connectTimeoutMs: number;
  signal?: AbortSignal;
}

/**
 * Dial and handshake, trying the allowed kinds in preference order: an attempt that fails after the TCP/uTP
 * connection was made (the peer hung up, timed out, or refused the method) is retried with the next kind on a
 * new connection. A failure to connect at all is not retried (the peer is not there).
 */
export async function dialAndHandshake(o: OutgoingOptions): Promise<SecureHandshakeResult> {
  const mse = msePolicyFor(o.prefs);
  // MSE kinds are tried as one attempt (the handshake negotiates among them); plaintext is the other.
  const attempts: ('mse' | 'plaintext')[] = [];
  for (const p of o.prefs) {
    const a = p === 'plaintext' ? 'plaintext' : 'mse';
    if (!attempts.includes(a)) attempts.push(a);
  }
  if (attempts.length === 0) throw new BtError('ERR_SETTINGS', 'no encryption kind allowed', { op: 'settings', field: 'encryption' });
  const errors: string[] = [];
  for (const a of attempts) {
    const raw = await o.transport.dial(o.host, o.port, { signal: o.signal, timeoutMs: o.connectTimeoutMs });
    // An abort during the handshake closes the connection (the handshake then fails); removed when the attempt ends.
    const onAbort = (): void => raw.close(false);
    if (o.signal?.aborted) raw.close(false);
    o.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      if (a === 'plaintext') {
        const r = await performHandshake(raw, o);
        return { ...r, conn: raw, encryption: 'none' };
      }
      const m = await mseOutgoing(raw, { clock: o.clock, timeoutMs: o.timeoutMs, infoHash: o.infoHash, policy: mse!, random: o.random, signal: o.signal });
      const r = await performHandshake(m.conn, o);
      return { ...r, conn: m.conn, encryption: outcome(m.method) };
    } catch (e) {
      raw.close(false);
      errors.push(`${a === 'mse' ? 'encrypted' : 'plaintext'}: ${(e as Error).message}`);
      if (o.signal?.aborted) break;
    } finally {
      o.signal?.removeEventListener('abort', onAbort);
    }
  }
  throw new BtError('ERR_HANDSHAKE', `peer refused every allowed connection kind (${errors.join('; ')})`, { op: 'handshake' });
}

export interface IncomingOptions extends HandshakeOptions {
  prefs: readonly EncryptionType[];
  random: Random;
  clock: Clock;
  /** The torrent an info-hash names (SKEY for MSE, then the handshake), if we serve it. */
  resolveSkey: (req2: Uint8Array) => Uint8Array | undefined;
  route: (infoHash: Uint8Array) => Uint8Array | undefined;
}

/** Tell plaintext from MSE by the first bytes, accept what the policy allows, then the BitTorrent handshake. */
export async function acceptAndHandshake(conn: Connection, o: IncomingOptions): Promise<SecureHandshakeResult> {
  const det = await detectIncoming(conn, { clock: o.clock, timeoutMs: o.timeoutMs });
  if (!det.encrypted) {
    if (!o.prefs.includes('plaintext')) {
      conn.close(false);
      throw new BtError('ERR_HANDSHAKE', 'plaintext connection refused: encryption is required', { op: 'handshake' });
    }
    const r = await performHandshake(det.conn, o);
    return { ...r, conn: det.conn, encryption: 'none' };
  }
  const policy = msePolicyFor(o.prefs);
  if (!policy) {
    conn.close(false);
    throw new BtError('ERR_HANDSHAKE', 'encrypted connection refused: encryption is disabled', { op: 'handshake' });
  }
  const m = await mseIncoming(det.conn, { clock: o.clock, timeoutMs: o.timeoutMs, resolveSkey: o.resolveSkey, policy, random: o.random });
  // The initiator's IA (normally its BitTorrent handshake) comes first, then whatever followed it.
  const replay = m.initialPayload.length > 0 ? new EncryptedConnection(m.conn, { method: 'plaintext', leftover: m.initialPayload }) : m.conn;
  const skeyHash = m.infoHash;
  const r = await performHandshake(replay, {
    ...o,
    // The handshake must name the torrent the SKEY named.
    route: (ih) => (ih.length === skeyHash.length && ih.every((b, i) => b === skeyHash[i]) ? o.route(ih) : undefined),
  });
  return { ...r, conn: replay, encryption: outcome(m.method) };
}
