export { ClientEngine, metadataCachePath, resumeDataPath } from './client-engine.js';
export type { Deps, AddTorrentOptions, EngineEvents, PortForwardingStatus, ReachabilityReport } from './client-engine.js';
