/**
 * The RPC server's security checks as pure functions (no I/O): the Host header check against DNS rebinding, the
 * client IP whitelist, the CSRF session id, HTTP basic auth parsing and the login back-off table. As Transmission's
 * rpc-server does them (docs/rpc-spec.md, "CSRF protection" and "DNS rebinding protection").
 */
import type { Clock, Random } from '../core/index.js';

/** IPv4-mapped IPv6 (::ffff:a.b.c.d) as plain IPv4; brackets and zone ids dropped; lowercase. */
export function normalizeAddress(addr: string): string {
  let a = addr.trim().toLowerCase();
  if (a.startsWith('[') && a.endsWith(']')) a = a.slice(1, -1);
  const zone = a.indexOf('%');
  if (zone >= 0) a = a.slice(0, zone);
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(a);
  return mapped ? mapped[1] : a;
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

export function isIpv4(a: string): boolean {
  const m = IPV4.exec(a);
  return !!m && m.slice(1).every((x) => Number(x) <= 255);
}

/** A plausible IPv6 literal (hex groups and colons, at most one `::`, optional trailing IPv4). */
export function isIpv6(a: string): boolean {
  if (!a.includes(':') || !/^[0-9a-f:.]+$/i.test(a)) return false;
  if ((a.match(/::/g) ?? []).length > 1) return false;
  const groups = a.split(':');
  return groups.length >= 3 && groups.length <= 8;
}

export function isIpLiteral(a: string): boolean {
  const n = normalizeAddress(a);
  return isIpv4(n) || isIpv6(n);
}

export function isLoopbackAddress(addr: string): boolean {
  const a = normalizeAddress(addr);
  if (a === '::1' || a === 'localhost') return true;
  return isIpv4(a) && a.startsWith('127.');
}

/** Shell-style match: `*` any run of characters, `?` one character; case-insensitive. */
export function wildcardMatch(pattern: string, text: string): boolean {
  const p = pattern.toLowerCase();
  const t = text.toLowerCase();
  // Iterative matcher with one backtrack point: linear-ish, no regex built from user input.
  let pi = 0;
  let ti = 0;
  let star = -1;
  let mark = 0;
  while (ti < t.length) {
    if (pi < p.length && (p[pi] === '?' || p[pi] === t[ti])) {
      pi++;
      ti++;
    } else if (pi < p.length && p[pi] === '*') {
      star = pi++;
      mark = ti;
    } else if (star >= 0) {
      pi = star + 1;
      ti = ++mark;
    } else return false;
  }
  while (pi < p.length && p[pi] === '*') pi++;
  return pi === p.length;
}

/** The host name of a Host header value ("[::1]:9091" -> "::1", "example.com:80" -> "example.com"). */
export function hostOfHeader(host: string): string {
  const h = host.trim();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    return end > 0 ? h.slice(1, end).toLowerCase() : h.toLowerCase();
  }
  const colon = h.indexOf(':');
  // More than one colon: a bare IPv6 literal (not valid in Host, but harmless to accept as an IP).
  if (colon >= 0 && h.indexOf(':', colon + 1) < 0) return h.slice(0, colon).toLowerCase();
  return h.toLowerCase();
}

/**
 * The DNS-rebinding check, as Transmission does it: a request must name this server by `localhost`, by an IP
 * address (a rebinding attack needs a host *name*), by the bound address, or by a name on the whitelist
 * (wildcards allowed; "*" turns the check off). A missing Host header is refused.
 */
export function hostAllowed(hostHeader: string | undefined, boundHost: string, whitelist: readonly string[] = []): boolean {
  if (whitelist.includes('*')) return true;
  if (hostHeader === undefined || hostHeader.trim() === '') return false;
  const name = hostOfHeader(hostHeader);
  if (name === 'localhost' || name === 'localhost.' || name.endsWith('.localhost')) return true;
  if (isIpLiteral(name)) return true;
  if (name === boundHost.toLowerCase()) return true;
  return whitelist.some((w) => wildcardMatch(w.trim(), name));
}

/**
 * The client IP whitelist: entries are addresses with `*`/`?` wildcards (192.168.*.*) or IPv4 CIDR blocks
 * (10.0.0.0/8). `undefined` means any address; an empty list allows none.
 */
