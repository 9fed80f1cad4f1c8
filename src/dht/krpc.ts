/**
 * BEP 5 KRPC codec (with BEP 32 `want` / `nodes6`, BEP 42 `ip`, BEP 43 `ro`): ping, find_node, get_peers,
 * announce_peer and errors 201-204. Decoding is strict: every known field is type- and length-checked,
 * unknown fields are ignored, packets and strings are size-bounded. Every failure is a BtError; a failure
 * inside a query that still has a transaction id is a `KrpcDecodeError` carrying it, so the node can answer
 * 203 (protocol error) or 204 (method unknown).
 */
import { BtError } from '../core/index.js';
import { bdecode, bencode, isBytes, isDict, isList } from '../bencode/index.js';
import type { BDict, BEncodable, BValue } from '../bencode/index.js';
import { ID_LENGTH, decodeNodes, decodePeer, encodeNodes, encodePeer } from './addr.js';
import type { NodeInfo, PeerAddress } from './addr.js';

/** KRPC error codes (BEP 5). */
export const KRPC_GENERIC = 201;
export const KRPC_SERVER = 202;
export const KRPC_PROTOCOL = 203;
export const KRPC_METHOD_UNKNOWN = 204;

/** Largest datagram we decode; real KRPC packets stay well under one MTU. */
export const MAX_PACKET = 2048;
export const MAX_TRANSACTION_ID = 16;
export const MAX_TOKEN = 64;
export const MAX_VERSION = 32;
export const MAX_ERROR_MESSAGE = 512;
export const MAX_VALUES = 256;
export const MAX_WANT = 8;
const MAX_DEPTH = 8;

export type Want = 'n4' | 'n6';

export type KrpcQuery =
  | { q: 'ping'; id: Uint8Array }
  | { q: 'find_node'; id: Uint8Array; target: Uint8Array; want?: Want[] }
  | { q: 'get_peers'; id: Uint8Array; infoHash: Uint8Array; want?: Want[] }
  | {
      q: 'announce_peer';
      id: Uint8Array;
      infoHash: Uint8Array;
      port: number;
      token: Uint8Array;
      impliedPort: boolean;
      seed?: boolean;
    };

export type KrpcMethod = KrpcQuery['q'];

export interface KrpcQueryMessage {
  y: 'q';
  t: Uint8Array;
  v?: Uint8Array;
  /** BEP 43: the sender is read-only and must not be added to routing tables. */
  ro?: boolean;
  query: KrpcQuery;
}

export interface KrpcResponseBody {
  id: Uint8Array;
  nodes?: NodeInfo[];
  nodes6?: NodeInfo[];
  values?: PeerAddress[];
  token?: Uint8Array;
}

export interface KrpcResponseMessage {
  y: 'r';
  t: Uint8Array;
  v?: Uint8Array;
  /** BEP 42: the address the responder saw us at. */
  ip?: PeerAddress;
  r: KrpcResponseBody;
}

export interface KrpcErrorMessage {
  y: 'e';
  t: Uint8Array;
  v?: Uint8Array;
  code: number;
  message: string;
}

export type KrpcMessage = KrpcQueryMessage | KrpcResponseMessage | KrpcErrorMessage;

/** A decode failure of a query whose transaction id is known: answer it with `krpcCode`. */
export class KrpcDecodeError extends BtError {
  readonly transactionId: Uint8Array;
  readonly krpcCode: number;
  constructor(message: string, transactionId: Uint8Array, krpcCode: number, field?: string) {
    super('ERR_DHT', message, { op: 'decode', ...(field === undefined ? {} : { field }) });
    this.transactionId = transactionId;
    this.krpcCode = krpcCode;
  }
}

function fail(message: string, field?: string): never {
  throw new BtError('ERR_DHT', `krpc: ${message}`, { op: 'decode', ...(field === undefined ? {} : { field }) });
}

function has(d: BDict, k: string): boolean {
  return Object.prototype.hasOwnProperty.call(d, k);
}

function bytesField(d: BDict, k: string, field: string, opts: { len?: number; min?: number; max?: number; optional?: boolean }): Uint8Array | undefined {
  if (!has(d, k)) {
    if (opts.optional) return undefined;
    fail(`missing ${field}`, field);
  }
  const v = d[k];
  if (!isBytes(v)) fail(`${field} must be a byte string`, field);
  if (opts.len !== undefined && v.length !== opts.len) fail(`${field} must be ${opts.len} bytes, got ${v.length}`, field);
  if (opts.min !== undefined && v.length < opts.min) fail(`${field} shorter than ${opts.min} bytes`, field);
  if (opts.max !== undefined && v.length > opts.max) fail(`${field} longer than ${opts.max} bytes`, field);
  return v;
}

function intField(d: BDict, k: string, field: string, min: number, max: number, optional: boolean): number | undefined {
  if (!has(d, k)) {
    if (optional) return undefined;
    fail(`missing ${field}`, field);
  }
  const v = d[k];
  if (typeof v !== 'number') fail(`${field} must be an integer`, field);
  if (v < min || v > max) fail(`${field} out of range [${min}, ${max}]`, field);
  return v;
}

