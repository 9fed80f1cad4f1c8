/**
 * Diffie-Hellman key agreement for MSE/PE (Message Stream Encryption, the Vuze/Azureus spec
 * "Message_Stream_Encryption", as implemented by libtorrent, Transmission and Vuze).
 *
 * The spec fixes a 768-bit prime P and generator G = 2. Public keys (Ya, Yb) and the shared secret S are
 * exchanged / hashed as fixed-width 96-byte big-endian integers (leading zeros kept). The private key is a
 * 160-bit random integer, as in every current implementation. Arithmetic is BigInt square-and-multiply
 * (about 0.6 ms per exponentiation on a laptop core; no I/O).
 */
import { BtError } from '../core/index.js';
import type { Random } from '../core/index.js';

/** The MSE prime (768 bits). */
export const MSE_PRIME = BigInt(
  '0xFFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A63A36210000000000090563',
);
export const MSE_GENERATOR = 2n;
/** Bytes of a public key and of the shared secret S on the wire. */
export const DH_KEY_BYTES = 96;
/** Bytes of randomness in a private key (160 bits). */
export const DH_PRIVATE_KEY_BYTES = 20;

export function bytesToBigInt(b: Uint8Array): bigint {
  let hex = '';
  for (let i = 0; i < b.length; i++) hex += (b[i]! < 16 ? '0' : '') + b[i]!.toString(16);
  return hex.length === 0 ? 0n : BigInt('0x' + hex);
}

/** `n` as exactly `len` big-endian bytes (throws RangeError if it does not fit). */
export function bigIntToBytes(n: bigint, len: number = DH_KEY_BYTES): Uint8Array {
  if (n < 0n) throw new RangeError('negative integer');
  const hex = n.toString(16);
  if (hex.length > len * 2) throw new RangeError(`integer does not fit in ${len} bytes`);
  const padded = hex.padStart(len * 2, '0');
  const out = new Uint8Array(len);
  for (let i = 0; i < len; i++) out[i] = parseInt(padded.substr(i * 2, 2), 16);
  return out;
}

export function modPow(base: bigint, exp: bigint, mod: bigint): bigint {
  let result = 1n;
  let b = base % mod;
  let e = exp;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % mod;
    b = (b * b) % mod;
    e >>= 1n;
  }
  return result;
}

/**
 * Parse and validate a peer's public key: exactly 96 bytes and 1 < Y < P-1 (Y = 0, 1 or P-1 would force
 * a trivial shared secret). Throws BtError ERR_MSE.
 */
export function parsePublicKey(y: Uint8Array): bigint {
  if (y.length !== DH_KEY_BYTES) {
    throw new BtError('ERR_MSE', `MSE public key must be ${DH_KEY_BYTES} bytes, got ${y.length}`, { op: 'handshake' });
  }
  const v = bytesToBigInt(y);
  if (v <= 1n || v >= MSE_PRIME - 1n) {
    throw new BtError('ERR_MSE', 'MSE public key out of range (must satisfy 1 < Y < P-1)', { op: 'handshake' });
  }
  return v;
}

/**
 * What an MSE machine needs of its DH key pair: our public key and the shared secret for the peer's key.
 * DhKeyPair is the real one; a machine may be handed another (the fuzz harness memoises computeSecret by the
 * peer key's bytes, since it replays thousands of transcripts against the same key pair).
 */
export interface DhKeyAgreement {
  /** Y as 96 big-endian bytes. */
  readonly publicKey: Uint8Array;
  /** S = Y_peer^X mod P as 96 big-endian bytes; BtError ERR_MSE for an invalid peer key. */
  computeSecret(peerPublicKey: Uint8Array): Uint8Array;
}

/** One side's DH key pair: private X (160 bits from the injected Random), public Y = G^X mod P. */
export class DhKeyPair implements DhKeyAgreement {
  /** Y as 96 big-endian bytes, what goes on the wire. */
  readonly publicKey: Uint8Array;
  private readonly x: bigint;

  constructor(random: Random) {
    let x = 0n;
    // A zero or one private key would give a public key the peer must refuse; redraw (probability 2^-159).
    for (let tries = 0; x < 2n; tries++) {
      if (tries >= 8) throw new BtError('ERR_MSE', 'random source produced no usable DH private key', { op: 'handshake' });
      x = bytesToBigInt(random.bytes(DH_PRIVATE_KEY_BYTES));
    }
    this.x = x;
    this.publicKey = bigIntToBytes(modPow(MSE_GENERATOR, x, MSE_PRIME));
  }

  /** S = Y_peer^X mod P as 96 big-endian bytes; validates the peer's key first (BtError ERR_MSE). */
  computeSecret(peerPublicKey: Uint8Array): Uint8Array {
    const y = parsePublicKey(peerPublicKey);
    return bigIntToBytes(modPow(y, this.x, MSE_PRIME));
  }
}
