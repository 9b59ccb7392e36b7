/**
 * What differs between the language model specifications the AI SDK majors hand a middleware: `v2` (`ai` 5),
 * `v3` (`ai` 6) and `v4` (`ai` 7). Read by shape, not by version, since `ai` 6's `wrapLanguageModel` hands
 * the middleware a `v2` model as it is.
 */

/** Token counts of a usage, flat (`v2`: `inputTokens: 12`) or nested (`v3`, `v4`: `inputTokens: { total: 12 }`). */
export function usageTokens(usage: unknown): { promptTokens: number; completionTokens: number } {
  const fields = usage !== null && typeof usage === 'object' ? (usage as Record<string, unknown>) : {};
  return { promptTokens: tokenCount(fields['inputTokens']), completionTokens: tokenCount(fields['outputTokens']) };
}

function tokenCount(value: unknown): number {
  if (typeof value === 'number') return value;
  if (value !== null && typeof value === 'object') {
    const total = (value as Record<string, unknown>)['total'];
    if (typeof total === 'number') return total;
  }
  return 0;
}

/** `v2` finish reasons of an answer that did not end. */
const UNFINISHED_V2 = new Set(['error', 'unknown']);
/** `v3` / `v4` unified finish reasons of an answer that did not end (`interrupted` is `v4`'s). */
const UNFINISHED = new Set(['error', 'interrupted']);

/**
 * Whether a finish reason says the answer did not end: `v2`'s `error` / `unknown`; `v3` / `v4`'s unified
 * `error` / `interrupted`, or `other` without the provider's own reason (what a `v2` `unknown` becomes, and
 * what a stream cut off before the provider's finish reason reports).
 */
export function isUnfinished(reason: unknown): boolean {
  if (typeof reason === 'string') return UNFINISHED_V2.has(reason);
  if (reason === null || typeof reason !== 'object') return true;
  const { unified, raw } = reason as { unified?: unknown; raw?: unknown };
  if (typeof unified !== 'string') return true;
  return UNFINISHED.has(unified) || (unified === 'other' && raw === undefined);
}