function dictField(d: BDict, k: string, field: string): BDict {
  if (!has(d, k)) fail(`missing ${field}`, field);
  const v = d[k];
  if (!isDict(v)) fail(`${field} must be a dictionary`, field);
  return v;
}

function latin1(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]!);
  return s;
}

function decodeWant(a: BDict): Want[] | undefined {
  if (!has(a, 'want')) return undefined;
  const w = a.want;
  if (!isList(w)) fail('a.want must be a list', 'a.want');
  if (w.length > MAX_WANT) fail(`a.want has more than ${MAX_WANT} entries`, 'a.want');
  const out: Want[] = [];
  for (const x of w) {
    if (!isBytes(x)) fail('a.want entries must be byte strings', 'a.want');
    const s = latin1(x);
    if ((s === 'n4' || s === 'n6') && !out.includes(s)) out.push(s); // unknown wants are ignored
  }
  return out;
}

function decodeQueryBody(method: string, a: BDict): KrpcQuery {
  const id = bytesField(a, 'id', 'a.id', { len: ID_LENGTH })!;
  switch (method) {
    case 'ping':
      return { q: 'ping', id };
    case 'find_node': {
      const target = bytesField(a, 'target', 'a.target', { len: ID_LENGTH })!;
      const want = decodeWant(a);
      return want ? { q: 'find_node', id, target, want } : { q: 'find_node', id, target };
    }
    case 'get_peers': {
      const infoHash = bytesField(a, 'info_hash', 'a.info_hash', { len: ID_LENGTH })!;
      const want = decodeWant(a);
      return want ? { q: 'get_peers', id, infoHash, want } : { q: 'get_peers', id, infoHash };
    }
    case 'announce_peer': {
      const infoHash = bytesField(a, 'info_hash', 'a.info_hash', { len: ID_LENGTH })!;
      const token = bytesField(a, 'token', 'a.token', { min: 1, max: MAX_TOKEN })!;
      const implied = intField(a, 'implied_port', 'a.implied_port', 0, 1, true) === 1;
      // With implied_port the port may be absent or 0 (the source port is used); otherwise it must be valid.
      const port = intField(a, 'port', 'a.port', implied ? 0 : 1, 65535, implied) ?? 0;
      const seed = intField(a, 'seed', 'a.seed', 0, 1, true);
      const q: KrpcQuery = { q: 'announce_peer', id, infoHash, port, token, impliedPort: implied };
      if (seed !== undefined) q.seed = seed === 1;
      return q;
    }
    default:
      // Caller turns this into 204.
      throw new BtError('ERR_DHT', `krpc: unknown method ${JSON.stringify(method.slice(0, 32))}`, { op: 'decode', field: 'q' });
  }
}

function decodeResponseBody(r: BDict): KrpcResponseBody {
  const body: KrpcResponseBody = { id: bytesField(r, 'id', 'r.id', { len: ID_LENGTH })! };
  const nodes = bytesField(r, 'nodes', 'r.nodes', { optional: true });
  if (nodes !== undefined) body.nodes = decodeNodes(nodes, false, 'r.nodes');
  const nodes6 = bytesField(r, 'nodes6', 'r.nodes6', { optional: true });
  if (nodes6 !== undefined) body.nodes6 = decodeNodes(nodes6, true, 'r.nodes6');
  const token = bytesField(r, 'token', 'r.token', { optional: true, min: 1, max: MAX_TOKEN });
  if (token !== undefined) body.token = token;
  if (has(r, 'values')) {
    const vs = r.values;
    if (!isList(vs)) fail('r.values must be a list', 'r.values');
    if (vs.length > MAX_VALUES) fail(`r.values has more than ${MAX_VALUES} entries`, 'r.values');
    body.values = vs.map((x) => {
      if (!isBytes(x)) fail('r.values entries must be byte strings', 'r.values');
      return decodePeer(x, 'r.values');
    });
  }
  return body;
}

