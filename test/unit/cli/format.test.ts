/** CLI output helpers (src/cli/format.ts): ETA, tracker / port mapping / reachability / peer / progress shapes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ProgressSource } from '../../../src/cli/format.js';
import { fmtBytes, fmtEta, mappingJson, mappingLine, peerEventJson, peerJson, peerLine, progressJson, progressLine, reachabilityJson, reachabilityLine, trackerJson, trackerLine } from '../../../src/cli/format.js';
import { BtError, formatBytes } from '../../../src/index.js';
import type { PortMapping, ReachabilityReport } from '../../../src/index.js';
import { peer, stats, tracker } from './fakes.js';

const NOW = 1_700_000_000_000;

test('fmtEta: mm:ss below an hour, XhYYm above, --:-- when unknown', () => {
  assert.equal(fmtEta(undefined), '--:--');
  assert.equal(fmtEta(Infinity), '--:--');
  assert.equal(fmtEta(0), '00:00');
  assert.equal(fmtEta(61.4), '01:01');
  assert.equal(fmtEta(3599), '59:59');
  assert.equal(fmtEta(3600), '1h00m');
  assert.equal(fmtEta(2 * 3600 + 5 * 60 + 59), '2h05m');
  assert.equal(fmtBytes, formatBytes);
});

test('trackerJson: fields in order, times as seconds from now, nulls for unknowns', () => {
  const j = trackerJson(tracker({ lastAnnounce: NOW - 30_400, nextAnnounce: NOW + 1_800_000, seeders: 4 }), NOW);
  assert.deepEqual(Object.keys(j), ['url', 'tier', 'state', 'peers', 'totalPeers', 'seeders', 'leechers', 'lastAnnounce', 'nextAnnounce', 'error', 'warning']);
  assert.deepEqual(j, { url: 'http://t.example/announce', tier: 0, state: 'working', peers: 3, totalPeers: 7, seeders: 4, leechers: null, lastAnnounce: -30, nextAnnounce: 1800, error: null, warning: null });
  assert.equal(trackerJson(tracker({ nextAnnounce: NOW - 5000 }), NOW).nextAnnounce, 0, 'never negative');
});

test('trackerLine: state, peers and swarm when working, error, warning, next announce', () => {
  assert.equal(trackerLine(tracker(), NOW), 'tracker http://t.example/announce (tier 1): working, 3 peers');
  assert.equal(
    trackerLine(tracker({ seeders: 2, nextAnnounce: NOW + 90_000, warning: 'slow down' }), NOW),
    'tracker http://t.example/announce (tier 1): working, 3 peers, 2 seeders, ? leechers, warning: slow down, next announce in 01:30',
  );
  assert.equal(trackerLine(tracker({ tier: 2, state: 'failed', lastError: 'ECONNREFUSED' }), NOW), 'tracker http://t.example/announce (tier 3): failed, error: ECONNREFUSED');
});

test('mappingJson and mappingLine', () => {
  const m: PortMapping = { protocol: 'tcp', internalPort: 6881, externalPort: 16881, method: 'upnp', gateway: '192.0.2.1', state: 'created', expiresAt: NOW + 3_600_000 };
  assert.deepEqual(mappingJson(m, NOW), { protocol: 'tcp', internalPort: 6881, externalPort: 16881, method: 'upnp', gateway: '192.0.2.1', state: 'created', error: null, expiresIn: 3600 });
  assert.equal(mappingLine(m), 'port mapping upnp TCP 6881 -> external 16881 on 192.0.2.1: created');
  const failed: PortMapping = { ...m, externalPort: undefined, state: 'failed', expiresAt: undefined, error: new BtError('ERR_NAT', 'refused') };
  assert.deepEqual(mappingJson(failed, NOW), { ...mappingJson(m, NOW), externalPort: null, state: 'failed', error: 'refused', expiresIn: null });
  assert.equal(mappingLine(failed), 'port mapping upnp TCP 6881 on 192.0.2.1: failed (refused)');
});

test('reachabilityLine and reachabilityJson', () => {
  const base: ReachabilityReport = { address: undefined, gateway: undefined, tracker: undefined, mismatch: false, doubleNat: false, cgnat: false };
  assert.equal(reachabilityLine(base), '');
  const gw: ReachabilityReport = { ...base, address: '198.51.100.7', gateway: { address: '198.51.100.7', class: 'public', doubleNat: false, cgnat: false, method: 'upnp' } };
  assert.equal(reachabilityLine(gw), 'external address 198.51.100.7 (gateway, upnp)');
  assert.equal(
    reachabilityLine({ ...gw, tracker: { address: '203.0.113.9', source: 'http://t' }, mismatch: true, doubleNat: true, gateway: { ...gw.gateway!, class: 'private' } }),
    "external address 198.51.100.7 (gateway, upnp); trackers see 203.0.113.9 (http://t); double NAT: the router's WAN address is private, another NAT sits upstream",
  );
  assert.equal(reachabilityLine({ ...base, address: '203.0.113.9', tracker: { address: '203.0.113.9', source: 'http://t' }, cgnat: true }), 'external address 203.0.113.9 (http://t); carrier-grade NAT (100.64/10): mapped ports are not reachable from the internet');
  assert.deepEqual(reachabilityJson(gw), { address: '198.51.100.7', gateway: '198.51.100.7', method: 'upnp', class: 'public', tracker: null, mismatch: false, doubleNat: false, cgnat: false });
});

test('peer shapes: peerList order, event order, one line', () => {
  assert.deepEqual(Object.keys(peerJson(peer())), ['address', 'client', 'transport', 'encryption', 'source', 'outgoing']);
  assert.deepEqual(Object.keys(peerEventJson(peer())), ['address', 'transport', 'encryption', 'source', 'outgoing', 'client']);
  assert.equal(peerJson(peer({ client: undefined })).client, null);
  assert.equal(peerLine(peer()), 'peer 127.0.0.1:6881 connected (out, tcp, encryption rc4, from manual, lt 2.0)');
  assert.equal(peerLine(peer({ outgoing: false, client: undefined, transport: 'utp', encryption: 'none', source: 'tracker' })), 'peer 127.0.0.1:6881 connected (in, utp, encryption none, from tracker)');
});

test('progressJson: the --json progress shape; progressLine', () => {
  const src: ProgressSource = { stats: () => stats(), trackers: [tracker({ nextAnnounce: NOW + 10_000 })], webSeeds: [], peerList: () => Array.from({ length: 60 }, (_, i) => peer({ address: `127.0.0.1:${1000 + i}` })) };
  const j = progressJson(src, NOW);
  assert.deepEqual(Object.keys(j), ['event', 'state', 'progress', 'have', 'pieces', 'downloaded', 'uploaded', 'downRate', 'upRate', 'peers', 'eta', 'trackers', 'peerList']);
  assert.deepEqual({ ...j, trackers: undefined, peerList: undefined }, {
    event: 'progress', state: 'downloading', progress: 0.1235, have: 5, pieces: 40, downloaded: 81920, uploaded: 1024, downRate: 2048, upRate: 11, peers: 2, eta: 61, trackers: undefined, peerList: undefined,
  });
  assert.deepEqual(j.trackers, [trackerJson(tracker({ nextAnnounce: NOW + 10_000 }), NOW)]);
  assert.equal((j.peerList as unknown[]).length, 50, 'at most 50 peers');
  const ws = [{ url: 'http://w/', state: 'active' as const, downloaded: 0 }];
  assert.deepEqual(progressJson({ ...src, webSeeds: ws }, NOW).webSeeds, ws);
  assert.equal(progressJson({ ...src, stats: () => stats({ eta: undefined }) }, NOW).eta, null);
  assert.equal(progressLine(stats()), `12.3% downloading 5/40 pieces, ${formatBytes(2048.4)}/s down, ${formatBytes(10.6)}/s up, 2 peers, ETA 01:01`);
});
