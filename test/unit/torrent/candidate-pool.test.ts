/** CandidatePool (pure, time passed in): dial back-off, forgetting, the size cap, bans, dueNow, dropBlocked. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CandidatePool, MAX_CANDIDATES, MAX_DIAL_FAILURES } from '../../../src/torrent/candidate-pool.js';

const T0 = 1_000_000;

describe('CandidatePool', () => {
  it('adds each address once; refuses port 0, connected and banned addresses', () => {
    const connected = new Set(['10.0.0.9:9']);
    const pool = new CandidatePool((k) => connected.has(k));
    assert.equal(pool.add('10.0.0.1', 6881, 'tracker'), true);
    assert.equal(pool.add('10.0.0.1', 6881, 'pex'), false, 'known');
    assert.equal(pool.get('10.0.0.1:6881')!.source, 'tracker');
    assert.equal(pool.add('10.0.0.2', 0, 'tracker'), false, 'port 0');
    assert.equal(pool.add('10.0.0.9', 9, 'dht'), false, 'connected');
    pool.ban('10.0.0.3:1');
    assert.equal(pool.add('10.0.0.3', 1, 'manual'), false, 'banned');
    assert.equal(pool.add('::1', 7, 'lsd'), true);
    assert.ok(pool.get('[::1]:7'), 'IPv6 keys are bracketed');
    assert.equal(pool.size, 2);
  });

  it('take marks a due candidate connecting and skips connected ones', () => {
    const connected = new Set<string>();
    const pool = new CandidatePool((k) => connected.has(k));
    pool.add('10.0.0.1', 1, 'tracker');
    pool.add('10.0.0.2', 2, 'tracker');
    connected.add('10.0.0.1:1'); // connected since it was added (an incoming connection)
    assert.deepEqual(pool.take(T0), { host: '10.0.0.2', port: 2 });
    assert.equal(pool.connecting, 1);
    assert.equal(pool.take(T0), undefined, 'nothing else due');
  });

  it('a failed dial backs off baseMs doubling per failure; the 8th failure forgets the address', () => {
    const pool = new CandidatePool(() => false);
    pool.add('10.0.0.1', 1, 'manual');
    const key = '10.0.0.1:1';
    let now = T0;
    for (let f = 1; f < MAX_DIAL_FAILURES; f++) {
      assert.deepEqual(pool.take(now), { host: '10.0.0.1', port: 1 });
      const c = pool.dialFailed(key, now, 1000)!;
      assert.equal(c.failures, f);
      assert.equal(c.connecting, false);
      assert.equal(c.nextAttempt, now + 1000 * 2 ** (f - 1));
      assert.equal(pool.take(c.nextAttempt - 1), undefined, 'not before its time');
      now = c.nextAttempt;
    }
    assert.ok(pool.take(now));
    const last = pool.dialFailed(key, now, 1000)!;
    assert.equal(last.failures, MAX_DIAL_FAILURES);
    assert.equal(pool.get(key), undefined, 'forgotten');
    assert.equal(pool.dialFailed(key, now, 1000), undefined, 'unknown now');
    assert.equal(pool.add('10.0.0.1', 1, 'tracker'), true, 'a source may bring it back');
  });

  it('a completed handshake ends the dial; a closed connection is retried no sooner than retryAt', () => {
    const pool = new CandidatePool(() => false);
    pool.add('10.0.0.1', 1, 'tracker');
    pool.take(T0);
    assert.equal(pool.handshaken('10.0.0.1:1')!.connecting, false);
    assert.equal(pool.handshaken('10.0.0.2:1'), undefined);
    pool.closed('10.0.0.1:1', T0 + 2000);
    assert.equal(pool.take(T0 + 1999), undefined);
    assert.ok(pool.take(T0 + 2000));
    pool.closed('nope:1', 0); // unknown: nothing happens
  });

  it(`holds at most MAX_CANDIDATES (${MAX_CANDIDATES}) addresses`, () => {
    const pool = new CandidatePool(() => false);
    for (let i = 0; i < MAX_CANDIDATES; i++) assert.equal(pool.add(`10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`, 1000, 'pex'), true);
    assert.equal(pool.size, MAX_CANDIDATES);
    assert.equal(pool.add('192.168.0.1', 1, 'tracker'), false);
    assert.equal(pool.size, MAX_CANDIDATES);
    pool.forget('10.0.0.0:1000');
    assert.equal(pool.add('192.168.0.1', 1, 'tracker'), true);
  });

  it('ban forgets the candidate and keeps it out', () => {
    const pool = new CandidatePool(() => false);
    pool.add('10.0.0.1', 1, 'tracker');
    assert.equal(pool.isBanned('10.0.0.1:1'), false);
    pool.ban('10.0.0.1:1');
    assert.equal(pool.isBanned('10.0.0.1:1'), true);
    assert.equal(pool.get('10.0.0.1:1'), undefined);
    assert.equal(pool.take(T0), undefined);
  });

  it('dueNow makes candidates due (not those connecting unless failures are reset too)', () => {
    const pool = new CandidatePool(() => false);
    pool.add('10.0.0.1', 1, 'tracker');
    pool.add('10.0.0.2', 2, 'tracker');
    pool.take(T0);
    pool.dialFailed('10.0.0.1:1', T0, 60_000);
    pool.take(T0); // 10.0.0.2 now connecting
    const a = pool.get('10.0.0.1:1')!;
    const b = pool.get('10.0.0.2:2')!;
    b.nextAttempt = T0 + 99; // as if it had been closed with a retry time
    pool.dueNow(false);
    assert.equal(a.nextAttempt, 0);
    assert.equal(a.failures, 1, 'failures kept');
    assert.equal(b.nextAttempt, T0 + 99, 'a dial under way is left alone');
    pool.dueNow(true);
    assert.equal(a.failures, 0);
    assert.equal(b.nextAttempt, 0);
  });

  it('dropBlocked forgets the candidates at blocked hosts', () => {
    const pool = new CandidatePool(() => false);
    pool.add('10.0.0.1', 1, 'tracker');
    pool.add('10.0.0.2', 2, 'tracker');
    pool.add('10.0.0.1', 3, 'pex');
    pool.dropBlocked((host) => host === '10.0.0.1');
    assert.equal(pool.size, 1);
    assert.ok(pool.get('10.0.0.2:2'));
  });
});
