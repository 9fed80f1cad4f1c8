/**
 * createRpcHandler: answers one Transmission RPC request body, in the format it came in — legacy
 * (`method`/`arguments`/`tag` → `result`/`arguments`/`tag`, Transmission ≤ 4.0) or JSON-RPC 2.0 (Transmission 4.1:
 * snake_case names, `params`/`id` → `result` or `error{code,message,data}`, notifications answered 204, batches).
 * Pure: the file reads, URL fetches, free-space queries and blocklist downloads it may need are injected
 * (RpcHandlerOptions); the HTTP side (CSRF, auth, Host checks) is node-http-server.ts's.
 */
import { BtError, NodeClock } from '../core/index.js';
import type { Clock } from '../core/index.js';
import type { FilePriority, LimitMode, SessionAddOptions, SessionApi, SessionTorrent, TorrentPatch, QueueMove } from '../session/index.js';
import type { RpcHandler, RpcHandlerOptions, RpcReply } from './types.js';
import { RpcCode, RpcError, codeText, invalidParams } from './errors.js';
import { normalizeArgs, snakeKeys, toSnake } from './names.js';
import { MAX_KBPS, optBool, optIndexList, optNumber, optString, optStringList } from './args.js';
import type { Args } from './args.js';
import { FIELD_BY_SNAKE, TorrentView } from './torrent-fields.js';
import type { FieldContext } from './torrent-fields.js';
import { SESSION_FIELD_BY_SNAKE, sessionPatch } from './session-fields.js';
import type { SessionFieldContext } from './session-fields.js';

const JSON_TYPE = 'application/json; charset=UTF-8';
/** A JSON-RPC batch of more requests than this is refused whole. */
const MAX_BATCH = 1000;
/** torrent-get's `recently-active`: torrents whose activity changed in this many seconds. */
const RECENTLY_ACTIVE_SECONDS = 60;

interface Ctx {
  jsonrpc: boolean;
  nowSec: number;
}

type Method = (args: Args, ctx: Ctx) => Promise<Record<string, unknown>> | Record<string, unknown>;

export function createRpcHandler(session: SessionApi, opts: RpcHandlerOptions = {}): RpcHandler {
  return new Handler(session, opts);
}

class Handler implements RpcHandler {
  private readonly clock: Clock;
  private readonly version: string;
  private readonly methods: Record<string, Method>;

  constructor(
    private readonly session: SessionApi,
    private readonly opts: RpcHandlerOptions,
  ) {
    this.clock = opts.clock ?? new NodeClock();
    this.version = `4.0.0 (torrentkit ${opts.version ?? 'dev'})`;
    this.methods = {
      session_get: (a, c) => this.sessionGet(a, c),
      session_set: (a) => this.sessionSet(a),
      session_stats: () => this.sessionStats(),
      session_close: () => this.sessionClose(),
      torrent_get: (a, c) => this.torrentGet(a, c),
      torrent_add: (a, c) => this.torrentAdd(a, c),
      torrent_start: (a, c) => this.each(a, c, (t) => this.session.start(t)),
      torrent_start_now: (a, c) => this.each(a, c, (t) => this.session.start(t, { now: true })),
      torrent_stop: (a, c) => this.each(a, c, (t) => this.session.stop(t)),
      torrent_verify: (a, c) => this.each(a, c, (t) => this.session.verify(t)),
      torrent_reannounce: (a, c) => this.each(a, c, (t) => this.session.reannounce(t)),
      torrent_remove: (a, c) => {
        const deleteData = optBool(a, 'delete_local_data') ?? false;
        return this.each(a, c, (t) => this.session.remove(t, { deleteData }));
      },
      torrent_set: (a, c) => this.torrentSet(a, c),
      torrent_set_location: (a, c) => this.torrentSetLocation(a, c),
      torrent_rename_path: (a, c) => this.torrentRenamePath(a, c),
      queue_move_top: (a, c) => this.queueMove(a, c, 'top'),
      queue_move_up: (a, c) => this.queueMove(a, c, 'up'),
      queue_move_down: (a, c) => this.queueMove(a, c, 'down'),
      queue_move_bottom: (a, c) => this.queueMove(a, c, 'bottom'),
      free_space: (a) => this.freeSpace(a),
      port_test: (a) => this.portTest(a),
      blocklist_update: () => this.blocklistUpdate(),
      group_get: () => ({ group: [] }),
      group_set: () => ({}),
    };
  }

