/** Peer wire message shapes (BEP 3 core, BEP 6 fast extension, BEP 10 extension protocol). */

export const BLOCK_SIZE = 16384;

export interface Handshake {
  /** 8 reserved bytes. */
  reserved: Uint8Array;
  infoHash: Uint8Array;
  peerId: Uint8Array;
}

export type Message =
  | { type: 'keep-alive' }
  | { type: 'choke' }
  | { type: 'unchoke' }
  | { type: 'interested' }
  | { type: 'not-interested' }
  | { type: 'have'; index: number }
  | { type: 'bitfield'; bits: Uint8Array }
  | { type: 'request'; index: number; begin: number; length: number }
  | { type: 'piece'; index: number; begin: number; block: Uint8Array }
  | { type: 'cancel'; index: number; begin: number; length: number }
  | { type: 'port'; port: number }
  // BEP 6
  | { type: 'suggest'; index: number }
  | { type: 'have-all' }
  | { type: 'have-none' }
  | { type: 'reject'; index: number; begin: number; length: number }
  | { type: 'allowed-fast'; index: number }
  // BEP 10: id 0 is the extended handshake; payload is the raw bencoded bytes after the ext id
  | { type: 'extended'; id: number; payload: Uint8Array }
  // An id this codec does not know: real clients ignore these rather than disconnect.
  | { type: 'unknown'; id: number; payload: Uint8Array };

export type MessageType = Message['type'];
