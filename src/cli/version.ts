/** torrentkit's version (package.json's), for --version and the RPC's session-get. */
export const VERSION = '0.1.0';
