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
});