  async handle(body: Uint8Array): Promise<RpcReply> {
    try {
      let text: string;
      let req: unknown;
      try {
        text = new TextDecoder('utf-8', { fatal: false }).decode(body);
        req = JSON.parse(text);
      } catch (e) {
        const sample = body.subarray(0, 4096);
        const looksJsonRpc = /"jsonrpc"\s*:/.test(new TextDecoder().decode(sample));
        const why = `malformed JSON: ${e instanceof Error ? e.message.slice(0, 200) : 'unreadable'}`;
        return reply(400, looksJsonRpc ? jsonRpcError(RpcCode.PARSE_ERROR, why, null) : { result: why, arguments: {} });
      }
      if (Array.isArray(req)) {
        if (req.length === 0 || req.length > MAX_BATCH) {
          const why = req.length === 0 ? 'empty batch' : `a batch holds at most ${MAX_BATCH} requests`;
          return reply(200, jsonRpcError(RpcCode.INVALID_REQUEST, why, null));
        }
        const out: unknown[] = [];
        for (const r of req) {
          const a = await this.one(r, true);
          if (a !== undefined) out.push(a);
        }
        return out.length === 0 ? { status: 204, body: '', contentType: JSON_TYPE } : reply(200, out);
      }
      if (typeof req !== 'object' || req === null) {
        return reply(400, { result: 'the request must be a JSON object', arguments: {} });
      }
      const answer = await this.one(req, false);
      return answer === undefined ? { status: 204, body: '', contentType: JSON_TYPE } : reply(200, answer);
    } catch (e) {
      // Our bug: still an answer, never a throw.
      const why = `internal error: ${e instanceof Error ? e.message : String(e)}`;
      return reply(500, { result: why, arguments: {} });
    }
  }

  /** One request object → its answer (undefined for a JSON-RPC notification). */
  private async one(req: unknown, inBatch: boolean): Promise<unknown> {
    if (typeof req !== 'object' || req === null || Array.isArray(req)) {
      return jsonRpcError(RpcCode.INVALID_REQUEST, 'request must be an Object', null);
    }
    const r = req as Record<string, unknown>;
    const jsonrpc = r.jsonrpc === '2.0';
    if (!jsonrpc && (r.jsonrpc !== undefined || inBatch)) {
      return jsonRpcError(RpcCode.INVALID_REQUEST, 'JSON-RPC version is not 2.0', null);
    }
    let id: unknown = null;
    const notification = jsonrpc && !('id' in r);
    if (jsonrpc && 'id' in r) {
      id = r.id;
      if (!(typeof id === 'string' || typeof id === 'number' || id === null)) {
        return jsonRpcError(RpcCode.INVALID_REQUEST, 'id type must be String, Number, or Null', null);
      }
    }
    const tag = typeof r.tag === 'number' || (typeof r.tag === 'string' && r.tag.length <= 256) ? r.tag : undefined;
    const ctx: Ctx = { jsonrpc, nowSec: Math.floor(this.clock.now() / 1000) };
    let result: Record<string, unknown>;
    try {
      result = await this.run(r, ctx);
    } catch (e) {
      if (notification) return undefined;
      const err = toRpcError(e);
      if (jsonrpc) return jsonRpcError(err.code, err.message, id, err.result);
      return withTag({ result: err.message, arguments: err.result ?? {} }, tag);
    }
    if (notification) return undefined;
    if (jsonrpc) return { jsonrpc: '2.0', result: snakeKeys(result), id };
    return withTag({ result: 'success', arguments: result }, tag);
  }

  private async run(r: Record<string, unknown>, ctx: Ctx): Promise<Record<string, unknown>> {
    const method = r.method;
    if (method === undefined) {
      if (ctx.jsonrpc) throw new RpcError(RpcCode.INVALID_REQUEST, 'no method name');
      throw new RpcError(RpcCode.METHOD_NOT_FOUND, 'no method name');
    }
    if (typeof method !== 'string' || method.length > 64) throw new RpcError(ctx.jsonrpc ? RpcCode.INVALID_REQUEST : RpcCode.METHOD_NOT_FOUND, 'method name must be a string');
    const fn = Object.hasOwn(this.methods, method.replace(/-/g, '_')) ? this.methods[method.replace(/-/g, '_')] : undefined;
    if (!fn) throw new RpcError(RpcCode.METHOD_NOT_FOUND, ctx.jsonrpc ? 'Method not found' : 'method name not recognized');
    const raw = ctx.jsonrpc ? r.params : r.arguments;
    if (raw !== undefined && raw !== null && (typeof raw !== 'object' || Array.isArray(raw))) {
      throw invalidParams(`${ctx.jsonrpc ? 'params' : 'arguments'} must be an object`);
    }
    const args = normalizeArgs((raw ?? {}) as Record<string, unknown>);
    return await fn(args, ctx);
  }

