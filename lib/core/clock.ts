/**
 * A source of wall-clock milliseconds. Time-aware classes take one so that tests can move time without
 * sleeping.
 */
export interface Clock {
  now(): number;
}

/** The real clock, `Date.now()`. */
export const systemClock: Clock = { now: Date.now };
