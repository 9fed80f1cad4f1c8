/**
 * MSE/PE handshake (Message Stream Encryption / Protocol Encryption, the Vuze/Azureus spec
 * "Message_Stream_Encryption", as implemented by libtorrent, Transmission and Vuze) as a pure
 * bytes-in / bytes-out state machine for both roles. No sockets, no timers: `receive(bytes)` in,
 * an injected `send(bytes)` out, and `result` once the handshake is complete.
 *
 * The exchange (A = initiator, B = receiver; SKEY = the torrent's info-hash; S = DH shared secret,
 * 96 bytes big-endian):
 *   1 A->B: Ya, PadA                          (Ya 96 bytes; PadA random, 0..512 bytes)
 *   2 B->A: Yb, PadB
 *   3 A->B: SHA1('req1'+S), SHA1('req2'+SKEY) xor SHA1('req3'+S),
 *           ENCRYPT(VC, crypto_provide, len(PadC), PadC, len(IA)), ENCRYPT(IA)
 *   4 B->A: ENCRYPT(VC, crypto_select, len(PadD), PadD), ENCRYPT2(payload stream)
 *   5 A->B: ENCRYPT2(payload stream)
 * VC = 8 zero bytes; crypto_provide / crypto_select are 32-bit big-endian bitfields (0x01 plaintext,
 * 0x02 RC4), select has exactly one bit; len() fields are 16-bit big-endian; PadC / PadD are 0..512.
 * ENCRYPT is RC4 keyed with keyA = SHA1('keyA'+S+SKEY) from A to B and keyB = SHA1('keyB'+S+SKEY) from B
 * to A, first 1024 keystream bytes discarded. ENCRYPT2 continues that RC4 stream when RC4 was selected
 * and is the identity when plaintext was selected. The IA (initial payload, normally the BitTorrent
 * handshake) is always RC4-encrypted: A sends it before it knows the selection.
 *
 * Synchronisation: B finds SHA1('req1'+S) at most 512 bytes after Ya (so within 96+512+20 bytes); A finds
 * ENCRYPT(VC) at most 512 bytes after Yb (within 96+512+8). Failing to find them there is an error. Every
 * field is length-checked before anything is buffered, so the bytes a machine holds between calls stay
 * below the largest remaining field (at most 65535 + 2 bytes for the receiver's IA, 628 bytes otherwise).
 * Every failure is a BtError (ERR_MSE for protocol violations, op 'handshake').
 *
 * Choices where the spec allows several: our PadA / PadB are random 0..512 bytes (tunable); our PadC /
 * PadD are empty (the spec allows 0-length; their content would be encrypted anyway); we accept any PadC /
 * PadD of 0..512 bytes from the peer.
 */
import { createHash } from 'node:crypto';
import { BtError } from '../core/index.js';
import type { Random } from '../core/index.js';
import { DH_KEY_BYTES, DhKeyPair } from './dh.js';
import type { DhKeyAgreement } from './dh.js';
import { Rc4 } from './rc4.js';

export type MseMethod = 'rc4' | 'plaintext';

/** Which methods a side allows, most preferred first. The receiver picks the first one the initiator offers. */
export interface MsePolicy {
  readonly methods: readonly MseMethod[];
}

export const MSE_PREFER_RC4: MsePolicy = Object.freeze({ methods: Object.freeze(['rc4', 'plaintext'] as const) });
export const MSE_REQUIRE_RC4: MsePolicy = Object.freeze({ methods: Object.freeze(['rc4'] as const) });
export const MSE_PREFER_PLAINTEXT: MsePolicy = Object.freeze({ methods: Object.freeze(['plaintext', 'rc4'] as const) });

export const CRYPTO_PLAINTEXT = 0x01;
export const CRYPTO_RC4 = 0x02;
/** Padding bounds from the spec (PadA..PadD are each 0..512 bytes). */
export const MAX_PAD = 512;
export const VC_LENGTH = 8;
/** The largest IA the 16-bit length field can describe. */
export const MAX_INITIAL_PAYLOAD = 0xffff;
/** Keystream bytes discarded from each RC4 stream before use. */
export const RC4_DISCARD = 1024;

const METHOD_BIT: Record<MseMethod, number> = { plaintext: CRYPTO_PLAINTEXT, rc4: CRYPTO_RC4 };

