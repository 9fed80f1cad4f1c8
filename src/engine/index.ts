export { ClientEngine, metadataCachePath, resumeDataPath } from './client-engine.js';
export type { Deps, EngineUdp, AddTorrentOptions, EngineEvents, PortForwardingStatus, ReachabilityReport } from './client-engine.js';
export { resolveSettings, DEFAULT_SETTINGS } from './settings.js';
export type { EngineSettings } from './settings.js';
