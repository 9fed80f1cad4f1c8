/**
 * IP blocklist: address ranges peers may not come from or be dialed at (what Transmission and qBittorrent call a
 * blocklist). Pure: text in, lookups out.
 *
 * Accepted lines (one range each; blank lines and lines starting with # or // are ignored):
 *   1.2.3.4                      a single address (IPv4 or IPv6)
 *   1.2.3.0/24   2001:db8::/32   CIDR
 *   1.2.3.4-1.2.3.255            a range (IPv4 or IPv6, both ends included)
 *   Some Org:1.2.3.4-1.2.3.255   the eMule / PeerGuardian "P2P" format (description, colon, IPv4 range)
 * Anything else is counted in `errors` (line numbers kept) and skipped. Ranges are merged and looked up by binary
 * search; an IPv4-mapped IPv6 address (::ffff:1.2.3.4) is looked up as IPv4.
 */
export interface IpFilterParse {
  filter: IpFilter;
  /** 1-based numbers of the lines that were not understood (the first 20). */
  badLines: number[];
  /** How many lines were not understood in all. */
  errors: number;
}

type Range<T> = [T, T];

function v4(s: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return undefined;
  let n = 0;
  for (let i = 1; i <= 4; i++) {
    const b = Number(m[i]);
    if (b > 255) return undefined;
    n = n * 256 + b;
  }
  return n;
}

function v6(s: string): bigint | undefined {
  let text = s;
  if (!/^[0-9a-fA-F:.]+$/.test(text) || text.split('::').length > 2) return undefined;
  // A trailing dotted quad (::ffff:1.2.3.4) becomes two groups.
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const n = v4(dotted[1]!);
    if (n === undefined) return undefined;
    text = `${text.slice(0, -dotted[1]!.length)}${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const compressed = text.includes('::');
  const [head, tail] = compressed ? text.split('::') : [text, ''];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  if (compressed && h.length + t.length > 7) return undefined;
  const groups = compressed ? [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t] : h;
  if (groups.length !== 8 || !groups.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
  let n = 0n;
  for (const g of groups) n = (n << 16n) | BigInt(parseInt(g, 16));
  return n;
}

/** Sort and merge overlapping or adjacent ranges. */
function merge4(ranges: Range<number>[]): Range<number>[] {
  ranges.sort((a, b) => a[0] - b[0]);
  const out: Range<number>[] = [];
  for (const r of ranges) {
    const last = out[out.length - 1];
    if (last && r[0] <= last[1] + 1) last[1] = Math.max(last[1], r[1]);
    else out.push([r[0], r[1]]);
  }
  return out;
}

function merge6(ranges: Range<bigint>[]): Range<bigint>[] {
  ranges.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const out: Range<bigint>[] = [];
  for (const r of ranges) {
    const last = out[out.length - 1];
    if (last && r[0] <= last[1] + 1n) last[1] = r[1] > last[1] ? r[1] : last[1];
    else out.push([r[0], r[1]]);
  }
  return out;
}

function find<T extends number | bigint>(ranges: readonly Range<T>[], x: T): boolean {
  let lo = 0;
  let hi = ranges.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const r = ranges[mid]!;
    if (x < r[0]) hi = mid - 1;
    else if (x > r[1]) lo = mid + 1;
    else return true;
  }
  return false;
}

export class IpFilter {
  private constructor(
    private readonly v4Ranges: readonly Range<number>[],
    private readonly v6Ranges: readonly Range<bigint>[],
  ) {}

  static readonly empty = new IpFilter([], []);

  /** Parse a blocklist (see the file comment for the formats). */
  static parse(text: string): IpFilterParse {
    const r4: Range<number>[] = [];
    const r6: Range<bigint>[] = [];
    const badLines: number[] = [];
    let errors = 0;
    const lines = text.split(/\r?\n/);
    lines.forEach((raw, i) => {
      const line = raw.trim();
      if (line === '' || line.startsWith('#') || line.startsWith('//')) return;
      if (!IpFilter.parseLine(line, r4, r6)) {
        errors++;
        if (badLines.length < 20) badLines.push(i + 1);
      }
    });
    return { filter: new IpFilter(merge4(r4), merge6(r6)), badLines, errors };
  }

  private static parseLine(line: string, r4: Range<number>[], r6: Range<bigint>[]): boolean {
    // P2P format: "description:a.b.c.d-e.f.g.h" (the description may hold colons).
    const p2p = /:\s*(\d+\.\d+\.\d+\.\d+)\s*-\s*(\d+\.\d+\.\d+\.\d+)\s*$/.exec(line);
    const body = p2p ? `${p2p[1]}-${p2p[2]}` : line;
    const cidr = /^([^/\s]+)\/(\d{1,3})$/.exec(body);
    if (cidr) {
      const bits = Number(cidr[2]);
      const a4 = v4(cidr[1]!);
      if (a4 !== undefined && bits <= 32) {
        const size = 2 ** (32 - bits);
        const start = a4 - (a4 % size);
        r4.push([start, start + size - 1]);
        return true;
      }
      const a6 = v6(cidr[1]!);
      if (a6 !== undefined && bits <= 128) {
        const host = (1n << BigInt(128 - bits)) - 1n;
        r6.push([a6 & ~host, (a6 & ~host) | host]);
        return true;
      }
      return false;
    }
    const dash = body.split(/\s*-\s*/);
    if (dash.length === 2 || dash.length === 1) {
      const [a, b = a] = dash as [string, string?];
      const a4 = v4(a);
      const b4 = v4(b!);
      if (a4 !== undefined && b4 !== undefined && a4 <= b4) {
        r4.push([a4, b4]);
        return true;
      }
      const a6 = v6(a);
      const b6 = v6(b!);
      if (a6 !== undefined && b6 !== undefined && a6 <= b6) {
        r6.push([a6, b6]);
        return true;
      }
    }
    return false;
  }

  /** How many merged ranges are held. */
  get size(): number {
    return this.v4Ranges.length + this.v6Ranges.length;
  }

  /** Is this address (IPv4, IPv6 or IPv4-mapped IPv6) in a blocked range? Anything unparsable is not blocked. */
  blocked(address: string): boolean {
    if (this.size === 0) return false;
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    const a4 = v4(mapped ? mapped[1]! : address);
    if (a4 !== undefined) return find(this.v4Ranges, a4);
    const a6 = v6(address);
    return a6 !== undefined && find(this.v6Ranges, a6);
  }
}
