/** `torrentkit daemon`: option parsing and defaults (no network), the RPC password in settings.json, the watch dir. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BtError, verifyPassword } from '../../../src/index.js';
import { program } from '../../../src/cli/program.js';
import { daemonKeys, defaultConfigDir, findWebUi, readSettingsJson, resolveAuth, resolveDaemonConfig, restoreDaemonKeys, webUiCandidates } from '../../../src/cli/daemon-config.js';
import type { DaemonOpts } from '../../../src/cli/daemon-config.js';
import { fetchUrl, startLine } from '../../../src/cli/commands/daemon.js';
import { CliExit, EXIT } from '../../../src/cli/exit.js';
import { WatchDir } from '../../../src/cli/watch-dir.js';

const home = (): string => '/home/u';
const noWebUi = { home, exists: (): boolean => false };

/** What commander hands the daemon's action for these arguments. */
async function parsed(args: string[]): Promise<DaemonOpts> {
  const p = program(() => undefined);
  p.configureOutput({ writeOut: () => undefined, writeErr: () => undefined });
  let got: DaemonOpts | undefined;
  p.commands.find((c) => c.name() === 'daemon')!.action((o: DaemonOpts) => {
    got = o;
  });
  await p.parseAsync(['node', 'torrentkit', 'daemon', ...args]);
  return got!;
}

test('daemon defaults: config dir from XDG or ~/.config, ~/Downloads, 127.0.0.1:9091, the session keeps its peer port', async () => {
  assert.equal(defaultConfigDir({ XDG_CONFIG_HOME: '/xdg' }, home), '/xdg/torrentkit');
  assert.equal(defaultConfigDir({}, home), '/home/u/.config/torrentkit');
  const opts = await parsed([]);
  const cfg = resolveDaemonConfig(opts, {}, {}, noWebUi);
  assert.equal(cfg.configDir, '/home/u/.config/torrentkit');
  assert.equal(cfg.downloadDir, '/home/u/Downloads');
  assert.equal(cfg.host, '127.0.0.1');
  assert.equal(cfg.port, 9091);
  assert.equal(cfg.username, undefined);
  assert.equal(cfg.webUiDir, undefined);
  assert.equal(cfg.watchDir, undefined);
  assert.equal(cfg.engineSettings.listenEndpoints, undefined, 'no --port: the session picks its peer port');
  assert.equal(cfg.engineSettings.dhtStateFile, '/home/u/.config/torrentkit/dht.json');
  assert.equal(cfg.engineSettings.dhtEnabled, undefined);
});

test('daemon options: parsed and mapped (RPC, whitelists, web UI, watch dir, network options)', async () => {
  const opts = await parsed([
    '--config-dir', '/cfg', '--download-dir', '/data', '--rpc-bind', '0.0.0.0', '--rpc-port', '9999',
    '--rpc-username', 'alice', '--rpc-password', 'pw', '--rpc-host-whitelist', 'nas.lan,*.home', '--rpc-whitelist', '192.168.*.*',
    '--rpc-whitelist', '10.0.0.0/8', '--web-ui', '/opt/web', '--watch-dir', '/drop', '--port', '51413', '--no-dht', '--no-lsd',
    '--no-port-forwarding', '--encryption', 'require', '--max-upload-rate', '100k', '-v',
  ]);
  const cfg = resolveDaemonConfig(opts, { 'rpc-port': 1234, 'rpc-username': 'bob', 'rpc-password': 'other' }, {}, noWebUi);
  assert.equal(cfg.configDir, '/cfg');
  assert.equal(cfg.downloadDir, '/data');
  assert.equal(cfg.host, '0.0.0.0');
  assert.equal(cfg.port, 9999, 'the command line over settings.json');
  assert.equal(cfg.username, 'alice');
  assert.equal(cfg.password, 'pw');
  assert.deepEqual(cfg.hostWhitelist, ['nas.lan', '*.home']);
  assert.deepEqual(cfg.ipWhitelist, ['192.168.*.*', '10.0.0.0/8']);
  assert.equal(cfg.webUiDir, '/opt/web');
  assert.equal(cfg.watchDir, '/drop');
  assert.deepEqual(cfg.engineSettings.listenEndpoints, ['0.0.0.0:51413', '[::]:51413']);
  assert.equal(cfg.engineSettings.dhtEnabled, false);
  assert.equal(cfg.engineSettings.lsdEnabled, false);
  assert.equal(cfg.engineSettings.portForwarding, false);
  assert.equal(cfg.engineSettings.maxUploadRate, 100 * 1024);
  assert.ok(cfg.engineSettings.encryption);
  assert.equal(opts.verbose, true);
  await assert.rejects(parsed(['--rpc-port', '70000']), (e: unknown) => (e as { code?: string }).code === 'commander.invalidArgument');
});

