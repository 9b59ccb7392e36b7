import { CachetError } from '../core/errors';

/**
 * A call was rejected because its circuit is open (or half-open with the one probe already out). The
 * method did not run. The breaker's name is in `circuit`, since `name` is the error class's name
 * (`'CircuitOpenError'`) on every `Error`.
 *
 * @example
 * try {
 *   await client.complete(prompt);
 * } catch (error) {
 *   if (isCircuitOpenError(error)) return `Busy, try again in ${Math.ceil(error.retryAfterMs / 1000)} s`;
 *   throw error;
 * }
 */
export class CircuitOpenError extends CachetError {
  readonly code = 'ERR_CACHET_CIRCUIT_OPEN';

  constructor(
    /** Name of the circuit breaker that rejected the call. */
    readonly circuit: string,
    /**
     * Milliseconds until a call may be admitted again: until the open circuit half-opens, or, while a
     * probe is out, until that probe's slot expires at the latest (it usually reports sooner).
     */
    readonly retryAfterMs: number,
    /** State of the circuit when the call was rejected. */
    readonly state: 'open' | 'half-open',
  ) {
    super(
      state === 'open'
        ? `Circuit \`${circuit}\` is open; calls are rejected for another ${retryAfterMs} ms`
        : `Circuit \`${circuit}\` is half-open and its probe call is out; retry within ${retryAfterMs} ms`,
    );
  }
}

/** True when `error` is a {@link CircuitOpenError}: the call was rejected and the method did not run. */
export function isCircuitOpenError(error: unknown): error is CircuitOpenError {
  return error instanceof CircuitOpenError;
}
