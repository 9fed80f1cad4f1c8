export { ClientEngine, metadataCachePath } from './client-engine.js';
export type { Deps, AddTorrentOptions, EngineEvents } from './client-engine.js';
