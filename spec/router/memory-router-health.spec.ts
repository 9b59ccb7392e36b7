import { MemoryRouterHealth } from '../../lib/router';
import { describeEndpointHealthStore } from '../ports/endpoint-health-contract';
import { manualClock } from '../ports/cache-store-contract';

describeEndpointHealthStore('MemoryRouterHealth', async () => {
  const clock = manualClock();
  const store = new MemoryRouterHealth({ clock });
  const skip = async (endpoint: string) =>
    clock.advance(
      (await store.read(endpoint, { threshold: 1, windowFailures: 0, windowMs: 0, cooldownMs: 1, probeLeaseMs: 1 }))
        .remainingMs,
    );
  return {
    stores: [store, store],
    endCooldown: skip,
    expireLease: skip,
    ageFailures: async (_endpoint, ms) => clock.advance(ms),
    cleanup: async () => {},
  };
});

describe('MemoryRouterHealth options', () => {
  it('rejects what it does not know, with the name and what was expected', () => {
    expect(() => new MemoryRouterHealth({ instance: '' })).toThrow(/instance/);
    expect(() => new MemoryRouterHealth({ clock: {} as never })).toThrow(/clock/);
    expect(() => new MemoryRouterHealth({ other: 1 } as never)).toThrow(/other/);
  });
});
