/** Name resolution and this machine's addresses through node:dns / node:os (the engine's default Deps). */
import * as dns from 'node:dns';
import * as os from 'node:os';

const literal = (host: string): boolean => /^[\d.]+$/.test(host) || host.includes(':');

/** Host name → one address; an address literal gives itself. */
export async function nodeResolve(host: string): Promise<string> {
  if (literal(host)) return host;
  const r = await dns.promises.lookup(host);
  return r.address;
}

/** Host name → all its addresses, IPv4 and IPv6; an address literal gives itself. */
export async function nodeResolveAll(host: string): Promise<string[]> {
  if (literal(host)) return [host];
  const all = await dns.promises.lookup(host, { all: true });
  return [...new Set(all.map((a) => a.address))];
}

/** Every address of every network interface. */
export function nodeLocalAddresses(): string[] {
  const out: string[] = [];
  for (const list of Object.values(os.networkInterfaces())) for (const a of list ?? []) out.push(a.address);
  return out;
}