  // ------------------------------------------------------------------------------------ ids

  /** `ids` (rpc-spec §3.1): absent = all; an id; a list of ids and hash strings; "recently-active". */
  private resolveIds(a: Args, ctx: Ctx): { torrents: SessionTorrent[]; recently: boolean } {
    const ids = a.ids;
    if (ids === undefined || ids === null) return { torrents: [...this.session.list()], recently: false };
    if (ids === 'recently-active' || ids === 'recently_active') {
      return { torrents: this.session.activeSince(ctx.nowSec - RECENTLY_ACTIVE_SECONDS), recently: true };
    }
    const list = Array.isArray(ids) ? ids : [ids];
    if (list.length > 1_000_000) throw invalidParams("argument 'ids' is too long");
    const out: SessionTorrent[] = [];
    const seen = new Set<number>();
    for (const x of list) {
      let t: SessionTorrent | undefined;
      if (typeof x === 'number') {
        if (!Number.isSafeInteger(x)) throw invalidParams("argument 'ids' holds a number that is not an id");
        t = this.session.get(x);
      } else if (typeof x === 'string') {
        if (x.length > 200) throw invalidParams("argument 'ids' holds a string that is not a hash");
        t = /^\d+$/.test(x) && x.length < 16 ? this.session.get(Number(x)) : this.session.get(x.toLowerCase());
      } else {
        throw invalidParams("argument 'ids' must be an id, a list of ids and hash strings, or \"recently-active\"");
      }
      // Ids that don't exist are skipped, as Transmission does.
      if (t && !seen.has(t.id)) {
        seen.add(t.id);
        out.push(t);
      }
    }
    return { torrents: out, recently: false };
  }

  private async each(a: Args, ctx: Ctx, fn: (t: SessionTorrent) => unknown): Promise<Record<string, unknown>> {
    for (const t of this.resolveIds(a, ctx).torrents) await fn(t);
    return {};
  }

  // ------------------------------------------------------------------------------------ session

  private async sessionGet(a: Args, ctx: Ctx): Promise<Record<string, unknown>> {
    const fields = optStringList(a, 'fields', 1000, 200);
    const wanted = fields ? fields.map(toSnake) : [...SESSION_FIELD_BY_SNAKE.keys()];
    let freeSpace = -1;
    if (wanted.includes('download_dir_free_space') && this.opts.statfs) {
      try {
        freeSpace = (await this.opts.statfs(this.session.settings.downloadDir)).free;
      } catch {
        freeSpace = -1;
      }
    }
    const fc: SessionFieldContext = {
      session: this.session,
      jsonrpc: ctx.jsonrpc,
      version: this.version,
      configDir: this.opts.configDir ?? '',
      sessionId: this.opts.sessionId?.() ?? '',
      freeSpace,
    };
    const out: Record<string, unknown> = {};
    for (const name of wanted) {
      const f = SESSION_FIELD_BY_SNAKE.get(name);
      if (f) out[f[0]] = f[1](fc);
    }
    return out;
  }

  private async sessionSet(a: Args): Promise<Record<string, unknown>> {
    const patch = sessionPatch(a, this.session.settings);
    if (Object.keys(patch).length > 0) await this.session.updateSettings(patch);
    return {};
  }

  private sessionStats(): Record<string, unknown> {
    let active = 0;
    let paused = 0;
    let down = 0;
    let up = 0;
    const list = this.session.list();
    for (const t of list) {
      const st = t.torrent.state;
      if (!t.record.started || st === 'stopped' || st === 'paused' || st === 'error') paused++;
      else active++;
      if (st === 'downloading' || st === 'seeding' || st === 'metadata') {
        const s = t.torrent.stats();
        down += s.downloadRate;
        up += s.uploadRate;
      }
    }
    const { current, cumulative } = this.session.counters();
    const stats = (c: typeof current): Record<string, number> => ({
      uploadedBytes: c.uploadedBytes,
      downloadedBytes: c.downloadedBytes,
      filesAdded: c.filesAdded,
      secondsActive: c.secondsActive,
      sessionCount: c.sessionCount,
    });
    return {
      activeTorrentCount: active,
      downloadSpeed: Math.round(down),
      pausedTorrentCount: paused,
      torrentCount: list.length,
      uploadSpeed: Math.round(up),
      'cumulative-stats': stats(cumulative),
      'current-stats': stats(current),
    };
  }

