import type { CallUsage } from '../cache/method-ledger';

/**
 * Reads what a chat call used from its result: a completion's `usage`, or, for a stream (an array of
 * chunks), the `usage` of the chunk that carries it (OpenAI sends it last when asked with
 * `stream_options: { include_usage: true }`). `model` is the model as the caller asked for it, since
 * price tables are keyed that way and providers answer with dated snapshot names. `undefined` when the
 * result carries no usage: the ledger then records nothing rather than guess.
 *
 * @example usageOfChatResult(completion, request.model, 'acme') // { model, tenant: 'acme', usage: completion.usage }
 */
export function usageOfChatResult(result: unknown, model: string, tenant?: string): CallUsage | undefined {
  const usage = Array.isArray(result) ? lastUsage(result) : usageField(result);
  if (usage === undefined || typeof model !== 'string') return undefined;
  return tenant === undefined ? { model, usage } : { model, usage, tenant };
}

function lastUsage(chunks: readonly unknown[]): CallUsage['usage'] | undefined {
  for (let i = chunks.length - 1; i >= 0; i--) {
    const usage = usageField(chunks[i]);
    if (usage !== undefined) return usage;
  }
  return undefined;
}

function usageField(value: unknown): CallUsage['usage'] | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const usage = (value as { usage?: unknown }).usage;
  return usage !== null && typeof usage === 'object' ? (usage as CallUsage['usage']) : undefined;
}
