/** What the HTTP server says about a file: its Content-Type (by extension), Content-Disposition, and URL paths. */

const TYPES: Record<string, string> = {
  mp4: 'video/mp4', m4v: 'video/mp4', mkv: 'video/x-matroska', webm: 'video/webm', avi: 'video/x-msvideo', mov: 'video/quicktime',
  ts: 'video/mp2t', m2ts: 'video/mp2t', mpg: 'video/mpeg', mpeg: 'video/mpeg', ogv: 'video/ogg', flv: 'video/x-flv', wmv: 'video/x-ms-wmv',
  '3gp': 'video/3gpp', mp3: 'audio/mpeg', m4a: 'audio/mp4', aac: 'audio/aac', flac: 'audio/flac', ogg: 'audio/ogg', oga: 'audio/ogg',
  opus: 'audio/ogg', wav: 'audio/wav', wma: 'audio/x-ms-wma', srt: 'application/x-subrip', vtt: 'text/vtt', ass: 'text/x-ssa',
  txt: 'text/plain; charset=utf-8', nfo: 'text/plain; charset=utf-8', md: 'text/markdown; charset=utf-8', html: 'text/html; charset=utf-8',
  htm: 'text/html; charset=utf-8', json: 'application/json', pdf: 'application/pdf', epub: 'application/epub+zip', jpg: 'image/jpeg',
  jpeg: 'image/jpeg', png: 'image/png', gif: 'image/gif', webp: 'image/webp', svg: 'image/svg+xml', zip: 'application/zip',
  gz: 'application/gzip', tar: 'application/x-tar', iso: 'application/x-iso9660-image', m3u: 'audio/x-mpegurl', m3u8: 'application/vnd.apple.mpegurl',
};

/** Content-Type from a file name's extension; application/octet-stream when unknown. */
export function contentType(name: string): string {
  const dot = name.lastIndexOf('.');
  if (dot < 0) return 'application/octet-stream';
  return TYPES[name.slice(dot + 1).toLowerCase()] ?? 'application/octet-stream';
}

/** Is this file something a media player plays (it goes into the M3U playlist)? */
export function isMedia(name: string): boolean {
  const t = contentType(name);
  return t.startsWith('video/') || t.startsWith('audio/');
}

/**
 * Content-Disposition for a file name: `inline` (a player or browser shows it), an ASCII `filename` fallback
 * (non-ASCII, quotes and backslashes as `_`) and, when the name is not plain ASCII, RFC 5987 `filename*`.
 */
export function contentDisposition(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  let v = `inline; filename="${ascii}"`;
  if (ascii !== name) v += `; filename*=UTF-8''${rfc5987(name)}`;
  return v;
}

function rfc5987(s: string): string {
  return encodeURIComponent(s).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The URL path of a file: <prefix>/<info-hash>/<index>/<name, percent-encoded>. */
export function filePath(prefix: string, infoHashHex: string, fileIndex: number, name: string): string {
  return `${prefix}/${infoHashHex}/${fileIndex}/${encodeURIComponent(name)}`;
}

/** Escape text for HTML. */
export function html(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