  private async sessionClose(): Promise<Record<string, unknown>> {
    if (this.opts.onClose) this.opts.onClose();
    else await this.session.close();
    return {};
  }

  // ------------------------------------------------------------------------------------ torrent-get

  private torrentGet(a: Args, ctx: Ctx): Record<string, unknown> {
    const fields = optStringList(a, 'fields', 1000, 200);
    if (!fields) throw invalidParams('no fields specified');
    const format = optString(a, 'format', 32) ?? 'objects';
    if (format !== 'objects' && format !== 'table') throw invalidParams("argument 'format' must be objects or table");
    const { torrents, recently } = this.resolveIds(a, ctx);
    // The requested fields we know, each once, with the name to answer under.
    const cols: Array<[string, (v: TorrentView) => unknown]> = [];
    const seen = new Set<string>();
    for (const f of fields) {
      const snake = toSnake(f);
      const e = FIELD_BY_SNAKE.get(snake);
      if (!e || seen.has(snake)) continue;
      seen.add(snake);
      cols.push([ctx.jsonrpc ? snake : e[0], e[1]]);
    }
    const fc: FieldContext = {
      session: this.session,
      nowSec: ctx.nowSec,
      engineToUnix: (ms) => Math.floor(ms / 1000),
      jsonrpc: ctx.jsonrpc,
      configDir: this.opts.configDir,
    };
    const value = (get: (v: TorrentView) => unknown, v: TorrentView): unknown => {
      const x = get(v);
      return ctx.jsonrpc && typeof x === 'object' && x !== null ? snakeKeys(x) : x;
    };
    let rows: unknown[];
    if (format === 'table') {
      rows = [cols.map((c) => c[0])];
      for (const t of torrents) {
        const v = new TorrentView(t, fc);
        rows.push(cols.map((c) => value(c[1], v)));
      }
    } else {
      rows = torrents.map((t) => {
        const v = new TorrentView(t, fc);
        const o: Record<string, unknown> = {};
        for (const [name, get] of cols) o[name] = value(get, v);
        return o;
      });
    }
    const out: Record<string, unknown> = { torrents: rows };
    if (recently) out.removed = this.session.removedSince(ctx.nowSec - RECENTLY_ACTIVE_SECONDS);
    return out;
  }

  // ------------------------------------------------------------------------------------ torrent-add

