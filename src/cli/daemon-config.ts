/**
 * `torrentkit daemon`'s configuration: defaults (config dir, download dir, web UI), the RPC keys of
 * `<config-dir>/settings.json` (Transmission's names: rpc-username, rpc-password, rpc-bind-address, rpc-port,
 * rpc-whitelist, rpc-host-whitelist, watch-dir), and command-line options over both.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { hashPassword, isPasswordHash } from '../index.js';
import type { EngineSettings, RpcAuth } from '../index.js';
import { CliExit, EXIT } from './exit.js';
import { engineSettings } from './options.js';
import type { NetOpts } from './options.js';

/** `torrentkit daemon`'s options as commander parses them. */
export interface DaemonOpts extends NetOpts {
  configDir?: string;
  downloadDir?: string;
  rpcBind?: string;
  rpcPort?: number;
  rpcUsername?: string;
  rpcPassword?: string;
  rpcHostWhitelist?: string[];
  rpcWhitelist?: string[];
  webUi?: string;
  watchDir?: string;
  verbose?: boolean;
}

export interface DaemonConfig {
  configDir: string;
  downloadDir: string;
  host: string;
  port: number;
  /** Username and plaintext-or-hash, resolved to a hash by resolveAuth. */
  username?: string;
  password?: string;
  hostWhitelist?: string[];
  ipWhitelist?: string[];
  webUiDir?: string;
  watchDir?: string;
  engineSettings: Partial<EngineSettings>;
}

/** $XDG_CONFIG_HOME/torrentkit, else ~/.config/torrentkit. */
export function defaultConfigDir(env: NodeJS.ProcessEnv = process.env, home: () => string = homedir): string {
  return join(env.XDG_CONFIG_HOME || join(home(), '.config'), 'torrentkit');
}

export function defaultDownloadDir(home: () => string = homedir): string {
  return join(home(), 'Downloads');
}

/** Where a Transmission web UI may be installed, in order: $TRANSMISSION_WEB_HOME, then Debian's two places. */
export function webUiCandidates(env: NodeJS.ProcessEnv = process.env): string[] {
  return [env.TRANSMISSION_WEB_HOME, '/usr/share/transmission/web', '/usr/share/transmission/public_html'].filter((d): d is string => !!d);
}

/** The first candidate holding an index.html. */
export function findWebUi(candidates: string[], exists: (p: string) => boolean = existsSync): string | undefined {
  return candidates.find((d) => exists(join(d, 'index.html')));
}

/** A comma- or space-separated list (Transmission's settings.json style) or an array of strings. */
function listOf(v: unknown): string[] | undefined {
  if (typeof v === 'string') {
    const l = v.split(/[,\s]+/).filter((x) => x.length > 0);
    return l;
  }
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  return undefined;
}

