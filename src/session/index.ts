/** The session layer (issue 15): a persistent multi-torrent session over one ClientEngine. */
export type * from './types.js';
export { Session, openSession, enginePriority, SAVE_DELAY_MS, SAMPLE_INTERVAL_MS } from './session.js';
export { DEFAULT_SESSION_SETTINGS } from './settings.js';
export type { SessionFs } from './fs.js';
export { NodeSessionFs } from './node-fs.js';
