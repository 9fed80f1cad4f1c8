/**
 * Telling an incoming connection's first bytes apart: a plaintext BitTorrent handshake (BEP 3) starts with
 * the byte 19 and "BitTorrent protocol"; an MSE/PE handshake (Vuze "Message_Stream_Encryption" spec)
 * starts with a 96-byte Diffie-Hellman public key, which matches those 20 bytes with probability 2^-160.
 */

/** `\x13BitTorrent protocol` (kept local so mse/ does not depend on wire/). */
const HEADER: Uint8Array = Uint8Array.from('\x13BitTorrent protocol', (c) => c.charCodeAt(0));
/** Bytes needed to decide for certain. */
export const DETECT_BYTES = HEADER.length;

/** True when `firstBytes` holds at least 20 bytes and they are a plaintext BitTorrent handshake header. */
export function looksLikePlaintextHandshake(firstBytes: Uint8Array): boolean {
  return classifyFirstBytes(firstBytes) === 'plaintext';
}

/**
 * 'plaintext' (20 bytes match the BitTorrent header), 'encrypted' (some byte differs: treat as MSE), or
 * undefined (every byte so far matches, fewer than 20 bytes: read more). Decides at the first byte that
 * differs, so an MSE peer (which sends 96 bytes at once) is recognised without waiting.
 */
export function classifyFirstBytes(firstBytes: Uint8Array): 'plaintext' | 'encrypted' | undefined {
  const n = Math.min(firstBytes.length, HEADER.length);
  for (let i = 0; i < n; i++) if (firstBytes[i] !== HEADER[i]) return 'encrypted';
  return n === HEADER.length ? 'plaintext' : undefined;
}
