import type { ChatRequest } from './chat-request';
import type { ResolvedChatKey } from './chat-key-options';

/** Why a call may or may not use the cache; the sentence is written only when explained. */
export type Verdict = 'opted-in' | 'seed' | 'several-samples' | 'greedy' | 'no-temperature' | 'sampling';

/** Which verdicts use the cache. */
export const CACHEABLE: Readonly<Record<Verdict, boolean>> = {
  'opted-in': true,
  seed: true,
  'several-samples': false,
  greedy: true,
  'no-temperature': false,
  sampling: false,
};

/** Whether a call may use the cache: deterministic (a seed, or temperature 0 with one choice), or opted in. */
export function verdictOf(request: ChatRequest, resolved: ResolvedChatKey): Verdict {
  if (resolved.cacheNonDeterministic) return 'opted-in';
  const { seed, temperature, n } = request;
  // A seed makes the provider's sampling reproducible (best effort), n > 1 choices included.
  if (typeof seed === 'number') return 'seed';
  if (typeof n === 'number' && n > 1) return 'several-samples';
  if (temperature === 0) return 'greedy';
  if (temperature === undefined || temperature === null) return 'no-temperature';
  return 'sampling';
}

/** The sentence {@link explainKey} gives for a verdict. */
export function reasonFor(verdict: Verdict, { seed, n, temperature }: ChatRequest): string {
  switch (verdict) {
    case 'opted-in':
      return '`cacheNonDeterministic` is on';
    case 'seed':
      return `seed ${String(seed)} given: sampling is reproducible`;
    case 'several-samples':
      return `n = ${String(n)} asks for several different samples, and no seed`;
    case 'greedy':
      return 'temperature 0: greedy, deterministic';
    case 'no-temperature':
      return "temperature absent: the provider's default (1 on OpenAI) samples; set temperature 0 or a seed";
    case 'sampling':
      return `temperature ${String(temperature)} > 0 without a seed samples`;
  }
}
