import { MemoryCircuitState } from '../../lib/resilience/memory-circuit-state';
import { describeCircuitStateStore } from '../ports/circuit-state-contract';

describeCircuitStateStore('MemoryCircuitState', async () => {
  const store = new MemoryCircuitState();
  return { stores: [store, store], cleanup: async () => {} };
});
