/**
 * Guards against near misses: cheap, exact checks that run before (or beside) the embedding similarity
 * and refuse to treat two questions as the same when a detail that changes the answer differs, however
 * alike the rest looks. "Refund within 7 days?" and "Refund within 30 days?" embed almost identically; a
 * semantic cache must still not answer one with the other.
 *
 * Each guard is a named function of (query, candidate) that returns `undefined` when it lets the pair
 * through, or a {@link GuardRefusal} saying what differed. `checkGuards` runs the ones switched on.
 * The guards know English and Chinese.
 */

/** The name of a built-in guard, as a refusal reports it. */
export type GuardName = 'numbers' | 'negation' | 'quotes' | 'entities';

/** Why a guard refused: its name and what it found on each side. */
export interface GuardRefusal {
  readonly same: false;
  readonly guard: GuardName;
  /** What the guard extracted from the query (numbers with units, negation cues, quoted strings, entities). */
  readonly query: readonly string[];
  /** What it extracted from the candidate. */
  readonly candidate: readonly string[];
}

/** `{ same: true }`, or the first guard that refused. */
export type GuardVerdict = { readonly same: true } | GuardRefusal;

/** A guard: `undefined` lets the pair through. */
export type Guard = (query: string, candidate: string) => GuardRefusal | undefined;

/** A refusal by `guard`, with what it extracted from each side. */
export function refusal(guard: GuardName, query: readonly string[], candidate: readonly string[]): GuardRefusal {
  return { same: false, guard, query, candidate };
}
