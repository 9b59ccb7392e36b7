import { EndpointHealth } from '../../lib/router/endpoint-health';

describe('EndpointHealth', () => {
  it('sets an endpoint aside after `threshold` failures in a row; a success resets the count', () => {
    const health = new EndpointHealth(3, 1_000);
    expect(health.failed(0, undefined, false)).toBe(0);
    expect(health.failed(0, undefined, false)).toBe(0);
    health.succeeded(10, false);
    expect(health.failed(0, undefined, false)).toBe(0);
    expect(health.failed(0, undefined, false)).toBe(0);
    expect(health.failed(5, undefined, false)).toBe(1_000);
    expect([health.state(5), health.until]).toEqual(['cooling', 1_005]);
  });

  it('sets it aside at once for exactly the Retry-After of a failure that carries one', () => {
    const health = new EndpointHealth(3, 30_000);
    expect(health.failed(100, 800, false)).toBe(800);
    expect(health.admit(899)).toBe('skip');
    expect(health.admit(900)).toBe('probe');
    expect(health.admit(900)).toBe('skip'); // one probe at a time
    expect(health.succeeded(20, true)).toBe(true);
    expect(health.state(900)).toBe('healthy');
  });

  it('does not end a cooldown when a request sent before it succeeds', () => {
    const health = new EndpointHealth(3, 1_000);
    health.failed(0, 500, false);
    expect(health.succeeded(40, false)).toBe(false);
    expect([health.state(100), health.until]).toEqual(['cooling', 500]);
  });

  it('lets a late failure from before the cooldown extend it only by a longer Retry-After', () => {
    const health = new EndpointHealth(3, 1_000);
    health.failed(0, 500, false);
    expect(health.failed(100, undefined, false)).toBe(0);
    expect(health.until).toBe(500);
    expect(health.failed(100, 900, false)).toBe(0);
    expect(health.until).toBe(1_000);
  });

  it('sets it aside again when the probe fails, and lets another probe after an abandoned one', () => {
    const health = new EndpointHealth(3, 1_000);
    health.failed(0, undefined, false);
    health.failed(0, undefined, false);
    health.failed(0, undefined, false);
    expect(health.admit(1_000)).toBe('probe');
    health.abandoned();
    expect(health.admit(1_000)).toBe('probe');
    expect(health.failed(1_000, undefined, true)).toBe(1_000);
    expect([health.state(1_500), health.until]).toEqual(['cooling', 2_000]);
    expect(health.errorRate).toBe(1);
  });

  it('counts failures within the window whatever succeeds between, and forgets those older than it', () => {
    const health = new EndpointHealth(100, 1_000, { failures: 3, ms: 10_000 });
    health.failed(0, undefined, false);
    health.succeeded(5, false);
    health.failed(5_000, undefined, false);
    health.succeeded(5, false);
    expect(health.failed(10_000, undefined, false)).toBe(0); // the first is 10 s old: out of the window
    expect(health.failed(12_000, undefined, false)).toBe(1_000);
    expect([health.state(12_000), health.until]).toEqual(['cooling', 13_000]);
  });

  it('with a shared store, counts without deciding, and mirrors the shared view on its own clock', () => {
    const health = new EndpointHealth(2, 1_000);
    expect(health.failed(0, undefined, false, false)).toBe(0);
    expect(health.failed(0, undefined, false, false)).toBe(0);
    expect(health.countedOut(0)).toBe(true); // what the router applies when the store fails
    expect(health.apply({ state: 'cooling', remainingMs: 700, prober: undefined, failing: 0 }, 50, 'me')).toBe(
      'cooldown',
    );
    expect([health.state(749), health.until]).toEqual(['cooling', 750]);
    // Another instance's probe: skipped here until its lease ends.
    expect(health.apply({ state: 'probing', remainingMs: 300, prober: 'other', failing: 0 }, 800, 'me')).toBe(
      undefined,
    );
    expect([health.available(1_099), health.prober(1_099)]).toEqual([false, 'other']);
    expect([health.available(1_100), health.prober(1_100)]).toEqual([true, undefined]);
    expect(health.apply({ state: 'healthy', remainingMs: 0, prober: undefined, failing: 1 }, 900, 'me')).toBe(
      'recovered',
    );
    expect([health.state(900), health.failing]).toEqual(['healthy', true]);
  });
});