  private async torrentAdd(a: Args, ctx: Ctx): Promise<Record<string, unknown>> {
    const metainfo = optString(a, 'metainfo', 64 * 1024 * 1024);
    const filename = optString(a, 'filename', 64 * 1024);
    let source: Uint8Array | string;
    if (metainfo !== undefined && metainfo !== '') {
      const clean = metainfo.replace(/\s+/g, '');
      if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(clean)) throw new RpcError(RpcCode.CORRUPT_TORRENT, 'invalid or corrupt torrent file: metainfo is not base64');
      source = new Uint8Array(Buffer.from(clean, clean.includes('-') || clean.includes('_') ? 'base64url' : 'base64'));
    } else if (filename !== undefined && filename !== '') {
      if (/^magnet:/i.test(filename)) source = filename;
      else if (/^[0-9a-f]{40}$/i.test(filename)) source = `magnet:?xt=urn:btih:${filename}`;
      else if (/^https?:\/\//i.test(filename)) {
        if (!this.opts.fetchUrl) throw new RpcError(RpcCode.HTTP_ERROR, 'adding a torrent by URL is not configured');
        try {
          source = await this.opts.fetchUrl(filename);
        } catch (e) {
          throw new RpcError(RpcCode.HTTP_ERROR, `couldn't fetch torrent: ${errMsg(e)}`);
        }
      } else {
        if (!this.opts.readFile) throw new RpcError(RpcCode.SYSTEM_ERROR, 'adding a torrent by file name is not configured');
        if (filename.includes('\0')) throw invalidParams("argument 'filename' contains a NUL byte");
        try {
          source = await this.opts.readFile(filename);
        } catch (e) {
          throw new RpcError(RpcCode.SYSTEM_ERROR, `couldn't read ${filename}: ${errMsg(e)}`);
        }
      }
    } else {
      throw invalidParams('no filename or metainfo specified');
    }
    const downloadDir = optString(a, 'download_dir', 4096);
    if (downloadDir !== undefined && downloadDir !== '' && !downloadDir.startsWith('/')) {
      throw new RpcError(RpcCode.PATH_NOT_ABSOLUTE, 'download directory path is not absolute');
    }
    const opts: SessionAddOptions = {};
    if (downloadDir) opts.downloadDir = downloadDir;
    const paused = optBool(a, 'paused');
    opts.paused = paused ?? !this.session.settings.startAddedTorrents;
    const labels = readLabels(a);
    if (labels) opts.labels = labels;
    const peerLimit = optNumber(a, 'peer_limit', 0, 65535);
    if (peerLimit !== undefined) opts.peerLimit = peerLimit;
    const bp = optNumber(a, 'bandwidth_priority', -1, 1);
    if (bp !== undefined) opts.bandwidthPriority = bp as FilePriority;
    for (const [key, prop] of [
      ['files_wanted', 'filesWanted'],
      ['files_unwanted', 'filesUnwanted'],
      ['priority_high', 'priorityHigh'],
      ['priority_low', 'priorityLow'],
      ['priority_normal', 'priorityNormal'],
    ] as const) {
      const l = optIndexList(a, key);
      if (l) opts[prop] = l;
    }
    const sequential = optBool(a, 'sequential_download');
    let added;
    try {
      added = await this.session.add(source, opts);
    } catch (e) {
      if (e instanceof RpcError) throw e;
      if (e instanceof BtError && ['ERR_METAINFO', 'ERR_BENCODE', 'ERR_MAGNET', 'ERR_UNSAFE_PATH', 'ERR_HASH', 'ERR_LIMIT'].includes(e.code)) {
        throw new RpcError(RpcCode.CORRUPT_TORRENT, `invalid or corrupt torrent file: ${e.message}`);
      }
      throw e;
    }
    if (sequential !== undefined && !added.duplicate) await this.session.set(added.torrent, { sequential });
    const t = added.torrent;
    void ctx;
    return { [added.duplicate ? 'torrent-duplicate' : 'torrent-added']: { hashString: t.record.infoHashHex, id: t.id, name: t.name } };
  }

  // ------------------------------------------------------------------------------------ torrent-set

  private async torrentSet(a: Args, ctx: Ctx): Promise<Record<string, unknown>> {
    const patch: TorrentPatch = {};
    const bp = optNumber(a, 'bandwidth_priority', -1, 1);
    if (bp !== undefined) patch.bandwidthPriority = bp as FilePriority;
    const num = (key: string, prop: keyof TorrentPatch, min: number, max: number, integer = true): void => {
      const v = optNumber(a, key, min, max, integer);
      if (v !== undefined) (patch as Record<string, unknown>)[prop] = v;
    };
    const bool = (key: string, prop: keyof TorrentPatch): void => {
      const v = optBool(a, key);
      if (v !== undefined) (patch as Record<string, unknown>)[prop] = v;
    };
    num('download_limit', 'downloadLimit', 0, MAX_KBPS);
    bool('download_limited', 'downloadLimited');
    num('upload_limit', 'uploadLimit', 0, MAX_KBPS);
    bool('upload_limited', 'uploadLimited');
    bool('honors_session_limits', 'honorsSessionLimits');
    num('peer_limit', 'peerLimit', 0, 65535);
    num('queue_position', 'queuePosition', 0, 1_000_000_000);
    num('seed_ratio_limit', 'seedRatioLimit', 0, 1e9, false);
    num('seed_idle_limit', 'seedIdleLimit', 0, 1_000_000_000);
    for (const [key, prop] of [['seed_ratio_mode', 'seedRatioMode'], ['seed_idle_mode', 'seedIdleMode']] as const) {
      const m = optNumber(a, key, 0, 2);
      if (m !== undefined) patch[prop] = m as LimitMode;
    }
    bool('sequential_download', 'sequential');
    const labels = readLabels(a);
    if (labels) patch.labels = labels;
    const location = optString(a, 'location', 4096);
    if (location !== undefined) {
      if (!location.startsWith('/')) throw new RpcError(RpcCode.PATH_NOT_ABSOLUTE, 'new location path is not absolute');
      patch.location = location;
    }
    const trackerAdd = optStringList(a, 'tracker_add', 1000, 4096);
    if (trackerAdd) patch.trackerAdd = trackerAdd;
    const trackerRemove = optIndexList(a, 'tracker_remove', 1000);
    if (trackerRemove) patch.trackerRemove = trackerRemove;
    const replace = a.tracker_replace;
    if (replace !== undefined) {
      // Deprecated pairs [id, url, id, url...]: remove each id, add each url.
      if (!Array.isArray(replace) || replace.length % 2 !== 0 || replace.length > 2000) throw invalidParams("argument 'tracker_replace' must be a list of id, url pairs");
      for (let i = 0; i < replace.length; i += 2) {
        const id = replace[i] as unknown;
        const url = replace[i + 1] as unknown;
        if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0 || typeof url !== 'string') throw invalidParams("argument 'tracker_replace' must be a list of id, url pairs");
        (patch.trackerRemove ??= []).push(id);
        (patch.trackerAdd ??= []).push(url);
      }
    }
    const trackerList = optString(a, 'tracker_list', 1024 * 1024);
    if (trackerList !== undefined) {
      for (const line of trackerList.split('\n')) {
        const l = line.trim();
        if (l && !/^(https?|udp|wss?):\/\/\S+$/i.test(l)) throw new RpcError(RpcCode.INVALID_TRACKER_LIST, `not an announce URL: ${l.slice(0, 200)}`);
      }
      patch.trackerList = trackerList;
    }
    for (const key of ['files_wanted', 'files_unwanted', 'priority_high', 'priority_low', 'priority_normal'] as const) optIndexList(a, key);
    const torrents = this.resolveIds(a, ctx).torrents;
    for (const t of torrents) {
      const p: TorrentPatch = { ...patch };
      const count = t.torrent.files.length;
      for (const [key, prop] of [
        ['files_wanted', 'filesWanted'],
        ['files_unwanted', 'filesUnwanted'],
        ['priority_high', 'priorityHigh'],
        ['priority_low', 'priorityLow'],
        ['priority_normal', 'priorityNormal'],
      ] as const) {
        const l = optIndexList(a, key);
        if (!l) continue;
        // An empty list means every file (rpc-spec §3.2).
        if (l.length === 0) p[prop] = Array.from({ length: count }, (_, i) => i);
        else {
          for (const i of l) if (i >= count) throw new RpcError(RpcCode.FILE_IDX_OOR, `file index ${i} out of range (the torrent has ${count} files)`);
          p[prop] = l;
        }
      }
      if (p.trackerRemove) {
        const n = t.torrent.trackers.length;
        for (const id of p.trackerRemove) if (id >= n) throw new RpcError(RpcCode.SET_ANNOUNCE_LIST, `no tracker with id ${id}`);
      }
      await this.session.set(t, p);
    }
    return {};
  }

  private async torrentSetLocation(a: Args, ctx: Ctx): Promise<Record<string, unknown>> {
    const location = optString(a, 'location', 4096);
    if (location === undefined || location === '') throw invalidParams('no location');
    if (!location.startsWith('/')) throw new RpcError(RpcCode.PATH_NOT_ABSOLUTE, 'new location path is not absolute');
    if (location.includes('\0')) throw invalidParams("argument 'location' contains a NUL byte");
    const move = optBool(a, 'move') ?? false;
    for (const t of this.resolveIds(a, ctx).torrents) await this.session.setLocation(t, location, move);
    return {};
  }

  private async torrentRenamePath(a: Args, ctx: Ctx): Promise<Record<string, unknown>> {
    const path = optString(a, 'path', 4096);
    const name = optString(a, 'name', 1024);
    const { torrents } = this.resolveIds(a, ctx);
    if (a.ids === undefined || torrents.length !== 1) throw invalidParams('torrent-rename-path requires 1 torrent');
    if (path === undefined || path === '' || name === undefined || name === '') throw invalidParams("torrent-rename-path needs 'path' and 'name'");
    if (name.includes('/') || name.includes('\\') || name === '.' || name === '..' || name.includes('\0')) {
      throw invalidParams(`invalid name "${name.slice(0, 200)}": it must be one path component`);
    }
    const t = torrents[0]!;
    try {
      const r = await this.session.renamePath(t, path, name);
      return { id: t.id, name: r.name, path: r.path };
    } catch (e) {
      throw new RpcError(RpcCode.SYSTEM_ERROR, errMsg(e), { id: t.id, name, path });
    }
  }

  private queueMove(a: Args, ctx: Ctx, how: QueueMove): Record<string, unknown> {
    const ts = this.resolveIds(a, ctx).torrents;
    if (ts.length > 0) this.session.queueMove(ts, how);
    return {};
  }

  // ------------------------------------------------------------------------------------ the rest

  private async freeSpace(a: Args): Promise<Record<string, unknown>> {
    const path = optString(a, 'path', 4096);
    if (path === undefined || path === '') throw invalidParams('directory path argument is missing');
    if (!path.startsWith('/')) throw new RpcError(RpcCode.PATH_NOT_ABSOLUTE, 'directory path is not absolute');
    if (!this.opts.statfs) throw new RpcError(RpcCode.SYSTEM_ERROR, 'free-space is not available here', { path, 'size-bytes': -1, total_size: -1 });
    try {
      const s = await this.opts.statfs(path);
      return { path, 'size-bytes': s.free, total_size: s.total };
    } catch (e) {
      throw new RpcError(RpcCode.SYSTEM_ERROR, errMsg(e), { path, 'size-bytes': -1, total_size: -1 });
    }
  }

  /**
   * port-test answers from what the engine knows (it never asks an outside service): the port is open when a
   * TCP port mapping on the gateway is in place and there is no double NAT / CGNAT in the way.
   */
  private portTest(a: Args): Record<string, unknown> {
    const proto = optString(a, 'ip_protocol', 8);
    if (proto !== undefined && proto !== 'ipv4' && proto !== 'ipv6') throw invalidParams('invalid ip protocol string');
    const engine = this.session.engine;
    const rep = engine.reachability;
    const mapped = engine.portMappings.some((m) => m.state === 'created' && m.protocol === 'tcp');
    const open = mapped && !rep.doubleNat && !rep.cgnat;
    const out: Record<string, unknown> = { 'port-is-open': open };
    if (proto) out.ip_protocol = proto;
    return out;
  }

  private async blocklistUpdate(): Promise<Record<string, unknown>> {
    if (!this.opts.updateBlocklist) throw new RpcError(RpcCode.SYSTEM_ERROR, 'blocklist updates are not configured');
    let n: number;
    try {
      n = await this.opts.updateBlocklist();
    } catch (e) {
      throw new RpcError(RpcCode.INVALID_BLOCKLIST_DATA, errMsg(e));
    }
    return { 'blocklist-size': n };
  }
}