/** The completed handshake. */
export interface MseResult {
  readonly method: MseMethod;
  /** The SKEY both sides proved to know (the torrent's info-hash). */
  readonly infoHash: Uint8Array;
  /** Our outgoing RC4 stream, positioned after the handshake ('rc4' only). */
  readonly encryptor: Rc4 | undefined;
  /** The incoming RC4 stream, positioned after `leftover` ('rc4' only). */
  readonly decryptor: Rc4 | undefined;
  /** Receiver: the IA the initiator sent, decrypted (often the 68-byte BitTorrent handshake). Initiator: empty. */
  readonly initialPayload: Uint8Array;
  /** Payload bytes that arrived with the end of the handshake, already decrypted for 'rc4'. */
  readonly leftover: Uint8Array;
}

// ---- key derivation -------------------------------------------------------------------------------------

const ascii = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
const REQ1 = ascii('req1');
const REQ2 = ascii('req2');
const REQ3 = ascii('req3');
const KEY_A = ascii('keyA');
const KEY_B = ascii('keyB');

function sha1(...parts: Uint8Array[]): Uint8Array {
  const h = createHash('sha1');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

/** SHA1('req1' + S): what B synchronises on. */
export const req1Hash = (s: Uint8Array): Uint8Array => sha1(REQ1, s);
/** SHA1('req2' + SKEY): per torrent, independent of the connection; what a receiver looks SKEYs up by. */
export const req2Hash = (infoHash: Uint8Array): Uint8Array => sha1(REQ2, infoHash);
/** SHA1('req3' + S). */
export const req3Hash = (s: Uint8Array): Uint8Array => sha1(REQ3, s);
/** keyA = SHA1('keyA'+S+SKEY) (A to B), keyB = SHA1('keyB'+S+SKEY) (B to A). */
export const deriveKey = (which: 'keyA' | 'keyB', s: Uint8Array, skey: Uint8Array): Uint8Array =>
  sha1(which === 'keyA' ? KEY_A : KEY_B, s, skey);

/** An RC4 stream keyed for MSE: the first 1024 keystream bytes already discarded. */
export function mseCipher(key: Uint8Array): Rc4 {
  const rc4 = new Rc4(key);
  rc4.skip(RC4_DISCARD);
  return rc4;
}

function xor20(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(20);
  for (let i = 0; i < 20; i++) out[i] = a[i]! ^ b[i]!;
  return out;
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex');

/**
 * Info-hashes a receiver serves, indexed by SHA1('req2'+ih) so resolving an incoming SKEY is one map
 * lookup, however many torrents there are. Pass `index.resolve` as `resolveSkey`.
 */
export class SkeyIndex {
  private readonly byReq2 = new Map<string, Uint8Array>();
  constructor(infoHashes: Iterable<Uint8Array> = []) {
    for (const ih of infoHashes) this.add(ih);
  }
  add(infoHash: Uint8Array): void {
    this.byReq2.set(hex(req2Hash(infoHash)), infoHash.slice());
  }
  delete(infoHash: Uint8Array): void {
    this.byReq2.delete(hex(req2Hash(infoHash)));
  }
  get size(): number {
    return this.byReq2.size;
  }
  readonly resolve = (req2: Uint8Array): Uint8Array | undefined => this.byReq2.get(hex(req2));
}

// ---- policy ---------------------------------------------------------------------------------------------

function checkPolicy(p: MsePolicy): readonly MseMethod[] {
  const m = p?.methods;
  if (!Array.isArray(m) || m.length === 0) {
    throw new BtError('ERR_SETTINGS', 'MSE policy must allow at least one method', { op: 'settings', field: 'methods' });
  }
  const seen = new Set<string>();
  for (const x of m) {
    if (x !== 'rc4' && x !== 'plaintext') {
      throw new BtError('ERR_SETTINGS', `unknown MSE method ${String(x)}`, { op: 'settings', field: 'methods' });
    }
    if (seen.has(x)) throw new BtError('ERR_SETTINGS', `MSE method ${x} listed twice`, { op: 'settings', field: 'methods' });
    seen.add(x);
  }
  return m;
}

function checkPadding(n: number | undefined): number {
  const v = n ?? MAX_PAD;
  if (!Number.isInteger(v) || v < 0 || v > MAX_PAD) {
    throw new BtError('ERR_SETTINGS', `MSE padding bound must be 0..${MAX_PAD}, got ${v}`, { op: 'settings', field: 'maxPadding' });
  }
  return v;
}

function mseError(message: string): BtError {
  return new BtError('ERR_MSE', message, { op: 'handshake' });
}

// ---- input buffer ---------------------------------------------------------------------------------------

/** Bytes received but not yet consumed: one growable buffer with a read offset. */
class InputBuffer {
  private buf = new Uint8Array(256);
  private start = 0;
  private end = 0;
  get length(): number {
    return this.end - this.start;
  }
  push(chunk: Uint8Array): void {
    const n = chunk.length;
    if (this.end + n > this.buf.length) {
      const live = this.end - this.start;
      if (live + n <= this.buf.length && this.start >= live) {
        this.buf.copyWithin(0, this.start, this.end);
      } else {
        let cap = this.buf.length;
        while (cap < live + n) cap *= 2;
        const next = new Uint8Array(cap);
        next.set(this.buf.subarray(this.start, this.end));
        this.buf = next;
      }
      this.start = 0;
      this.end = live;
    }
    this.buf.set(chunk, this.end);
    this.end += n;
  }
  /** View of the unconsumed bytes (valid until the next push). */
  view(): Uint8Array {
    return this.buf.subarray(this.start, this.end);
  }
  /** A copy of the next `n` bytes, consumed. */
  take(n: number): Uint8Array {
    const out = this.buf.slice(this.start, this.start + n);
    this.skip(n);
    return out;
  }
  skip(n: number): void {
    this.start += n;
    if (this.start === this.end) this.start = this.end = 0;
  }
  /** Everything left, copied, consumed; the buffer is released. */
  drain(): Uint8Array {
    const out = this.buf.slice(this.start, this.end);
    this.buf = new Uint8Array(0);
    this.start = this.end = 0;
    return out;
  }
}

/**
 * First index i in [from, last] where `pattern` occurs in `hay` (i + pattern.length <= hay.length), or -1.
 * Patterns here are 8 or 20 bytes and windows 513 positions, so the naive scan is fine.
 */
function findPattern(hay: Uint8Array, pattern: Uint8Array, from: number, last: number): number {
  const m = pattern.length;
  const end = Math.min(last, hay.length - m);
  const p0 = pattern[0]!;
  outer: for (let i = from; i <= end; i++) {
    if (hay[i] !== p0) continue;
    for (let k = 1; k < m; k++) if (hay[i + k] !== pattern[k]) continue outer;
    return i;
  }
  return -1;
}

// ---- the machines ---------------------------------------------------------------------------------------

interface CommonOptions {
  policy: MsePolicy;
  random: Random;
  /** Bytes for the peer, in order. */
  send: (bytes: Uint8Array) => void;
  /** Upper bound of our random PadA / PadB (0..512; default 512). */
  maxPadding?: number;
  /**
   * Our DH key pair; default a new DhKeyPair drawn from `random` (which takes its first 20 bytes). Given, it
   * is used as is and `random` is not drawn from for it (the fuzz harness passes a memoising one).
   */
  keyPair?: DhKeyAgreement;
}

export interface MseInitiatorOptions extends CommonOptions {
  /** SKEY: the info-hash of the torrent we want from the peer. */
  infoHash: Uint8Array;
  /** IA: sent RC4-encrypted inside the handshake (normally our 68-byte BitTorrent handshake); 0..65535 bytes. */
  initialPayload?: Uint8Array;
}

export interface MseReceiverOptions extends CommonOptions {
  /**
   * Map SHA1('req2'+SKEY) (the receiver un-xors SHA1('req3'+S) itself) to the info-hash it came from, or
   * undefined if we do not serve that torrent. `new SkeyIndex(infoHashes).resolve` does this in O(1).
   * The answer is verified (SHA1('req2'+answer) must equal the hash), so a wrong answer is refused.
   */
  resolveSkey: (req2Hash: Uint8Array) => Uint8Array | undefined | null;
  /** Largest IA accepted from the initiator (default 65535, the field's maximum). */
  maxInitialPayload?: number;
}

type Phase = 'ready' | 'working' | 'done' | 'failed';

abstract class MseMachine {
  protected readonly in = new InputBuffer();
  protected readonly methods: readonly MseMethod[];
  protected readonly random: Random;
  protected readonly sendFn: (bytes: Uint8Array) => void;
  protected readonly maxPadding: number;
  protected readonly dh: DhKeyAgreement;
  private phase: Phase = 'ready';
  private err: BtError | undefined;
  private res: MseResult | undefined;

  constructor(o: CommonOptions) {
    this.methods = checkPolicy(o.policy);
    this.maxPadding = checkPadding(o.maxPadding);
    if (typeof o.send !== 'function') throw new TypeError('send must be a function');
    this.random = o.random;
    this.sendFn = o.send;
    this.dh = o.keyPair ?? new DhKeyPair(o.random);
  }

  get done(): boolean {
    return this.phase === 'done';
  }
  get failed(): boolean {
    return this.phase === 'failed';
  }
  /** The error that ended the handshake, if it failed. */
  get error(): BtError | undefined {
    return this.err;
  }
  /** Set once the handshake completed (after the `receive` that completed it returns). */
  get result(): MseResult | undefined {
    return this.res;
  }

  /**
   * Feed bytes from the peer (any split). Sends what the protocol calls for through `send`. Throws BtError
   * (and stays failed) on a protocol violation; throws ERR_STATE if called after completion: from then on
   * the caller owns the stream and must use `result.decryptor` itself.
   */
  receive(bytes: Uint8Array): void {
    if (this.phase === 'failed') throw this.err!;
    if (this.phase === 'done') throw new BtError('ERR_STATE', 'MSE handshake already complete', { op: 'handshake' });
    if (this.phase === 'ready') throw new BtError('ERR_STATE', 'MSE initiator not started', { op: 'handshake' });
    this.guard(() => {
      this.in.push(bytes);
      const r = this.step();
      if (r) {
        this.res = r;
        this.phase = 'done';
      }
    });
  }

  protected begin(fn?: () => void): void {
    if (this.phase !== 'ready') throw new BtError('ERR_STATE', 'MSE handshake already started', { op: 'handshake' });
    this.phase = 'working';
    if (fn) this.guard(fn);
  }

  private guard(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      const err =
        e instanceof BtError ? e : new BtError('ERR_MSE', `MSE handshake failed: ${(e as Error)?.message ?? String(e)}`, { op: 'handshake', cause: e });
      this.phase = 'failed';
      this.err = err;
      this.in.drain();
      throw err;
    }
  }

  /** Consume what can be consumed; return the result when complete. */
  protected abstract step(): MseResult | undefined;

  protected padding(): Uint8Array {
    return this.random.bytes(this.random.int(this.maxPadding + 1));
  }

  protected finish(method: MseMethod, infoHash: Uint8Array, enc: Rc4, dec: Rc4, ia: Uint8Array): MseResult {
    const leftover = this.in.drain();
    const rc4 = method === 'rc4';
    if (rc4 && leftover.length > 0) dec.process(leftover);
    return {
      method,
      infoHash,
      encryptor: rc4 ? enc : undefined,
      decryptor: rc4 ? dec : undefined,
      initialPayload: ia,
      leftover,
    };
  }
}

/** Side A: dials, knows the info-hash, provides methods, learns the receiver's selection. */
export class MseInitiator extends MseMachine {
  private readonly infoHash: Uint8Array;
  private readonly ia: Uint8Array;
  private state: 'yb' | 'sync' | 'select' | 'padD' = 'yb';
  private enc: Rc4 | undefined;
  private dec: Rc4 | undefined;
  private vcPattern: Uint8Array | undefined;
  private scanned = 0;
  private method: MseMethod = 'rc4';
  private padD = 0;

  constructor(o: MseInitiatorOptions) {
    super(o);
    if (!(o.infoHash instanceof Uint8Array) || o.infoHash.length !== 20) {
      throw new BtError('ERR_MSE', 'MSE SKEY (info-hash) must be 20 bytes', { op: 'handshake', field: 'infoHash' });
    }
    const ia = o.initialPayload ?? new Uint8Array(0);
    if (ia.length > MAX_INITIAL_PAYLOAD) {
      throw new BtError('ERR_MSE', `MSE initial payload too long: ${ia.length} > ${MAX_INITIAL_PAYLOAD}`, { op: 'handshake', field: 'initialPayload' });
    }
    this.infoHash = o.infoHash.slice();
    this.ia = ia.slice();
  }

  /** Send Ya + PadA (step 1). */
  start(): void {
    this.begin(() => {
      const pad = this.padding();
      const out = new Uint8Array(DH_KEY_BYTES + pad.length);
      out.set(this.dh.publicKey, 0);
      out.set(pad, DH_KEY_BYTES);
      this.sendFn(out);
    });
  }

  protected step(): MseResult | undefined {
    for (;;) {
      const avail = this.in.length;
      switch (this.state) {
        case 'yb': {
          if (avail < DH_KEY_BYTES) return undefined;
          const s = this.dh.computeSecret(this.in.take(DH_KEY_BYTES));
          this.enc = mseCipher(deriveKey('keyA', s, this.infoHash));
          this.dec = mseCipher(deriveKey('keyB', s, this.infoHash));
          this.vcPattern = new Uint8Array(VC_LENGTH);
          this.dec.process(this.vcPattern); // ENCRYPT(VC) = the first 8 keystream bytes; dec now sits after VC
          this.sendStep3(s);
          this.state = 'sync';
          break;
        }
        case 'sync': {
          const at = findPattern(this.in.view(), this.vcPattern!, this.scanned, MAX_PAD);
          if (at < 0) {
            if (avail >= MAX_PAD + VC_LENGTH) throw mseError(`MSE: no verification constant within ${MAX_PAD} bytes of padding after Yb`);
            this.scanned = Math.max(0, avail - VC_LENGTH + 1);
            return undefined;
          }
          this.in.skip(at + VC_LENGTH);
          this.state = 'select';
          break;
        }
        case 'select': {
          if (avail < 6) return undefined;
          const f = this.in.take(6);
          this.dec!.process(f);
          const select = ((f[0]! << 24) | (f[1]! << 16) | (f[2]! << 8) | f[3]!) >>> 0;
          const padD = (f[4]! << 8) | f[5]!;
          const method = select === CRYPTO_RC4 ? 'rc4' : select === CRYPTO_PLAINTEXT ? 'plaintext' : undefined;
          if (method === undefined) throw mseError(`MSE: crypto_select 0x${select.toString(16)} is not exactly one known method`);
          if (!this.methods.includes(method)) throw mseError(`MSE: peer selected ${method}, which we did not provide`);
          if (padD > MAX_PAD) throw mseError(`MSE: PadD length ${padD} exceeds ${MAX_PAD}`);
          this.method = method;
          this.padD = padD;
          this.state = 'padD';
          break;
        }
        case 'padD': {
          if (avail < this.padD) return undefined;
          if (this.padD > 0) this.dec!.process(this.in.take(this.padD)); // advance the stream over PadD
          return this.finish(this.method, this.infoHash, this.enc!, this.dec!, new Uint8Array(0));
        }
      }
    }
  }

  private sendStep3(s: Uint8Array): void {
    let provide = 0;
    for (const m of this.methods) provide |= METHOD_BIT[m];
    const ia = this.ia;
    const out = new Uint8Array(20 + 20 + VC_LENGTH + 4 + 2 + 2 + ia.length);
    out.set(req1Hash(s), 0);
    out.set(xor20(req2Hash(this.infoHash), req3Hash(s)), 20);
    let o = 40 + VC_LENGTH; // VC: zeros
    out[o++] = (provide >>> 24) & 255;
    out[o++] = (provide >>> 16) & 255;
    out[o++] = (provide >>> 8) & 255;
    out[o++] = provide & 255;
    out[o++] = 0; // len(PadC) = 0
    out[o++] = 0;
    out[o++] = (ia.length >>> 8) & 255;
    out[o++] = ia.length & 255;
    out.set(ia, o);
    this.enc!.process(out.subarray(40));
    this.sendFn(out);
  }
}

/** Side B: accepts, finds which of its torrents the initiator wants, selects the method. */
export class MseReceiver extends MseMachine {
  private readonly resolveSkey: MseReceiverOptions['resolveSkey'];
  private readonly maxIa: number;
  private state: 'ya' | 'sync' | 'skey' | 'provide' | 'padC' | 'lenIA' | 'ia' = 'ya';
  private s: Uint8Array | undefined;
  private req1: Uint8Array | undefined;
  private scanned = 0;
  private infoHash: Uint8Array | undefined;
  private enc: Rc4 | undefined;
  private dec: Rc4 | undefined;
  private method: MseMethod = 'rc4';
  private need = 0;

  constructor(o: MseReceiverOptions) {
    super(o);
    if (typeof o.resolveSkey !== 'function') throw new TypeError('resolveSkey must be a function');
    const maxIa = o.maxInitialPayload ?? MAX_INITIAL_PAYLOAD;
    if (!Number.isInteger(maxIa) || maxIa < 0 || maxIa > MAX_INITIAL_PAYLOAD) {
      throw new BtError('ERR_SETTINGS', `maxInitialPayload must be 0..${MAX_INITIAL_PAYLOAD}`, { op: 'settings', field: 'maxInitialPayload' });
    }
    this.resolveSkey = o.resolveSkey;
    this.maxIa = maxIa;
    this.begin();
  }

  protected step(): MseResult | undefined {
    for (;;) {
      const avail = this.in.length;
      switch (this.state) {
        case 'ya': {
          if (avail < DH_KEY_BYTES) return undefined;
          this.s = this.dh.computeSecret(this.in.take(DH_KEY_BYTES));
          this.req1 = req1Hash(this.s);
          const pad = this.padding();
          const out = new Uint8Array(DH_KEY_BYTES + pad.length);
          out.set(this.dh.publicKey, 0);
          out.set(pad, DH_KEY_BYTES);
          this.sendFn(out);
          this.state = 'sync';
          break;
        }
        case 'sync': {
          const at = findPattern(this.in.view(), this.req1!, this.scanned, MAX_PAD);
          if (at < 0) {
            if (avail >= MAX_PAD + 20) throw mseError(`MSE: no req1 hash within ${MAX_PAD} bytes of padding after Ya`);
            this.scanned = Math.max(0, avail - 20 + 1);
            return undefined;
          }
          this.in.skip(at + 20);
          this.state = 'skey';
          break;
        }
        case 'skey': {
          if (avail < 20) return undefined;
          const s = this.s!;
          const req2 = xor20(this.in.take(20), req3Hash(s));
          const found = this.resolveSkey(req2);
          if (!(found instanceof Uint8Array) || found.length !== 20 || !equal(req2Hash(found), req2)) {
            throw mseError('MSE: peer asked for a torrent we do not serve (unknown SKEY)');
          }
          this.infoHash = found.slice();
          this.dec = mseCipher(deriveKey('keyA', s, this.infoHash));
          this.enc = mseCipher(deriveKey('keyB', s, this.infoHash));
          this.state = 'provide';
          break;
        }
        case 'provide': {
          if (avail < VC_LENGTH + 6) return undefined;
          const f = this.in.take(VC_LENGTH + 6);
          this.dec!.process(f);
          for (let i = 0; i < VC_LENGTH; i++) if (f[i] !== 0) throw mseError('MSE: bad verification constant');
          const provide = ((f[8]! << 24) | (f[9]! << 16) | (f[10]! << 8) | f[11]!) >>> 0;
          const padC = (f[12]! << 8) | f[13]!;
          if (padC > MAX_PAD) throw mseError(`MSE: PadC length ${padC} exceeds ${MAX_PAD}`);
          const method = this.methods.find((m) => (provide & METHOD_BIT[m]) !== 0);
          if (method === undefined) {
            throw mseError(`MSE: peer provides 0x${provide.toString(16)}, none of our methods (${this.methods.join(', ')})`);
          }
          this.method = method;
          this.need = padC;
          this.state = 'padC';
          break;
        }
        case 'padC': {
          if (avail < this.need) return undefined;
          if (this.need > 0) this.dec!.process(this.in.take(this.need));
          this.state = 'lenIA';
          break;
        }
        case 'lenIA': {
          if (avail < 2) return undefined;
          const f = this.in.take(2);
          this.dec!.process(f);
          const len = (f[0]! << 8) | f[1]!;
          if (len > this.maxIa) throw mseError(`MSE: initial payload length ${len} exceeds ${this.maxIa}`);
          this.need = len;
          this.state = 'ia';
          break;
        }
        case 'ia': {
          if (avail < this.need) return undefined;
          const ia = this.in.take(this.need);
          this.dec!.process(ia);
          this.sendStep4();
          return this.finish(this.method, this.infoHash!, this.enc!, this.dec!, ia);
        }
      }
    }
  }

  private sendStep4(): void {
    const select = METHOD_BIT[this.method];
    const out = new Uint8Array(VC_LENGTH + 4 + 2); // VC zeros, crypto_select, len(PadD) = 0
    out[VC_LENGTH + 3] = select;
    this.enc!.process(out);
    this.sendFn(out);
  }
}
