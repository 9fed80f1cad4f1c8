export type { Connection, ConnectionHandlers, DialOptions, Listener, Transport, TransportKind } from './types.js';
export { TcpTransport } from './tcp/tcp-transport.js';
export { memoryPair } from './memory/memory-transport.js';