// ------------------------------------------------------------------------------------------ helpers

function readLabels(a: Args): string[] | undefined {
  const labels = optStringList(a, 'labels', 1000, 1000);
  if (!labels) return undefined;
  const out: string[] = [];
  for (const l of labels) {
    const s = l.trim();
    if (s === '') throw invalidParams('labels cannot be empty');
    if (s.includes(',')) throw invalidParams('labels cannot contain comma (,) character');
    if (!out.includes(s)) out.push(s);
  }
  return out;
}

function errMsg(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function toRpcError(e: unknown): RpcError {
  if (e instanceof RpcError) return e;
  if (e instanceof BtError) {
    const code = e.code === 'ERR_METAINFO' || e.code === 'ERR_BENCODE' ? RpcCode.CORRUPT_TORRENT : RpcCode.SYSTEM_ERROR;
    return new RpcError(code, e.message);
  }
  return new RpcError(RpcCode.INTERNAL_ERROR, `internal error: ${errMsg(e)}`);
}

function jsonRpcError(code: number, detail: string, id: unknown, result?: Record<string, unknown>): Record<string, unknown> {
  const data: Record<string, unknown> = {};
  if (detail && detail !== codeText(code)) data.error_string = detail;
  if (result && Object.keys(result).length > 0) data.result = snakeKeys(result);
  const error: Record<string, unknown> = { code, message: codeText(code) };
  if (Object.keys(data).length > 0) error.data = data;
  return { jsonrpc: '2.0', error, id };
}

function withTag(o: Record<string, unknown>, tag: unknown): Record<string, unknown> {
  if (tag !== undefined) o.tag = tag;
  return o;
}

function reply(status: number, body: unknown): RpcReply {
  return { status, body: JSON.stringify(body), contentType: JSON_TYPE };
}
