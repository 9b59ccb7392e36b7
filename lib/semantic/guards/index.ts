/**
 * Near-miss guards, one file per guard: `numbers.ts` (with its English and Chinese vocabularies),
 * `negation.ts`, `quotes.ts`, `entities.ts`; `pipeline.ts` chooses and runs them; `guard.ts` holds the shared types.
 */
export type { Guard, GuardName, GuardRefusal, GuardVerdict } from './guard';
export { checkGuards, createGuards, defaultGuards, type GuardOptions } from './pipeline';
export { parseChineseNumber } from './chinese-numbers';
export { extractNumbers, numbersGuard } from './numbers';
export { negationCues, negationGuard } from './negation';
export { quotedStrings, quotesGuard } from './quotes';
export { entitiesGuard } from './entities';
