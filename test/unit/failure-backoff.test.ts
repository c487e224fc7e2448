import { describe, expect, it } from 'vitest';
import { createFailureBackoff } from '../../core/failure-backoff.ts';
import { sourceKey } from '../../core/source-address.ts';
import { createConnectThrottle } from '../../broker/throttle.ts';
import { createLoginThrottle } from '../../web/auth/throttle.ts';

const clock = () => {
  let t = 1_000_000;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
};

describe('failure back-off (core/failure-backoff.ts)', () => {
  const options = { freeFailures: 2, windowMs: 60_000, baseBlockMs: 1000, maxBlockMs: 8000, maxEntries: 3 };

  it('free failures, then blocks doubling to the maximum; forgotten a window after the last block', () => {
    const c = clock();
    const b = createFailureBackoff(options, c.now);
    expect(b.fail('k')).toEqual({ blockMs: 0, firstBlock: false });
    expect(b.fail('k')).toEqual({ blockMs: 0, firstBlock: false });
    expect(b.blockedFor('k')).toBe(0);
    expect(b.fail('k')).toEqual({ blockMs: 1000, firstBlock: true });
    expect(b.blockedFor('k')).toBe(1000);
    expect(b.blockedFor('other')).toBe(0);
    const blocks = [2000, 4000, 8000, 8000];
    for (const ms of blocks) {
      c.advance(b.blockedFor('k'));
      expect(b.blockedFor('k')).toBe(0);
      expect(b.fail('k')).toEqual({ blockMs: ms, firstBlock: false });
    }
    c.advance(8000 + 60_001);
    expect(b.fail('k').blockMs).toBe(0);
    b.clear('k');
    expect(b.size()).toBe(0);
  });

  it('bounded: at most maxEntries keys, the least recently failed go; expired keys are dropped as failures come in', () => {
    const c = clock();
    const b = createFailureBackoff(options, c.now);
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) b.fail(`k${i}`);
    expect(b.size()).toBe(3);
    b.fail('k0'); // k0 moves to the end; then new keys push every old one out
    for (let i = 3; i < 1000; i++) b.fail(`k${i}`);
    expect(b.size()).toBe(3);
    expect(b.blockedFor('k0')).toBe(0); // evicted
    c.advance(61_000);
    b.fail('fresh');
    expect(b.size()).toBe(1);
  });
});

describe('source keys (core/source-address.ts)', () => {
  it('IPv4 as is, IPv4-mapped as IPv4, IPv6 by its /64', () => {
    expect(sourceKey('192.0.2.7')).toBe('192.0.2.7');
    expect(sourceKey('::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(sourceKey('2001:db8:1:2:3:4:5:6')).toBe('2001:db8:1:2::/64');
    expect(sourceKey('2001:db8:1:2::99')).toBe('2001:db8:1:2::/64');
    expect(sourceKey('2001:0db8:0001:0002:ffff::1')).toBe('2001:db8:1:2::/64');
    expect(sourceKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(sourceKey('::1')).toBe('0:0:0:0::/64');
    expect(sourceKey(null)).toBe('unknown');
  });
});

describe('MQTT connect throttle (broker/throttle.ts)', () => {
  it('per (id, address) and per address; a success clears only its own source; busy beyond the pending cap', () => {
    const c = clock();
    const t = createConnectThrottle({ freePerSource: 1, freePerAddress: 3, maxPendingPerAddress: 2 }, c.now);
    t.failed('v1', '192.0.2.1');
    expect(t.failed('v1', '192.0.2.1').source.firstBlock).toBe(true);
    expect(t.gate('v1', '192.0.2.1')).toBe('cached');
    expect(t.gate('v1', '192.0.2.2')).toBe('full');
    expect(t.gate('v2', '192.0.2.1')).toBe('full');
    expect(t.failed('v2', '192.0.2.1').address.firstBlock).toBe(false);
    expect(t.failed('v3', '192.0.2.1').address.firstBlock).toBe(true);
    expect(t.gate('v4', '192.0.2.1')).toBe('cached');
    t.succeeded('v1', '192.0.2.1');
    expect(t.gate('v4', '192.0.2.1')).toBe('cached'); // the address stays throttled
    const ends = [t.begin('192.0.2.9'), t.begin('192.0.2.9')];
    expect(t.gate('v1', '192.0.2.9')).toBe('busy');
    expect(t.gate('v1', '192.0.2.8')).toBe('full');
    ends[0]!();
    ends[0]!(); // ending twice counts once
    expect(t.gate('v1', '192.0.2.9')).toBe('full');
    ends[1]!();
    expect(t.size().pending).toBe(0);
  });
});

describe('console login throttle (web/auth/throttle.ts)', () => {
  it('throttles the (account, address) and the address, never the account for everyone', () => {
    const c = clock();
    const t = createLoginThrottle({ maxPerAccount: 2, maxPerIp: 4, windowMs: 60_000 }, c.now);
    expect(t.fail('alice', '192.0.2.1').source.firstBlock).toBe(false);
    expect(t.fail('alice', '192.0.2.1').source.firstBlock).toBe(true); // the 2nd: a 1 s wait
    expect(t.check('alice', '192.0.2.1')).toBe(1);
    expect(t.check('alice', '192.0.2.2')).toBe(0);
    expect(t.check('bob', '192.0.2.1')).toBe(0);
    t.fail('bob', '192.0.2.1'); // the 3rd from the address: still free
    expect(t.check('carol', '192.0.2.1')).toBe(0);
    expect(t.fail('carol', '192.0.2.1').address.firstBlock).toBe(true); // the 4th
    expect(t.check('dave', '192.0.2.1')).toBe(1);
    expect(t.check('alice', '2001:db8::1')).toBe(0);
    c.advance(1000);
    expect(t.check('dave', '192.0.2.1')).toBe(0);
  });
});
