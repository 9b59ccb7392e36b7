/**
 * A source of wall-clock milliseconds. Time-aware classes take one so that tests can move time without
 * sleeping.
 */
export interface Clock {
  now(): number;
}

/** The real clock. It reads `Date.now()` at each call, so Jest's fake timers move it too. */
export const systemClock: Clock = { now: () => Date.now() };
