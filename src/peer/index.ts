export { PeerConnection } from './peer-connection.js';
export type { PeerHandler, PeerConnectionInit } from './peer-connection.js';
export { performHandshake } from './handshake.js';
export type { HandshakeResult, HandshakeOptions } from './handshake.js';
export { ConnectionManager } from './connection-manager.js';
export type { DialTarget, ConnectionManagerOptions } from './connection-manager.js';
export { ListenManager } from './listen-manager.js';
export type { ListenManagerOptions } from './listen-manager.js';
