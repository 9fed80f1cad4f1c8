export * from './codec.js';
export * from './pcp-codec.js';
export * from './route.js';
export * from './client.js';