test('daemon settings.json: RPC keys used when no option says otherwise; a lone username is a usage error', () => {
  const cfg = resolveDaemonConfig(
    {},
    {
      'rpc-username': 'bob', 'rpc-password': 'pw', 'rpc-port': 9092, 'rpc-bind-address': '::1', 'download-dir': '/srv/dl',
      'rpc-whitelist': '127.0.0.1,192.168.1.*', 'rpc-host-whitelist': 'box.lan', 'watch-dir': '/w', 'watch-dir-enabled': true,
    },
    {},
    noWebUi,
  );
  assert.deepEqual([cfg.username, cfg.password, cfg.port, cfg.host, cfg.downloadDir, cfg.watchDir], ['bob', 'pw', 9092, '::1', '/srv/dl', '/w']);
  assert.deepEqual(cfg.ipWhitelist, ['127.0.0.1', '192.168.1.*']);
  assert.deepEqual(cfg.hostWhitelist, ['box.lan']);
  const off = resolveDaemonConfig({}, { 'rpc-whitelist-enabled': false, 'rpc-whitelist': '1.2.3.4', 'rpc-authentication-required': false, 'rpc-username': 'x', 'rpc-password': 'y', 'watch-dir': '/w', 'watch-dir-enabled': false }, {}, noWebUi);
  assert.deepEqual(off.ipWhitelist, ['*']);
  assert.equal(off.username, undefined);
  assert.equal(off.watchDir, undefined);
  const usage = (f: () => unknown): void => assert.throws(f, (e: unknown) => e instanceof CliExit && e.code === EXIT.USAGE);
  usage(() => resolveDaemonConfig({ rpcUsername: 'alice' }, {}, {}, noWebUi));
  usage(() => resolveDaemonConfig({ rpcPassword: 'pw' }, {}, {}, noWebUi));
  usage(() => readSettingsJson('/x', () => '[1,2]'));
  usage(() => readSettingsJson('/x', () => '{bad json'));
  assert.deepEqual(
    readSettingsJson('/x', () => {
      throw Object.assign(new Error('missing'), { code: 'ENOENT' });
    }),
    {},
  );
});

test('daemon web UI lookup: $TRANSMISSION_WEB_HOME, then the Debian places, the first with index.html', () => {
  const c = webUiCandidates({ TRANSMISSION_WEB_HOME: '/mine' });
  assert.deepEqual(c, ['/mine', '/usr/share/transmission/web', '/usr/share/transmission/public_html']);
  assert.equal(findWebUi(c, (p) => p === '/usr/share/transmission/public_html/index.html'), '/usr/share/transmission/public_html');
  assert.equal(findWebUi(c, (p) => p.startsWith('/mine/')), '/mine');
  assert.equal(findWebUi(c, () => false), undefined);
  const cfg = resolveDaemonConfig({}, {}, { TRANSMISSION_WEB_HOME: '/mine' }, { home, exists: (p) => p === '/mine/index.html' });
  assert.equal(cfg.webUiDir, '/mine');
  assert.match(startLine(cfg, { host: '127.0.0.1', port: 9091 }), /^torrentkit daemon: RPC on http:\/\/127\.0\.0\.1:9091\/transmission\/rpc, web UI http:\/\/127\.0\.0\.1:9091\/transmission\/web\/ \(\/mine\), streams http:\/\/127\.0\.0\.1:9091\/stream\/, config /);
  const none = resolveDaemonConfig({}, {}, {}, noWebUi);
  assert.match(startLine(none, { host: '::1', port: 9091 }), /http:\/\/\[::1\]:9091\/transmission\/rpc, no web UI \(apt install transmission-common, or --web-ui DIR\)/);
});

test('daemon password: a plaintext rpc-password in settings.json is replaced by its hash, other keys kept', async () => {
  const settings = { 'rpc-username': 'bob', 'rpc-password': 'hunter2', 'speed-limit-down': 100 };
  const cfg = resolveDaemonConfig({}, settings, {}, noWebUi);
  let written = '';
  const auth = await resolveAuth(cfg, {}, settings, '/cfg/settings.json', { write: (_f, text) => (written = text), scryptN: 1024 });
  assert.ok(auth);
  assert.equal(auth.username, 'bob');
  assert.ok(await verifyPassword('hunter2', auth.passwordHash));
  const saved = JSON.parse(written) as Record<string, unknown>;
  assert.equal(saved['rpc-password'], auth.passwordHash);
  assert.equal(saved['speed-limit-down'], 100);
  // Next start: the hash is used as it is, nothing rewritten.
  written = '';
  const again = await resolveAuth(resolveDaemonConfig({}, saved, {}, noWebUi), {}, saved, '/cfg/settings.json', { write: (_f, text) => (written = text), scryptN: 1024 });
  assert.equal(again?.passwordHash, auth.passwordHash);
  assert.equal(written, '');
  // A password on the command line is hashed in memory only.
  const cli = { rpcUsername: 'a', rpcPassword: 'b' };
  const fromCli = await resolveAuth(resolveDaemonConfig(cli, {}, {}, noWebUi), cli, {}, '/cfg/settings.json', { write: (_f, text) => (written = text), scryptN: 1024 });
  assert.ok(fromCli && (await verifyPassword('b', fromCli.passwordHash)));
  assert.equal(written, '');
  // Transmission's own SHA-1 hash cannot be checked: a clear usage error.
  const tr = { 'rpc-username': 'x', 'rpc-password': `{${'a'.repeat(48)}` };
  await assert.rejects(resolveAuth(resolveDaemonConfig({}, tr, {}, noWebUi), {}, tr, '/cfg/settings.json'), (e: unknown) => e instanceof CliExit && /SHA-1/.test(e.message));
  assert.equal(await resolveAuth(resolveDaemonConfig({}, {}, {}, noWebUi), {}, {}, '/x'), undefined);
});

