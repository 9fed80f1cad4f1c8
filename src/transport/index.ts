export type { Connection, ConnectionHandlers, DialOptions, Listener, Transport, TransportKind } from './types.js';
export { TcpTransport } from './tcp/tcp-transport.js';
export { memoryPair, MemoryNetwork, MemoryTransport, defaultMemoryNetwork } from './memory/index.js';
