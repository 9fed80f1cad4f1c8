/**
 * The RPC layer's contract (issue 15). `createRpcHandler(session)` (src/rpc/handler.ts) answers one Transmission RPC
 * request body, in either format (legacy `method`/`arguments`/`tag`, or JSON-RPC 2.0), chosen per request.
 * `startRpcServer(opts)` (src/rpc/node-http-server.ts, the only I/O here) serves it over HTTP with the security
 * checks, plus the web UI's static files.
 */
export interface RpcReply {
  /** 200, or 204 for a JSON-RPC notification; 400 only for a body that is not a request at all. */
  status: number;
  body: string;
  contentType: string;
}

export interface RpcHandler {
  /** Never throws: every failure is an error answer in the request's format. */
  handle(body: Uint8Array): Promise<RpcReply>;
}

export interface RpcHandlerOptions {
  /** torrentkit's version, for session-get's `version` (shown as "4.0.0 (torrentkit X)" to version-gating clients). */
  version?: string;
  /** Where the config lives (session-get `config-dir`; torrent-get `torrentFile` is `<configDir>/torrents/<hash>.torrent`). */
  configDir?: string;
  /** Unix-epoch time source (recently-active, isStalled, etaIdle); NodeClock by default. */
  clock?: import('../core/index.js').Clock;
  /** torrent-add `filename` as an http(s) URL: fetch the .torrent. Absent: such adds answer an error. */
  fetchUrl?: (url: string) => Promise<Uint8Array>;
  /** torrent-add `filename` as a local path: read the .torrent. Absent: such adds answer an error. */
  readFile?: (path: string) => Promise<Uint8Array>;
  /** free-space and session-get `download-dir-free-space`: bytes free and total under a directory. */
  statfs?: (path: string) => Promise<{ free: number; total: number }>;
  /** blocklist-update: download and apply the blocklist, answer its rule count. Absent: "not configured" error. */
  updateBlocklist?: () => Promise<number>;
  /** session-get `session-id`: the server's current X-Transmission-Session-Id. */
  sessionId?: () => string;
  /** session-close: called instead of session.close() (the daemon closes after the answer is sent). */
  onClose?: () => void;
}

export interface RpcAuth {
  username: string;
  /** "scrypt$<N>$<salt b64>$<hash b64>" (hashPassword in src/rpc/password.ts). */
  passwordHash: string;
}

export interface RpcServerOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 9091; 0 picks a free port. */
  port?: number;
  handler: RpcHandler;
  /** Directory with the Transmission web UI's index.html; none: /transmission/web/ answers 404 with a hint. */
  webUiDir?: string;
  /** Required when host is not loopback (startRpcServer refuses to start without it). */
  auth?: RpcAuth;
  /** Extra Host header names accepted besides localhost, loopback addresses and the bound address. "*" turns the check off. */
  hostWhitelist?: string[];
  /** Client addresses allowed (wildcards like 192.168.*.*); default loopback only when bound to loopback, any otherwise. */
  ipWhitelist?: string[];
  /** Largest request body accepted (default 32 MiB: a 16 MiB .torrent in base64 fits). */
  maxBodyBytes?: number;
  /** Extra GET routes (streaming, issue 16): first match wins; return false to fall through. */
  routes?: Array<(req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => boolean | Promise<boolean>>;
  onWarning?: (message: string) => void;
  /** Timers for the login back-off (default: the real clock). */
  clock?: import('../core/index.js').Clock;
  /** For the CSRF session id (default: crypto's generator). */
  random?: import('../core/index.js').Random;
  /** Whole request headers must arrive within this (default 20 s): slow-loris clients lose their socket. */
  headersTimeoutMs?: number;
  /** Whole request, body included, within this (default 120 s). */
  requestTimeoutMs?: number;
  /** Most simultaneous connections (default 128); more are dropped. */
  maxConnections?: number;
  /** Failed-login back-off per client address (window, failures before 429, delays, table size). */
  loginBackoff?: import('./security.js').LoginBackoffOptions;
}

export interface RpcServer {
  readonly host: string;
  readonly port: number;
  /** The CSRF token clients must send as X-Transmission-Session-Id. */
  readonly sessionId: string;
  close(): Promise<void>;
}
