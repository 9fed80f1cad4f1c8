/** Options mapping (src/cli/options.ts): network options -> EngineSettings, seed limits, DHT state path, blocklists. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { defaultDhtStateFile, engineSettings, loadBlocklists, seedLimits } from '../../../src/cli/options.js';
import { CliExit, EXIT } from '../../../src/cli/exit.js';
import { encryptionPreset, resolveSettings } from '../../../src/index.js';

const ENV = { XDG_STATE_HOME: '/state' };

test('defaultDhtStateFile: $XDG_STATE_HOME, else ~/.local/state', () => {
  assert.equal(defaultDhtStateFile(ENV), join('/state', 'torrentkit', 'dht.json'));
  assert.equal(defaultDhtStateFile({ XDG_STATE_HOME: '' }, () => '/home/u'), join('/home/u', '.local', 'state', 'torrentkit', 'dht.json'));
  assert.equal(defaultDhtStateFile({}, () => '/home/u'), join('/home/u', '.local', 'state', 'torrentkit', 'dht.json'));
});

test('engineSettings with no options: port 6881 on IPv4 and IPv6, the DHT state file, nothing else', () => {
  assert.deepEqual(engineSettings({}, ENV), { dhtStateFile: '/state/torrentkit/dht.json', listenEndpoints: ['0.0.0.0:6881', '[::]:6881'] });
  assert.deepEqual(engineSettings({ port: 0 }, ENV).listenEndpoints, ['0.0.0.0:0', '[::]:0']);
  assert.deepEqual(engineSettings({ port: 7000, listen: ['127.0.0.1:5000'] }, ENV).listenEndpoints, ['127.0.0.1:5000'], '--listen overrides --port');
  assert.deepEqual(engineSettings({ listen: [] }, ENV).listenEndpoints, ['0.0.0.0:6881', '[::]:6881']);
});

test('engineSettings: transports', () => {
  assert.deepEqual(pick(engineSettings({ transport: 'tcp' }, ENV)), { enableTcp: true, enableUtp: false, preferredTransport: 'tcp' });
  assert.deepEqual(pick(engineSettings({ transport: 'utp' }, ENV)), { enableTcp: false, enableUtp: true, preferredTransport: 'utp' });
  assert.deepEqual(pick(engineSettings({ transport: 'both' }, ENV)), { enableTcp: true, enableUtp: true, preferredTransport: 'tcp' });
  function pick(s: Record<string, unknown>): Record<string, unknown> {
    return { enableTcp: s.enableTcp, enableUtp: s.enableUtp, preferredTransport: s.preferredTransport };
  }
});

test('engineSettings: every --no-* switch, rates, proxy, LSD, DHT, encryption, tracker timeout', () => {
  const s = engineSettings(
    {
      pex: false,
      resume: false,
      webSeeds: false,
      lsd: false,
      dht: false,
      portForwarding: false,
      dhtState: false,
      proxy: 'socks5://127.0.0.1:1080',
      maxDownloadRate: 500 * 1024,
      maxUploadRate: 0,
      lsdInterface: '127.0.0.1',
      dhtBootstrap: ' 127.0.0.1:6881, ,[::1]:7000',
      encryption: 'require',
      trackerTimeout: 7000,
    },
    ENV,
  );
  assert.deepEqual(s, {
    pexEnabled: false,
    fastResume: false,
    webSeedsEnabled: false,
    proxy: 'socks5://127.0.0.1:1080',
    maxDownloadRate: 512_000,
    maxUploadRate: 0,
    lsdEnabled: false,
    lsdInterface: '127.0.0.1',
    dhtEnabled: false,
    portForwarding: false,
    dhtStateFile: '',
    dhtBootstrap: ['127.0.0.1:6881', '[::1]:7000'],
    encryption: encryptionPreset('require', 'both'),
    listenEndpoints: ['0.0.0.0:6881', '[::]:6881'],
    trackerRequestTimeoutMs: 7000,
    trackerHttpTimeoutMs: 7000,
    udpTrackerBaseTimeoutMs: 1000,
  });
  // What the engine accepts.
  assert.doesNotThrow(() => resolveSettings(s));
  assert.deepEqual(engineSettings({ encryptionLevel: 'header' }, ENV).encryption, encryptionPreset('prefer', 'header'));
  assert.equal(engineSettings({ dhtState: '/x/dht.json' }, ENV).dhtStateFile, '/x/dht.json');
  assert.equal(engineSettings({ trackerTimeout: 3 }, ENV).udpTrackerBaseTimeoutMs, 1);
  assert.equal('encryption' in engineSettings({}, ENV), false, 'no --encryption: the engine default');
});

test('seedLimits: --seed-ratio as is, --seed-time minutes as ms, absent ones left out', () => {
  assert.deepEqual(seedLimits({}), {});
  assert.deepEqual(seedLimits({ seedRatio: 1.5 }), { seedRatioLimit: 1.5 });
  assert.deepEqual(seedLimits({ seedTime: 2 }), { seedTimeLimitMs: 120_000 });
});

test('loadBlocklists: none -> undefined; files merged; bad lines warned about; unreadable file -> usage error', () => {
  assert.equal(loadBlocklists(undefined), undefined);
  assert.equal(loadBlocklists([]), undefined);
  const files: Record<string, string> = { a: '10.0.0.0/8\n', b: 'bogus line\nx:192.0.2.1-192.0.2.9\n' };
  const warnings: string[] = [];
  const f = loadBlocklists(['a', 'b'], (name) => files[name]!, (w) => warnings.push(w))!;
  assert.equal(f.blocked('10.1.2.3'), true);
  assert.equal(f.blocked('192.0.2.5'), true);
  assert.equal(f.blocked('192.0.2.10'), false);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /^warning: 1 blocklist line\(s\) not understood \(e\.g\. line \d+\); skipped\n$/);
  assert.throws(
    () => loadBlocklists(['missing'], () => {
      throw new Error('ENOENT: no such file');
    }),
    (e: unknown) => e instanceof CliExit && e.code === EXIT.USAGE && e.message === 'cannot read blocklist missing: ENOENT: no such file',
  );
});
