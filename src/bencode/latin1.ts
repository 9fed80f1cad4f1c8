/** BEP 3 bencoding: latin1 <-> bytes helpers for dictionary keys (one char per byte, all 256 values). */

const CHUNK = 8192;

/** Decode bytes[start, end) as latin1 (byte i -> U+00ii). Not TextDecoder('latin1'), which is windows-1252. */
export function bytesToLatin1(b: Uint8Array, start = 0, end = b.length): string {
  const n = end - start;
  if (n <= 32) {
    let s = '';
    for (let i = start; i < end; i++) s += String.fromCharCode(b[i]!);
    return s;
  }
  let s = '';
  for (let i = start; i < end; i += CHUNK) {
    s += String.fromCharCode.apply(null, b.subarray(i, Math.min(end, i + CHUNK)) as unknown as number[]);
  }
  return s;
}

/** True when every char code of s is < 256 (s is a latin1 image of bytes). */
export function isLatin1(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0xff) return false;
  return true;
}

/** Encode a latin1 string (every char < 256) back to its bytes. */
export function latin1ToBytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}