/** settings.json as an object ({} when missing); unreadable or malformed is a usage error. */
export function readSettingsJson(file: string, read: (f: string) => string = (f) => readFileSync(f, 'utf8')): Record<string, unknown> {
  let text: string;
  try {
    text = read(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new CliExit(EXIT.USAGE, `cannot read ${file}: ${(e as Error).message}`);
  }
  try {
    const v: unknown = JSON.parse(text);
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // below
  }
  throw new CliExit(EXIT.USAGE, `${file} is not a JSON object; fix or remove it`);
}

/** Options over settings.json over the defaults. Pure apart from the web UI lookup (injected `exists`). */
export function resolveDaemonConfig(
  opts: DaemonOpts,
  settings: Record<string, unknown>,
  env: NodeJS.ProcessEnv = process.env,
  deps: { home?: () => string; exists?: (p: string) => boolean } = {},
): DaemonConfig {
  const home = deps.home ?? homedir;
  const configDir = resolve(opts.configDir ?? defaultConfigDir(env, home));
  const str = (k: string): string | undefined => (typeof settings[k] === 'string' ? (settings[k] as string) : undefined);
  const enabled = (k: string): boolean => settings[k] !== false;
  const username = opts.rpcUsername ?? (settings['rpc-authentication-required'] === false ? undefined : str('rpc-username'));
  const password = opts.rpcPassword ?? (settings['rpc-authentication-required'] === false ? undefined : str('rpc-password'));
  if ((username === undefined) !== (password === undefined) || username === '' || password === '') {
    throw new CliExit(EXIT.USAGE, 'RPC authentication needs both a username and a password (--rpc-username and --rpc-password, or rpc-username/rpc-password in settings.json)');
  }
  const portSetting = typeof settings['rpc-port'] === 'number' ? (settings['rpc-port'] as number) : undefined;
  const port = opts.rpcPort ?? portSetting ?? 9091;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CliExit(EXIT.USAGE, `rpc-port ${port} is not a port number`);
  let webUiDir: string | undefined;
  if (opts.webUi !== undefined) webUiDir = resolve(opts.webUi);
  else webUiDir = findWebUi(webUiCandidates(env), deps.exists);
  const watchDir = opts.watchDir ?? (enabled('watch-dir-enabled') ? str('watch-dir') : undefined);
  const es = engineSettings(opts, env);
  // The session keeps its own peer port (settings.json peer-port): only an explicit --port/--listen overrides it.
  if (opts.port === undefined && !(opts.listen && opts.listen.length > 0)) delete es.listenEndpoints;
  // The DHT routing table lives with the rest of the daemon's state unless --dht-state says otherwise.
  if (opts.dhtState === undefined) es.dhtStateFile = join(configDir, 'dht.json');
  return {
    configDir,
    downloadDir: resolve(opts.downloadDir ?? str('download-dir') ?? defaultDownloadDir(home)),
    host: opts.rpcBind ?? str('rpc-bind-address') ?? '127.0.0.1',
    port,
    ...(username !== undefined ? { username, password } : {}),
    hostWhitelist: opts.rpcHostWhitelist?.length ? opts.rpcHostWhitelist : enabled('rpc-host-whitelist-enabled') ? listOf(settings['rpc-host-whitelist']) : ['*'],
    ipWhitelist: opts.rpcWhitelist?.length ? opts.rpcWhitelist : enabled('rpc-whitelist-enabled') ? listOf(settings['rpc-whitelist']) : ['*'],
    ...(webUiDir !== undefined ? { webUiDir } : {}),
    ...(watchDir !== undefined ? { watchDir: resolve(watchDir) } : {}),
    engineSettings: es,
  };
}

/**
 * The RPC credentials, hashed. A plaintext rpc-password found in settings.json is replaced there by its hash
 * (the file rewritten atomically, every other key kept), as Transmission does on start.
 */
export async function resolveAuth(
  cfg: DaemonConfig,
  opts: DaemonOpts,
  settings: Record<string, unknown>,
  settingsFile: string,
  io: { write?: (file: string, text: string) => void; warn?: (m: string) => void; /** scrypt cost (tests use a small one). */ scryptN?: number } = {},
): Promise<RpcAuth | undefined> {
  if (cfg.username === undefined || cfg.password === undefined) return undefined;
  const fromSettings = opts.rpcPassword === undefined;
  if (isPasswordHash(cfg.password)) return { username: cfg.username, passwordHash: cfg.password };
  if (fromSettings && cfg.password.startsWith('{') && cfg.password.length === 49) {
    throw new CliExit(
      EXIT.USAGE,
      `${settingsFile}: rpc-password holds a Transmission (SHA-1) hash that torrentkit cannot check; put the plaintext password there once (it is replaced by a scrypt hash on start)`,
    );
  }
  const passwordHash = await hashPassword(cfg.password, io.scryptN !== undefined ? { n: io.scryptN } : {});
  if (fromSettings) {
    const write =
      io.write ??
      ((file: string, text: string): void => {
        const tmp = `${file}.tmp-${process.pid}`;
        writeFileSync(tmp, text, { mode: 0o600 });
        renameSync(tmp, file);
      });
    try {
      write(settingsFile, `${JSON.stringify({ ...settings, 'rpc-password': passwordHash }, null, 4)}\n`);
    } catch (e) {
      io.warn?.(`could not replace the plaintext rpc-password in ${settingsFile} by its hash: ${(e as Error).message}`);
    }
  }
  return { username: cfg.username, passwordHash };
}

/** The daemon's own keys of settings.json (rpc-*, watch-dir*), with the password as its hash once hashed. */
export function daemonKeys(settings: Record<string, unknown>, auth: RpcAuth | undefined, opts: DaemonOpts): Record<string, unknown> {
  const keys: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(settings)) if (k.startsWith('rpc-') || k.startsWith('watch-dir')) keys[k] = v;
  if (auth && opts.rpcPassword === undefined && typeof keys['rpc-password'] === 'string') keys['rpc-password'] = auth.passwordHash;
  return keys;
}

/**
 * Put the daemon's keys back into settings.json when the session rewrote the file without them (the session
 * keeps only its own settings). Returns whether it wrote. Missing or unparseable file: left alone.
 */
export function restoreDaemonKeys(
  file: string,
  keys: Record<string, unknown>,
  io: { read?: (f: string) => string; write?: (f: string, text: string) => void } = {},
): boolean {
  if (Object.keys(keys).length === 0) return false;
  let current: Record<string, unknown>;
  try {
    const v: unknown = JSON.parse((io.read ?? ((f: string) => readFileSync(f, 'utf8')))(file));
    if (!v || typeof v !== 'object' || Array.isArray(v)) return false;
    current = v as Record<string, unknown>;
  } catch {
    return false;
  }
  if (Object.entries(keys).every(([k, v]) => JSON.stringify(current[k]) === JSON.stringify(v))) return false;
  const write =
    io.write ??
    ((f: string, text: string): void => {
      const tmp = `${f}.tmp-${process.pid}`;
      writeFileSync(tmp, text, { mode: 0o600 });
      renameSync(tmp, f);
    });
  write(file, `${JSON.stringify({ ...current, ...keys }, null, 2)}\n`);
  return true;
}
