/**
 * The web UI's static files, the pure part: URL path -> safe relative path segments, and content types.
 * node-http-server.ts does the file system side (realpath containment, streaming).
 */

/**
 * The path segments of a URL path under the web UI's root, each percent-decoded, or undefined when any is
 * unsafe: `.` or `..` (also when encoded, `%2e%2e`), a decoded `/` or `\`, a NUL, or a bad escape. Hidden names
 * (`.git`, `.htpasswd`) are refused too: a web UI has none.
 * Empty segments (`a//b`, a trailing `/`) are dropped.
 */
export function safeSegments(urlPath: string): string[] | undefined {
  const out: string[] = [];
  for (const raw of urlPath.split('/')) {
    if (raw === '') continue;
    let seg: string;
    try {
      seg = decodeURIComponent(raw);
    } catch {
      return undefined;
    }
    if (seg.startsWith('.') || seg.includes('/') || seg.includes('\\') || seg.includes('\0')) return undefined;
    // Windows-style drive letters and device names are meaningless here; refuse ':' outright.
    if (seg.includes(':')) return undefined;
    out.push(seg);
  }
  return out;
}

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  htm: 'text/html; charset=utf-8',
  css: 'text/css; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  mjs: 'text/javascript; charset=utf-8',
  map: 'application/json; charset=utf-8',
  json: 'application/json; charset=utf-8',
  webmanifest: 'application/manifest+json; charset=utf-8',
  txt: 'text/plain; charset=utf-8',
  svg: 'image/svg+xml',
  png: 'image/png',
  gif: 'image/gif',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  ico: 'image/x-icon',
  webp: 'image/webp',
  woff: 'font/woff',
  woff2: 'font/woff2',
  ttf: 'font/ttf',
  otf: 'font/otf',
  eot: 'application/vnd.ms-fontobject',
  xml: 'application/xml; charset=utf-8',
};

export function contentTypeFor(file: string): string {
  const dot = file.lastIndexOf('.');
  const ext = dot >= 0 ? file.slice(dot + 1).toLowerCase() : '';
  return TYPES[ext] ?? 'application/octet-stream';
}

/** HTML-escape for the few messages that echo something back. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export const CSRF_BODY = (id: string): string =>
  '<h1>409: Conflict</h1><p>Your request had an invalid session-id header.</p><p>To fix this, follow these steps:<ol>' +
  '<li> When reading a response, get its X-Transmission-Session-Id header and remember it' +
  '<li> Add the updated header to your outgoing requests' +
  '<li> When you get this 409 error message, resend your request with the updated header</ol></p>' +
  '<p>This requirement has been added to help prevent <a href="https://en.wikipedia.org/wiki/Cross-site_request_forgery">CSRF</a> attacks.</p>' +
  `<p><code>X-Transmission-Session-Id: ${escapeHtml(id)}</code></p>`;

export const HOST_BODY =
  '<h1>421: Misdirected Request</h1><p>torrentkit received your request, but the hostname was unrecognized.</p>' +
  '<p>To fix this, choose one of the following options:<ul><li>Enable password authentication (--rpc-username/--rpc-password), then any hostname is allowed.</li>' +
  '<li>Add the hostname you want to use to the whitelist (--rpc-host-whitelist NAME, or rpc-host-whitelist in settings.json).</li></ul></p>' +
  '<p>This requirement has been added to help prevent <a href="https://en.wikipedia.org/wiki/DNS_rebinding">DNS Rebinding</a> attacks.</p>';

export const IP_BODY =
  '<h1>403: Forbidden</h1><p>Unauthorized IP Address.</p><p>Either add your address to the whitelist (--rpc-whitelist, or rpc-whitelist in settings.json) ' +
  'or connect from an allowed address.</p>';

export const AUTH_BODY = '<h1>401: Unauthorized</h1><p>Unauthorized User</p>';

export const NO_WEB_UI_BODY =
  '<h1>404: Not Found</h1><p>The web interface is not installed.</p><p>Install the Transmission web UI ' +
  '(<code>apt install transmission-common</code>; it goes to /usr/share/transmission/web or /usr/share/transmission/public_html) ' +
  'or point torrentkit at a copy with <code>--web-ui DIR</code> (or TRANSMISSION_WEB_HOME). The RPC interface itself works: ' +
  'POST /transmission/rpc, e.g. with transmission-remote.</p>';
