/**
 * SSDP search (UPnP Device Architecture 1.1 section 1.3): the M-SEARCH request sent to
 * 239.255.255.250:1900 and the parser for the unicast HTTPU responses. Pure.
 */

export const SSDP_ADDRESS = '239.255.255.250';
export const SSDP_PORT = 1900;

/** What a BitTorrent client searches for: the IGD device types and the WAN connection services. */
export const IGD_SEARCH_TARGETS: readonly string[] = [
  'urn:schemas-upnp-org:device:InternetGatewayDevice:1',
  'urn:schemas-upnp-org:device:InternetGatewayDevice:2',
  'urn:schemas-upnp-org:service:WANIPConnection:1',
  'urn:schemas-upnp-org:service:WANIPConnection:2',
  'urn:schemas-upnp-org:service:WANPPPConnection:1',
];

/** Responses longer than this are ignored (a real one is a few hundred bytes). */
export const SSDP_MAX_RESPONSE_BYTES = 4096;

export function buildMSearch(searchTarget: string, mxSeconds = 2): Uint8Array {
  const mx = Math.max(1, Math.min(5, Math.floor(mxSeconds)));
  const text =
    'M-SEARCH * HTTP/1.1\r\n' +
    `HOST: ${SSDP_ADDRESS}:${SSDP_PORT}\r\n` +
    'MAN: "ssdp:discover"\r\n' +
    `MX: ${mx}\r\n` +
    `ST: ${searchTarget}\r\n` +
    'USER-AGENT: Node/20 UPnP/1.1 torrentkit/0.1\r\n' +
    '\r\n';
  return new TextEncoder().encode(text);
}

export interface SsdpResponse {
  /** Search target the device answered for. */
  st: string;
  /** URL of the root device description (an absolute http: URL). */
  location: string;
  usn: string | undefined;
  server: string | undefined;
  /** Every header, names lower-cased (the last one wins on repeats). */
  headers: Record<string, string>;
}

/**
 * Parse one SSDP search response ("HTTP/1.1 200 OK" with ST and LOCATION). Returns undefined for anything
 * else: NOTIFY or M-SEARCH packets from other hosts, non-200 statuses, oversized or non-text packets,
 * missing headers, or a LOCATION that is not an http: URL.
 */
export function parseSsdpResponse(bytes: Uint8Array): SsdpResponse | undefined {
  if (bytes.length === 0 || bytes.length > SSDP_MAX_RESPONSE_BYTES) return undefined;
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  const lines = text.split(/\r?\n/);
  const status = /^HTTP\/1\.[01]\s+(\d{3})\b/i.exec(lines[0] ?? '');
  if (!status || status[1] !== '200') return undefined;
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    if (line === '') break;
    const i = line.indexOf(':');
    if (i <= 0) continue;
    headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  const st = headers['st'];
  const location = headers['location'];
  if (!st || !location) return undefined;
  let url: URL;
  try {
    url = new URL(location);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:') return undefined;
  return { st, location: url.href, usn: headers['usn'], server: headers['server'], headers };
}

/** Is `st` one of the IGD device or WAN connection search targets (any version)? */
export function isIgdSearchTarget(st: string): boolean {
  return /^urn:schemas-upnp-org:(device:InternetGatewayDevice|service:WANIPConnection|service:WANPPPConnection):\d+$/.test(st);
}
