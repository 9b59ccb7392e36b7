import { assertKnownOptions, assertPlainObject, optionError } from '../../core/validate';
import { entitiesGuard } from './entities';
import type { Guard, GuardVerdict } from './guard';
import { negationGuard } from './negation';
import { numbersGuard } from './numbers';
import { quotesGuard } from './quotes';

/** Which guards run. Each can be switched off; `entities` lists the names that must match (none by default). */
export interface GuardOptions {
  /** Numbers, amounts, percentages, dates and units must match. Default on. */
  readonly numbers?: boolean;
  /** The parity of negation cues (not, never, n't, 不, 没有, 无, ...) must match. Default on. */
  readonly negation?: boolean;
  /** A quoted string on either side must appear in the other. Default on. */
  readonly quotes?: boolean;
  /** Named entities or products (`['花呗', '借呗']`, `['Plus', 'Pro']`): the same set must be present on both sides. Default `[]`. */
  readonly entities?: readonly string[];
}

/** Every guard on, with no entity list. */
export const defaultGuards: Readonly<Required<GuardOptions>> = Object.freeze({
  numbers: true,
  negation: true,
  quotes: true,
  entities: Object.freeze([]) as readonly string[],
});

const GUARD_OPTIONS = ['numbers', 'negation', 'quotes', 'entities'] as const;

/** The guards `options` switches on, in order: numbers, negation, quotes, entities. Validates `options`. */
export function createGuards(options: GuardOptions = defaultGuards): readonly Guard[] {
  assertPlainObject('guards', options);
  assertKnownOptions('guard', options, GUARD_OPTIONS);
  for (const name of ['numbers', 'negation', 'quotes'] as const) {
    const value = options[name];
    if (value !== undefined && typeof value !== 'boolean') throw optionError(name, 'a boolean', value);
  }
  const merged = {
    ...defaultGuards,
    ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)),
  };
  const guards: Guard[] = [];
  if (merged.numbers) guards.push(numbersGuard);
  if (merged.negation) guards.push(negationGuard);
  if (merged.quotes) guards.push(quotesGuard);
  if (merged.entities.length > 0) guards.push(entitiesGuard(merged.entities));
  else entitiesGuard(merged.entities);
  return guards;
}

/**
 * Whether `query` and the cached `candidate` question may be treated as the same: `{ same: true }`, or
 * the refusal of the first guard that objects. `guards` is a {@link GuardOptions} object (missing options
 * take {@link defaultGuards}) or a list of guard functions; to check many pairs, build the list once
 * with {@link createGuards}.
 */
export function checkGuards(
  query: string,
  candidate: string,
  guards: GuardOptions | readonly Guard[] = defaultGuards,
): GuardVerdict {
  if (typeof query !== 'string') throw optionError('query', 'a string', query);
  if (typeof candidate !== 'string') throw optionError('candidate', 'a string', candidate);
  const list = Array.isArray(guards) ? (guards as readonly Guard[]) : createGuards(guards as GuardOptions);
  for (const guard of list) {
    const refused = guard(query, candidate);
    if (refused !== undefined) return refused;
  }
  return { same: true };
}
