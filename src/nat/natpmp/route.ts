/** Parse Linux /proc/net/route for the IPv4 default gateway (natpmpc finds its gateway the same way). Pure. */

const RTF_UP = 0x1;
const RTF_GATEWAY = 0x2;

/** The gateway of the best (lowest metric) default route that is up, or undefined. */
export function parseProcNetRoute(text: string): string | undefined {
  let best: { gw: string; metric: number } | undefined;
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    const [, dest, gwHex, flagsHex, , , metricStr, mask] = f;
    if (dest !== '00000000' || mask !== '00000000') continue;
    const flags = parseInt(flagsHex!, 16);
    if (!(flags & RTF_UP) || !(flags & RTF_GATEWAY)) continue;
    if (!/^[0-9A-Fa-f]{8}$/.test(gwHex!)) continue;
    const n = parseInt(gwHex!, 16);
    // The kernel prints the address in host byte order (little-endian on the machines we run on).
    const gw = [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff].join('.');
    if (gw === '0.0.0.0') continue;
    const metric = Number(metricStr);
    if (!best || metric < best.metric) best = { gw, metric };
  }
  return best?.gw;
}