test('fetchUrl refuses anything but http(s)', async () => {
  await assert.rejects(fetchUrl('file:///etc/passwd'), (e: unknown) => e instanceof BtError && e.code === 'ERR_UNSUPPORTED');
});

test('watch dir: good files added and renamed .added, bad ones .invalid, failures retried only when changed, bounded per scan', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tk-watch-'));
  try {
    const added: string[] = [];
    const warnings: string[] = [];
    let storageFails = true;
    const w = new WatchDir({
      dir,
      settleMs: 0,
      maxPerScan: 3,
      useFsWatch: false,
      onWarning: (m) => warnings.push(m),
      add: async (bytes, file) => {
        const text = Buffer.from(bytes).toString();
        if (text.startsWith('disk') && storageFails) throw new BtError('ERR_STORAGE', 'disk full');
        if (!text.startsWith('good') && !text.startsWith('disk')) throw new BtError('ERR_BENCODE', 'not bencode');
        added.push(file);
      },
    });
    writeFileSync(join(dir, 'a.torrent'), 'good a');
    writeFileSync(join(dir, 'b.torrent'), 'garbage');
    writeFileSync(join(dir, 'notes.txt'), 'ignored');
    assert.equal(await w.scan(), 1);
    assert.deepEqual(readdirSync(dir).sort(), ['a.torrent.added', 'b.torrent.invalid', 'notes.txt']);
    assert.ok(warnings.some((m) => /b\.torrent is not a valid torrent .*ERR_BENCODE/.test(m)));

    writeFileSync(join(dir, 'c.torrent'), 'disk c');
    assert.equal(await w.scan(), 0);
    assert.ok(existsSync(join(dir, 'c.torrent')), 'kept for a retry');
    storageFails = false;
    assert.equal(await w.scan(), 0, 'not retried while unchanged');
    utimesSync(join(dir, 'c.torrent'), new Date(), new Date(Date.now() - 5000));
    assert.equal(await w.scan(), 1, 'retried once it changed');

    for (let i = 0; i < 7; i++) writeFileSync(join(dir, `m${i}.torrent`), `good ${i}`);
    assert.equal(await w.scan(), 3, 'bounded per scan');
    assert.equal(await w.scan(), 3);
    assert.equal(await w.scan(), 1);
    assert.equal(added.length, 1 + 1 + 7);

    // A file still being written waits for a later scan.
    const slow = new WatchDir({ dir, settleMs: 60_000, useFsWatch: false, add: async () => {} });
    writeFileSync(join(dir, 'fresh.torrent'), 'good');
    assert.equal(await slow.scan(), 0);
    assert.ok(existsSync(join(dir, 'fresh.torrent')));
    // A missing directory is no error.
    assert.equal(await new WatchDir({ dir: join(dir, 'nope'), add: async () => {} }).scan(), 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('watch dir: start() polls and picks up a new file; close() stops it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tk-watch-'));
  const w = new WatchDir({ dir, settleMs: 0, intervalMs: 50, add: async () => {} });
  try {
    w.start();
    writeFileSync(join(dir, 'x.torrent'), 'good');
    const t0 = Date.now();
    while (!existsSync(join(dir, 'x.torrent.added')) && Date.now() - t0 < 3000) await new Promise((r) => setTimeout(r, 20));
    assert.ok(existsSync(join(dir, 'x.torrent.added')));
  } finally {
    w.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('daemon keys: rpc-*/watch-dir* kept across a session rewrite of settings.json', () => {
  const keys = daemonKeys({ 'rpc-username': 'a', 'rpc-password': 'pw', 'watch-dir': '/w', speedLimitUp: 3 }, { username: 'a', passwordHash: 'H' }, {});
  assert.deepEqual(keys, { 'rpc-username': 'a', 'rpc-password': 'H', 'watch-dir': '/w' });
  let out = '';
  assert.ok(restoreDaemonKeys('/s', keys, { read: () => '{"speedLimitUp":3}', write: (_f, t) => (out = t) }));
  assert.deepEqual(JSON.parse(out), { speedLimitUp: 3, 'rpc-username': 'a', 'rpc-password': 'H', 'watch-dir': '/w' });
  assert.ok(!restoreDaemonKeys('/s', keys, { read: () => out, write: () => assert.fail('nothing to write') }));
  assert.ok(!restoreDaemonKeys('/s', keys, { read: () => 'garbage', write: () => assert.fail('not over a bad file') }));
  assert.ok(!restoreDaemonKeys('/s', {}, { read: () => '{}', write: () => assert.fail('no keys') }));
});
