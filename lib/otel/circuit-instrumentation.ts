import type { BatchObservableCallback } from '@opentelemetry/api';
import type { Circuit } from '../resilience/circuit-breaker';
import { ATTRIBUTES, METRICS } from './names';
import { assertOtelOptions, assertShape, errorType, meterOf, type OtelOptions } from './otel-options';

const STATES = [
  ['closed', 'close'],
  ['open', 'open'],
  ['half-open', 'halfOpen'],
] as const;

/**
 * Counts a {@link Circuit}'s state changes (`cachet.circuit.transitions`, by the state entered) and reports
 * its current state (`cachet.circuit.state`: 1 for the state it is in, 0 for the others). Returns a function
 * that stops reporting.
 * @example
 * const stop = instrumentCircuit(openaiCircuit, { meterProvider });
 */
export function instrumentCircuit(circuit: Circuit, options: OtelOptions = {}): () => void {
  assertShape('circuit', circuit, 'a Circuit', ['on', 'execute']);
  assertOtelOptions('instrumentCircuit', options, []);
  const meter = meterOf(options);
  const transitions = meter.createCounter(METRICS.circuitTransitions, {
    description: 'Circuit breaker state changes, by the state entered',
    unit: '{transition}',
  });
  const state = meter.createObservableGauge(METRICS.circuitState, {
    description: '1 for the state the circuit is in, 0 for the others',
    unit: '1',
  });
  const sets = STATES.map(([name, event]) => ({
    name,
    event,
    attributes: { [ATTRIBUTES.circuit]: circuit.name, [ATTRIBUTES.circuitState]: name.replace('-', '_') },
  }));
  const stops = sets.map(({ event, attributes }) => circuit.on(event, () => transitions.add(1, attributes)));
  const observe: BatchObservableCallback = (result) => {
    for (const { name, attributes } of sets) result.observe(state, circuit.state === name ? 1 : 0, attributes);
  };
  meter.addBatchObservableCallback(observe, [state]);
  return () => {
    stops.forEach((stop) => stop());
    meter.removeBatchObservableCallback(observe, [state]);
  };
}

/** What a `RedisCircuitState` reports through its `events`. */
export interface CircuitStateEvents {
  readonly events: {
    on(event: 'error', listener: (error: { readonly operation?: string }) => void): () => void;
  };
}

/**
 * Counts the decisions a `RedisCircuitState` could not take in Redis (`cachet.circuit.store.errors`, by
 * `cachet.operation` and `error.type`): the local circuit took each of them. Returns a function that stops.
 * @example
 * const stop = instrumentCircuitState(sharedState, { meterProvider });
 */
export function instrumentCircuitState(state: CircuitStateEvents, options: OtelOptions = {}): () => void {
  assertShape('state', state, 'a RedisCircuitState', ['enter', 'report']);
  assertShape('state.events', state.events, 'an event emitter', ['on']);
  assertOtelOptions('instrumentCircuitState', options, []);
  const errors = meterOf(options).createCounter(METRICS.circuitStoreErrors, {
    description: 'Circuit decisions Redis could not take; the local circuit took them',
    unit: '{error}',
  });
  return state.events.on('error', (error) =>
    errors.add(1, { [ATTRIBUTES.operation]: error.operation ?? 'unknown', [ATTRIBUTES.errorType]: errorType(error) }),
  );
}
