/** classifyExternalAddress: public / private / CGNAT / reserved for the reachability report. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyExternalAddress, reportExternalAddress } from '../../../src/nat/index.js';

test('external address classes', () => {
  const cases: [string, string][] = [
    ['8.8.8.8', 'public'],
    ['81.2.69.160', 'public'],
    ['10.200.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['172.32.0.1', 'public'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'cgnat'],
    ['100.127.255.254', 'cgnat'],
    ['100.128.0.1', 'public'],
    ['100.63.255.255', 'public'],
    ['127.0.0.1', 'loopback'],
    ['169.254.3.4', 'link-local'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'reserved'],
    ['192.0.2.1', 'reserved'],
    ['198.51.100.7', 'reserved'],
    ['203.0.113.9', 'reserved'],
    ['198.18.0.1', 'reserved'],
    ['224.0.0.1', 'reserved'],
    ['255.255.255.255', 'reserved'],
    ['256.1.1.1', 'invalid'],
    ['1.2.3', 'invalid'],
    ['::1', 'invalid'],
    ['', 'invalid'],
  ];
  for (const [a, c] of cases) assert.equal(classifyExternalAddress(a), c, a);
});

test('reachability flags: double NAT for a private WAN address, CGNAT for 100.64/10', () => {
  assert.deepEqual(reportExternalAddress('10.200.0.1'), { address: '10.200.0.1', class: 'private', doubleNat: true, cgnat: false });
  assert.deepEqual(reportExternalAddress('100.72.1.1'), { address: '100.72.1.1', class: 'cgnat', doubleNat: false, cgnat: true });
  assert.deepEqual(reportExternalAddress('8.8.4.4'), { address: '8.8.4.4', class: 'public', doubleNat: false, cgnat: false });
});
