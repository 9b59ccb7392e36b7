import { warmFromLog } from '../../cache/warming';
import { assertPositiveInteger } from '../../core/validate';
import { ChatClient, type ChatRequest } from '../../llm';
import { EXIT, usageError, type ExitCode } from '../cli-error';
import type { Command, CommandContext } from '../command';
import { formatTable, grouped } from '../format';
import { progressBar } from '../progress';
import { durationOption } from '../run';
import { readWarmLog } from '../warm-log';
import { prepareReplays } from '../warm-replay';

/** `cachet warm --from LOG`: replays logged chat calls through a provider so that the cache holds their answers. */
export const warmCommand: Command = {
  name: 'warm',
  summary: 'Fill the cache by replaying a JSONL log of chat calls through a provider',
  usage: '--from LOG [--provider-url URL]',
  details: [
    'Each line of LOG is one chat call a service made, as JSON:',
    '  {"namespace":"support","method":"Assistant.complete","tenant":"acme","request":{"model":"gpt-4o-mini","messages":[...],"temperature":0}}',
    "`method` is the name of the service's @Cached method in keys and stats (default ChatClient.complete);",
    '`tenant` is what its chatKeyPolicy gives (leave it out for `tenant: false`). Identical calls are sent',
    'once, calls already cached are skipped, and calls that chatKeyPolicy would not cache (sampling without',
    'a seed) are not sent. Keys are those of `@Cached({ namespace, ttl, ...chatKeyPolicy({ tenant, normalize }) })`,',
    'so the service hits what this fills when it uses the same options.',
  ].join('\n'),
  options: {
    from: { type: 'string', value: 'LOG', description: 'The JSONL log of calls (required)' },
    'provider-url': {
      type: 'string',
      value: 'URL',
      description:
        'OpenAI-compatible base URL, e.g. https://api.openai.com/v1 (default: OPENAI_BASE_URL); key from OPENAI_API_KEY',
    },
    ttl: { type: 'string', value: 'DURATION', description: 'How long the warmed entries live (default: 1h)' },
    concurrency: { type: 'string', value: 'N', description: 'Calls to the provider at once (default: 4)' },
    normalize: { type: 'boolean', description: 'Keys as chatKeyPolicy({ normalize: true }) makes them' },
    'cache-non-deterministic': {
      type: 'boolean',
      description: 'Warm sampling calls too, as chatKeyPolicy({ cacheNonDeterministic: true })',
    },
  },
  async run({ values, out, session }: CommandContext): Promise<ExitCode> {
    const from = values.from as string | undefined;
    if (from === undefined) throw usageError('warm', 'Expected --from LOG, the JSONL log of calls to replay');
    const baseURL = (values['provider-url'] as string | undefined) ?? process.env.OPENAI_BASE_URL;
    if (baseURL === undefined)
      throw usageError('warm', 'Expected --provider-url URL (or OPENAI_BASE_URL), the provider to send the calls to');
    const ttl = durationOption('warm', 'ttl', values.ttl, '1h');
    const concurrency = Number(values.concurrency ?? 4);
    try {
      assertPositiveInteger('concurrency', concurrency);
    } catch {
      throw usageError(
        'warm',
        `Expected --concurrency to be a positive integer, got \`${String(values.concurrency)}\``,
      );
    }
    const lines = await readWarmLog(from);
    const client = new ChatClient({ baseURL, connections: concurrency });
    try {
      const cache = (await session()).cache();
      const send = (request: ChatRequest) => client.complete(request);
      const replays = prepareReplays(cache, lines, send, {
        ttlMs: ttl,
        normalize: values.normalize === true,
        cacheNonDeterministic: values['cache-non-deterministic'] === true,
      });
      const total = replays.reduce((sum, r) => sum + r.distinct, 0);
      const progress = progressBar(out);
      progress.start(total);
      const summary = { lines: lines.length, distinct: total, warmed: 0, alreadyCached: 0, failed: 0, notCacheable: 0 };
      const errors: { namespace: string; method: string; tenant: string | null; message: string }[] = [];
      let before = 0;
      for (const { group, replayer, cacheable } of replays) {
        summary.notCacheable += group.requests.length - cacheable.length;
        if (cacheable.length === 0) continue;
        const result = await warmFromLog(
          cache,
          replayer,
          'complete',
          cacheable.map((request) => [request] as [ChatRequest]),
          {
            top: cacheable.length,
            concurrency,
            onProgress: (p) =>
              progress.update(before + p.done, {
                warmed: summary.warmed + p.filled,
                cached: summary.alreadyCached + p.skipped,
                failed: summary.failed + p.failed,
              }),
          },
        );
        before += result.total;
        summary.warmed += result.filled;
        summary.alreadyCached += result.skipped;
        summary.failed += result.failed;
        for (const { error } of result.errors)
          errors.push({
            namespace: group.namespace,
            method: group.method,
            tenant: group.tenant ?? null,
            message: messageOf(error),
          });
      }
      progress.stop();
      if (out.json) out.data({ ...summary, errors });
      else {
        out.print(
          formatTable(
            ['calls', 'distinct', 'warmed', 'already cached', 'failed', 'not cacheable'].map((header) => ({
              header,
              align: 'right',
            })),
            [
              [
                summary.lines,
                summary.distinct,
                summary.warmed,
                summary.alreadyCached,
                summary.failed,
                summary.notCacheable,
              ].map(grouped),
            ],
          ),
        );
        for (const e of errors.slice(0, 10))
          out.warn(`failed: ${e.namespace}:${e.method}${e.tenant ? ` (${e.tenant})` : ''}: ${e.message}`);
        if (errors.length > 10) out.warn(`... and ${errors.length - 10} more failures`);
      }
      return summary.failed > 0 ? EXIT.failed : EXIT.ok;
    } finally {
      await client.close();
    }
  },
};

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
