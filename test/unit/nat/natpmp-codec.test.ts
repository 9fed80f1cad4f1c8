/** NAT-PMP (RFC 6886) and PCP (RFC 6887) packet codecs, the epoch rule, /proc/net/route parsing. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeNatPmpResponse,
  decodePcpResponse,
  encodeExternalAddressRequest,
  encodeMapRequest,
  encodePcpAnnounce,
  encodePcpMap,
  epochLost,
  parseProcNetRoute,
} from '../../../src/nat/natpmp/index.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const bytes = (h: string): Uint8Array => new Uint8Array(Buffer.from(h.replace(/\s+/g, ''), 'hex'));

test('NAT-PMP requests: external address (2 bytes) and mappings (12 bytes, big-endian)', () => {
  assert.equal(hex(encodeExternalAddressRequest()), '0000');
  assert.equal(hex(encodeMapRequest({ protocol: 'udp', internalPort: 6881, externalPort: 6882, lifetime: 7200 })), '00010000' + '1ae1' + '1ae2' + '00001c20');
  assert.equal(hex(encodeMapRequest({ protocol: 'tcp', internalPort: 6881, externalPort: 0, lifetime: 0 })), '00020000' + '1ae1' + '0000' + '00000000');
});

test('NAT-PMP responses: external address, mapping, truncated error replies, garbage', () => {
  assert.deepEqual(decodeNatPmpResponse(bytes('00 80 0000 0000012c 0ac80001')), { kind: 'address', version: 0, resultCode: 0, epoch: 300, address: '10.200.0.1' });
  assert.deepEqual(decodeNatPmpResponse(bytes('00 82 0000 0000012d 1ae1 1ae2 00000e10')), {
    kind: 'map',
    version: 0,
    protocol: 'tcp',
    resultCode: 0,
    epoch: 301,
    internalPort: 6881,
    externalPort: 6882,
    lifetime: 3600,
  });
  const refused = decodeNatPmpResponse(bytes('00 81 0002 00000010'));
  assert.equal(refused?.kind, 'map');
  assert.equal(refused?.resultCode, 2);
  // a NAT-PMP gateway's answer to a PCP request: version 0, result 1 (Unsupported Version)
  assert.equal(decodeNatPmpResponse(bytes('00 80 0001 00000010'))?.resultCode, 1);
  assert.equal(decodeNatPmpResponse(bytes('00 80 0000 0000012c')), undefined, 'success without the address');
  assert.equal(decodeNatPmpResponse(bytes('00 82 0000 0000012d 1ae1')), undefined, 'success without the mapping');
  assert.equal(decodeNatPmpResponse(bytes('0001 0000 1ae1 1ae2 00000e10')), undefined, 'a request');
  assert.equal(decodeNatPmpResponse(bytes('02 81 0000 00000000')), undefined, 'version 2');
  assert.equal(decodeNatPmpResponse(bytes('00 85 0000 00000000')), undefined, 'unknown opcode');
  assert.equal(decodeNatPmpResponse(bytes('0080')), undefined);
});

test('PCP MAP request: header with IPv4-mapped client address, nonce, protocol, ports (60 bytes)', () => {
  const nonce = bytes('0102030405060708090a0b0c');
  const b = encodePcpMap({ clientAddress: '192.168.77.2', lifetime: 7200, nonce, protocol: 'udp', internalPort: 6881, suggestedExternalPort: 6881 });
  assert.equal(b.length, 60);
  assert.equal(
    hex(b),
    '02010000' + '00001c20' + '00000000000000000000ffff' + 'c0a84d02' + '0102030405060708090a0b0c' + '11000000' + '1ae1' + '1ae1' + '00000000000000000000ffff00000000',
  );
  assert.throws(() => encodePcpMap({ clientAddress: '192.168.77.2', lifetime: 1, nonce: new Uint8Array(4), protocol: 'tcp', internalPort: 1, suggestedExternalPort: 1 }));
  assert.throws(() => encodePcpMap({ clientAddress: 'fe80::1', lifetime: 1, nonce, protocol: 'tcp', internalPort: 1, suggestedExternalPort: 1 }));
  assert.equal(hex(encodePcpAnnounce('10.0.0.2')), '02000000' + '00000000' + '00000000000000000000ffff0a000002');
});

test('PCP responses: MAP success, errors, UNSUPP_VERSION and non-PCP packets', () => {
  const nonce = '0102030405060708090a0b0c';
  const ok = decodePcpResponse(
    bytes('02 81 00 00 00000e10 00000064 000000000000000000000000' + nonce + '06000000 1ae1 1ae9 00000000000000000000ffff0a4d0001'),
  );
  assert.ok(ok?.map);
  assert.equal(ok.version, 2);
  assert.equal(ok.opcode, 1);
  assert.equal(ok.resultCode, 0);
  assert.equal(ok.lifetime, 3600);
  assert.equal(ok.epoch, 100);
  assert.equal(hex(ok.map.nonce), nonce);
  assert.equal(ok.map.protocol, 'tcp');
  assert.equal(ok.map.internalPort, 6881);
  assert.equal(ok.map.externalPort, 6889);
  assert.equal(ok.map.externalAddress, '10.77.0.1');
  const announce = decodePcpResponse(bytes('02 80 00 00 00000000 00000005 000000000000000000000000'));
  assert.deepEqual(announce, { version: 2, opcode: 0, resultCode: 0, lifetime: 0, epoch: 5 });
  assert.equal(decodePcpResponse(bytes('01 81 00 01 00000000 00000005 000000000000000000000000'))?.resultCode, 1);
  assert.equal(decodePcpResponse(bytes('02 01 00 00 00000000 00000005 000000000000000000000000')), undefined, 'a request (R bit clear)');
  assert.equal(decodePcpResponse(bytes('00 80 0001 00000010')), undefined, 'NAT-PMP');
});

test('epoch rule (RFC 6886 3.6): a reboot is a drop of more than 2 s below 7/8 of the elapsed time', () => {
  assert.equal(epochLost(1000, 0, 1100, 100_000), false, 'in step');
  assert.equal(epochLost(1000, 0, 1090, 100_000), false, 'slow gateway clock within 7/8');
  assert.equal(epochLost(1000, 0, 1000, 100_000), true, 'did not advance over 100 s');
  assert.equal(epochLost(1000, 0, 5, 1_000), true, 'restarted');
  assert.equal(epochLost(1000, 0, 999, 0), false, 'within 2 s of tolerance');
  assert.equal(epochLost(1000, 0, 997, 0), true);
});

test('/proc/net/route: the default route gateway (little-endian hex), lowest metric, up and RTF_GATEWAY', () => {
  const head = 'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n';
  assert.equal(parseProcNetRoute(head + 'eth0\t00000000\t01C8A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\neth0\t00C8A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n'), '192.168.200.1');
  assert.equal(
    parseProcNetRoute(head + 'wlan0\t00000000\t0101A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0\neth0\t00000000\t0100000A\t0003\t0\t0\t100\t00000000\t0\t0\t0\n'),
    '10.0.0.1',
  );
  assert.equal(parseProcNetRoute(head + 'eth0\t00000000\t01C8A8C0\t0002\t0\t0\t0\t00000000\t0\t0\t0\n'), undefined, 'not up');
  assert.equal(parseProcNetRoute(head + 'eth0\t00000000\t00000000\t0001\t0\t0\t0\t00000000\t0\t0\t0\n'), undefined, 'no gateway (on-link default)');
  assert.equal(parseProcNetRoute(head), undefined);
  assert.equal(parseProcNetRoute(''), undefined);
});
