/** In-process transport for tests and simulations: connection pairs, and a Transport over a registry of listeners. */
export { memoryPair } from './memory-transport.js';
export { MemoryNetwork, MemoryTransport, defaultMemoryNetwork } from './memory-network.js';
