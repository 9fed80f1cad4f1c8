/** IpFilter (src/util/ip-filter.ts): formats, merging, IPv6 and mapped addresses, bad lines. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IpFilter } from '../../../src/util/ip-filter.js';

test('single addresses, CIDR, ranges and the P2P format', () => {
  const { filter, errors } = IpFilter.parse(
    [
      '# comment',
      '// another',
      '',
      '10.0.0.1',
      '192.168.0.0/16',
      '1.2.3.4 - 1.2.3.10',
      'Bad Org: with colons:5.6.7.0-5.6.7.255',
      '2001:db8::/32',
      '::1',
      'fe80::1-fe80::ff',
    ].join('\n'),
  );
  assert.equal(errors, 0);
  for (const a of ['10.0.0.1', '192.168.5.5', '1.2.3.4', '1.2.3.10', '5.6.7.128', '2001:db8:1::7', '::1', 'fe80::80', '::ffff:192.168.1.1', '::FFFF:10.0.0.1']) {
    assert.equal(filter.blocked(a), true, a);
  }
  for (const a of ['10.0.0.2', '192.169.0.0', '1.2.3.11', '5.6.8.0', '2001:db9::1', '::2', 'fe80::100', 'not-an-ip', '']) {
    assert.equal(filter.blocked(a), false, a);
  }
});

test('overlapping and adjacent ranges merge; bad lines are counted with their numbers', () => {
  const { filter, errors, badLines } = IpFilter.parse('1.0.0.0-1.0.0.10\n1.0.0.11-1.0.0.20\n1.0.0.5-1.0.0.15\nnonsense\n300.1.1.1\n1.2.3.4/33\n9.9.9.9-9.9.9.1\n');
  assert.equal(filter.size, 1, 'one merged range');
  assert.equal(filter.blocked('1.0.0.20'), true);
  assert.equal(filter.blocked('1.0.0.21'), false);
  assert.equal(errors, 4);
  assert.deepEqual(badLines, [4, 5, 6, 7]);
});

test('the empty filter blocks nothing; whole-space ranges block everything', () => {
  assert.equal(IpFilter.empty.blocked('1.2.3.4'), false);
  const all = IpFilter.parse('0.0.0.0/0\n::/0').filter;
  assert.equal(all.blocked('255.255.255.255'), true);
  assert.equal(all.blocked('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'), true);
});

test('a large list stays fast (binary search)', () => {
  const lines: string[] = [];
  for (let i = 0; i < 50_000; i++) lines.push(`${(i >> 8) & 255}.${i & 255}.${i % 7}.0/24`);
  const { filter } = IpFilter.parse(lines.join('\n'));
  const t0 = performance.now();
  let hits = 0;
  for (let i = 0; i < 100_000; i++) if (filter.blocked(`${i & 255}.${(i >> 8) & 255}.3.9`)) hits++;
  assert.ok(hits > 0);
  assert.ok(performance.now() - t0 < 2000, 'lookups are cheap');
});