export function ipAllowed(addr: string | undefined, whitelist: readonly string[] | undefined): boolean {
  if (whitelist === undefined) return true;
  if (addr === undefined) return false;
  const a = normalizeAddress(addr);
  return whitelist.some((raw) => {
    const w = normalizeAddress(raw);
    if (w === '') return false;
    if (w.includes('/')) return cidrMatch(w, a);
    return wildcardMatch(w, a);
  });
}

function ipv4ToInt(a: string): number {
  return a.split('.').reduce((n, x) => n * 256 + Number(x), 0);
}

function cidrMatch(cidr: string, addr: string): boolean {
  const [base, bitsText] = cidr.split('/');
  const bits = Number(bitsText);
  if (!isIpv4(base) || !isIpv4(addr) || !Number.isInteger(bits) || bits < 0 || bits > 32) return false;
  if (bits === 0) return true;
  const mask = bits === 32 ? 0xffffffff : (0xffffffff << (32 - bits)) >>> 0;
  return ((ipv4ToInt(base) & mask) >>> 0) === ((ipv4ToInt(addr) & mask) >>> 0);
}

/** The default whitelist: loopback only when bound to loopback, any address otherwise. */
export function defaultIpWhitelist(boundHost: string): string[] | undefined {
  return isLoopbackAddress(boundHost) ? ['127.*.*.*', '::1'] : undefined;
}

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A CSRF session id as Transmission makes them: 48 random letters and digits. */
export function newSessionId(random: Random): string {
  let s = '';
  for (const b of random.bytes(48)) s += ID_ALPHABET[b % ID_ALPHABET.length];
  return s;
}

/** user/password of an `Authorization: Basic ...` header, or undefined when it is missing or malformed. */
export function parseBasicAuth(header: string | undefined): { username: string; password: string } | undefined {
  if (!header) return undefined;
  const m = /^\s*basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!m) return undefined;
  const text = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon < 0) return undefined;
  return { username: text.slice(0, colon), password: text.slice(colon + 1) };
}

export interface LoginBackoffOptions {
  /** Failures counted within this window (ms; default 10 minutes). */
  windowMs?: number;
  /** After this many failures in the window, refuse (429) until the window passes (default 10). */
  maxFailures?: number;
  /** Delay before answering the n-th failure: base * 2^(n-1), capped (defaults 100 ms and 3.2 s). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Most clients remembered (oldest forgotten first; default 1024). */
  maxEntries?: number;
}

interface Failures {
  count: number;
  first: number;
}

/**
 * Failed logins per client address: each failure answers a little later than the last, and after
 * `maxFailures` in the window the client is refused outright (429 with Retry-After) until the window ends.
 * Memory is bounded: past `maxEntries` clients the oldest entry is dropped.
 */
export class LoginBackoff {
  private readonly table = new Map<string, Failures>();
  private readonly windowMs: number;
  private readonly maxFailures: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly maxEntries: number;

  constructor(
    private readonly clock: Clock,
    opts: LoginBackoffOptions = {},
  ) {
    this.windowMs = opts.windowMs ?? 10 * 60_000;
    this.maxFailures = opts.maxFailures ?? 10;
    this.baseDelayMs = opts.baseDelayMs ?? 100;
    this.maxDelayMs = opts.maxDelayMs ?? 3200;
    this.maxEntries = opts.maxEntries ?? 1024;
  }

  get size(): number {
    return this.table.size;
  }

  private entry(addr: string): Failures | undefined {
    const e = this.table.get(addr);
    if (e && this.clock.now() - e.first >= this.windowMs) {
      this.table.delete(addr);
      return undefined;
    }
    return e;
  }

  /** Milliseconds this client must wait before it may try again (0: it may try now). */
  lockedFor(addr: string): number {
    const e = this.entry(addr);
    if (!e || e.count < this.maxFailures) return 0;
    return Math.max(1, e.first + this.windowMs - this.clock.now());
  }

  /** Record a failure; returns how long to hold the 401 answer back (ms). */
  fail(addr: string): number {
    let e = this.entry(addr);
    if (!e) {
      if (this.table.size >= this.maxEntries) {
        const oldest = this.table.keys().next();
        if (!oldest.done) this.table.delete(oldest.value);
      }
      e = { count: 0, first: this.clock.now() };
      this.table.set(addr, e);
    }
    e.count++;
    return Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** Math.min(30, e.count - 1));
  }

  succeed(addr: string): void {
    this.table.delete(addr);
  }
}
