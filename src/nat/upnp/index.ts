export * from './ssdp.js';
export * from './description.js';
export * from './soap.js';
export * from './upnp-client.js';