/** Decode one KRPC datagram. Throws BtError (ERR_DHT or ERR_BENCODE); KrpcDecodeError for answerable queries. */
export function decodeKrpc(data: Uint8Array): KrpcMessage {
  if (!(data instanceof Uint8Array)) fail('input must be a Uint8Array');
  if (data.length > MAX_PACKET) fail(`packet of ${data.length} bytes exceeds ${MAX_PACKET}`);
  let v: BValue;
  try {
    v = bdecode(data, { maxDepth: MAX_DEPTH, maxLength: MAX_PACKET });
  } catch (e) {
    throw new BtError('ERR_DHT', `krpc: ${(e as Error).message}`, { op: 'decode', cause: e });
  }
  if (!isDict(v)) fail('message must be a dictionary');
  const t = bytesField(v, 't', 't', { min: 1, max: MAX_TRANSACTION_ID })!;
  const y = bytesField(v, 'y', 'y', { min: 1, max: 1 })!;
  let ver: Uint8Array | undefined;
  if (has(v, 'v') && isBytes(v.v) && v.v.length <= MAX_VERSION) ver = v.v; // informational: ignored when odd
  const base = ver === undefined ? { t } : { t, v: ver };
  switch (y[0]) {
    case 0x71 /* q */: {
      try {
        const method = bytesField(v, 'q', 'q', { min: 1, max: 64 })!;
        const a = dictField(v, 'a', 'a');
        let ro = false;
        if (has(v, 'ro')) ro = intField(v, 'ro', 'ro', 0, 1, false) === 1;
        const query = decodeQueryBody(latin1(method), a);
        const m: KrpcQueryMessage = { y: 'q', ...base, query };
        if (ro) m.ro = true;
        return m;
      } catch (e) {
        const be = e as BtError;
        const unknown = be.field === 'q' && /unknown method/.test(be.message);
        throw new KrpcDecodeError(be.message, t, unknown ? KRPC_METHOD_UNKNOWN : KRPC_PROTOCOL, be.field);
      }
    }
    case 0x72 /* r */: {
      const r = dictField(v, 'r', 'r');
      const m: KrpcResponseMessage = { y: 'r', ...base, r: decodeResponseBody(r) };
      const ip = bytesField(v, 'ip', 'ip', { optional: true });
      if (ip !== undefined) m.ip = decodePeer(ip, 'ip');
      return m;
    }
    case 0x65 /* e */: {
      if (!has(v, 'e') || !isList(v.e)) fail('e must be a list', 'e');
      const [code, msg] = v.e;
      if (typeof code !== 'number' || code < 0 || code > 0xffff) fail('e[0] must be an error code', 'e');
      let message = '';
      if (msg !== undefined) {
        if (!isBytes(msg)) fail('e[1] must be a byte string', 'e');
        message = new TextDecoder('utf-8', { fatal: false }).decode(msg.subarray(0, MAX_ERROR_MESSAGE));
      }
      return { y: 'e', ...base, code, message };
    }
    default:
      return fail('y must be q, r or e', 'y');
  }
}

export interface EncodeOptions {
  v?: Uint8Array;
  ro?: boolean;
}

function checkT(t: Uint8Array): void {
  if (!(t instanceof Uint8Array) || t.length < 1 || t.length > MAX_TRANSACTION_ID) {
    throw new BtError('ERR_DHT', 'krpc: transaction id must be 1..16 bytes', { op: 'encode', field: 't' });
  }
}

function checkId(id: Uint8Array, field: string): void {
  if (!(id instanceof Uint8Array) || id.length !== ID_LENGTH) {
    throw new BtError('ERR_DHT', `krpc: ${field} must be 20 bytes`, { op: 'encode', field });
  }
}

export function encodeQuery(t: Uint8Array, query: KrpcQuery, opts: EncodeOptions = {}): Uint8Array {
  checkT(t);
  checkId(query.id, 'a.id');
  const a: Record<string, BEncodable | undefined> = { id: query.id };
  switch (query.q) {
    case 'ping':
      break;
    case 'find_node':
      checkId(query.target, 'a.target');
      a.target = query.target;
      if (query.want) a.want = query.want;
      break;
    case 'get_peers':
      checkId(query.infoHash, 'a.info_hash');
      a.info_hash = query.infoHash;
      if (query.want) a.want = query.want;
      break;
    case 'announce_peer':
      checkId(query.infoHash, 'a.info_hash');
      if (!Number.isInteger(query.port) || query.port < 0 || query.port > 65535 || (!query.impliedPort && query.port === 0)) {
        throw new BtError('ERR_DHT', `krpc: bad announce port ${query.port}`, { op: 'encode', field: 'a.port' });
      }
      a.info_hash = query.infoHash;
      a.port = query.port;
      a.token = query.token;
      a.implied_port = query.impliedPort ? 1 : 0;
      if (query.seed !== undefined) a.seed = query.seed ? 1 : 0;
      break;
  }
  return bencode({ t, y: 'q', q: query.q, a, v: opts.v, ro: opts.ro ? 1 : undefined });
}

export function encodeResponse(t: Uint8Array, r: KrpcResponseBody, opts: EncodeOptions & { ip?: PeerAddress } = {}): Uint8Array {
  checkT(t);
  checkId(r.id, 'r.id');
  const body: Record<string, BEncodable | undefined> = { id: r.id };
  if (r.nodes) body.nodes = encodeNodes(r.nodes, false);
  if (r.nodes6) body.nodes6 = encodeNodes(r.nodes6, true);
  if (r.token) body.token = r.token;
  if (r.values) body.values = r.values.map((p) => encodePeer(p));
  return bencode({ t, y: 'r', r: body, ip: opts.ip ? encodePeer(opts.ip) : undefined, v: opts.v });
}

export function encodeError(t: Uint8Array, code: number, message: string, opts: EncodeOptions = {}): Uint8Array {
  checkT(t);
  return bencode({ t, y: 'e', e: [code, message.slice(0, MAX_ERROR_MESSAGE)], v: opts.v });
}
