/**
 * SOCKS5 client handshake (RFC 1928, with RFC 1929 username/password), as a bytes-in/bytes-out state machine:
 * `start()` gives the greeting; each `receive(bytes)` returns what to send next, or the end — connected (with any
 * bytes that arrived after the proxy's reply: they belong to the tunnelled stream) or failed, with the reason.
 * Only CONNECT. Pure: no I/O.
 */
import { BtError } from '../core/index.js';

export interface Socks5Target {
  /** An IPv4 or IPv6 literal, or a host name (sent to the proxy to resolve). */
  host: string;
  port: number;
}

export interface Socks5Credentials {
  username: string;
  password: string;
}

export type Socks5Step = { send: Uint8Array } | { connected: true; leftover: Uint8Array } | { need: true };

const REPLIES: Record<number, string> = {
  1: 'general SOCKS server failure',
  2: 'connection not allowed by ruleset',
  3: 'network unreachable',
  4: 'host unreachable',
  5: 'connection refused',
  6: 'TTL expired',
  7: 'command not supported',
  8: 'address type not supported',
};

function fail(msg: string): never {
  throw new BtError('ERR_PROXY', `SOCKS5 proxy: ${msg}`, { op: 'connect' });
}

function ipv4Bytes(h: string): number[] | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(h);
  if (!m) return undefined;
  const b = m.slice(1).map(Number);
  return b.every((x) => x <= 255) ? b : undefined;
}

function ipv6Bytes(h: string): number[] | undefined {
  if (!/^[0-9a-fA-F:]+$/.test(h) || h.split('::').length > 2) return undefined;
  const [head, tail] = h.includes('::') ? h.split('::') : [h, ''];
  const hs = head ? head.split(':') : [];
  const ts = tail ? tail.split(':') : [];
  const groups = h.includes('::') ? [...hs, ...Array<string>(8 - hs.length - ts.length).fill('0'), ...ts] : hs;
  if (groups.length !== 8 || !groups.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
  return groups.flatMap((g) => {
    const n = parseInt(g, 16);
    return [n >> 8, n & 255];
  });
}

/** The CONNECT request for a target. */
export function encodeConnect(t: Socks5Target): Uint8Array {
  if (!Number.isInteger(t.port) || t.port < 1 || t.port > 65535) fail(`bad port ${t.port}`);
  const host = t.host.startsWith('[') && t.host.endsWith(']') ? t.host.slice(1, -1) : t.host;
  let addr: number[];
  const v4 = ipv4Bytes(host);
  const v6 = v4 ? undefined : ipv6Bytes(host);
  if (v4) addr = [1, ...v4];
  else if (v6) addr = [4, ...v6];
  else {
    const name = new TextEncoder().encode(host);
    if (name.length === 0 || name.length > 255) fail(`host name of ${name.length} bytes`);
    addr = [3, name.length, ...name];
  }
  return Uint8Array.from([5, 1, 0, ...addr, t.port >> 8, t.port & 255]);
}

export class Socks5Client {
  private state: 'greeting' | 'auth' | 'connect' | 'done' = 'greeting';
  private buf = new Uint8Array(0);

  constructor(
    private readonly target: Socks5Target,
    private readonly credentials?: Socks5Credentials,
  ) {
    encodeConnect(target); // validate early
  }

  /** The greeting: no authentication, and username/password when credentials are given. */
  start(): Uint8Array {
    return this.credentials ? Uint8Array.from([5, 2, 0, 2]) : Uint8Array.from([5, 1, 0]);
  }

  /** Feed bytes from the proxy. Throws BtError ERR_PROXY with the reason when the proxy refuses. */
  receive(bytes: Uint8Array): Socks5Step {
    const b = new Uint8Array(this.buf.length + bytes.length);
    b.set(this.buf);
    b.set(bytes, this.buf.length);
    this.buf = b;
    switch (this.state) {
      case 'greeting': {
        if (b.length < 2) return { need: true };
        if (b[0] !== 5) fail(`not a SOCKS5 server (version byte ${b[0]})`);
        this.buf = b.subarray(2);
        if (b[1] === 0) {
          this.state = 'connect';
          return { send: encodeConnect(this.target) };
        }
        if (b[1] === 2 && this.credentials) {
          const u = new TextEncoder().encode(this.credentials.username);
          const p = new TextEncoder().encode(this.credentials.password);
          if (u.length > 255 || p.length > 255) fail('username or password longer than 255 bytes');
          this.state = 'auth';
          return { send: Uint8Array.from([1, u.length, ...u, p.length, ...p]) };
        }
        return fail(b[1] === 0xff ? 'no acceptable authentication method (credentials needed?)' : `unexpected method ${b[1]}`);
      }
      case 'auth': {
        if (b.length < 2) return { need: true };
        if (b[1] !== 0) fail('username/password rejected');
        this.buf = b.subarray(2);
        this.state = 'connect';
        return { send: encodeConnect(this.target) };
      }
      case 'connect': {
        if (b.length < 5) return { need: true };
        if (b[0] !== 5) fail(`bad reply version ${b[0]}`);
        if (b[1] !== 0) fail(REPLIES[b[1]!] ?? `reply code ${b[1]}`);
        const atyp = b[3];
        const addrLen = atyp === 1 ? 4 : atyp === 4 ? 16 : atyp === 3 ? 1 + b[4]! : fail(`bad address type ${atyp}`);
        const total = 4 + addrLen + 2;
        if (b.length < total) return { need: true };
        this.state = 'done';
        const leftover = b.slice(total);
        this.buf = new Uint8Array(0);
        return { connected: true, leftover };
      }
      default:
        return fail('handshake already finished');
    }
  }
}

/** Parse `socks5://[user:pass@]host:port`. */
export function parseSocks5Url(url: string): { host: string; port: number; credentials?: Socks5Credentials } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return fail(`bad proxy URL ${url}`);
  }
  if (u.protocol !== 'socks5:' && u.protocol !== 'socks5h:') fail(`unsupported proxy scheme ${u.protocol} (socks5://host:port)`);
  const port = u.port ? Number(u.port) : 1080;
  const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
  if (!host) fail(`no host in ${url}`);
  const credentials = u.username ? { username: decodeURIComponent(u.username), password: decodeURIComponent(u.password) } : undefined;
  return credentials ? { host, port, credentials } : { host, port };
}
