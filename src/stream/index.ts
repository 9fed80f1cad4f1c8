/** Streaming (issue 16): read streams with a moving priority window, and the HTTP range server. See NOTES.md. */
export { StreamManager, FileReadStream, DEFAULT_STREAM_SETTINGS, checkRange } from './stream-manager.js';
export type { StreamSettings, ReadStreamOptions, StreamStats } from './stream-manager.js';
export { createStreamHandler, createStreamServer } from './node-http-server.js';
export type { TorrentSource, StreamHandlerOptions, StreamRoute, StreamServerOptions, StreamServer } from './node-http-server.js';
export { contentType, contentDisposition } from './content.js';
