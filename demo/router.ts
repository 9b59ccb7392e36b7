/**
 * Part 4 of the demo: a ConcurrentRouter in front of three OpenAI-compatible providers on 127.0.0.1
 * (cachet's LocalProvider), each with its own pooled ChatClient. The preferred endpoint fails for two
 * seconds mid-run and comes back; a rate-limited one answers 429 with Retry-After. The router keeps
 * every endpoint under its `maxConcurrent`, moves failed requests on, sets failing endpoints aside and
 * probes them back, and no caller sees an error. Called by `faq.ts` after part 3.
 */
import { performance } from 'node:perf_hooks';
import { ChatClient, isProviderError } from '../lib/llm';
import { ConcurrentRouter, isRouterError } from '../lib/router';
import type { ChatCompletion, ChatRequest } from '../lib/llm';
import type { EndpointClient, RouteResult } from '../lib/router';
import { LocalProvider } from '../lib/testing';
import { supportRequest } from './chat-assistant';
import { requestStream } from './questions';
import { seededRandom } from './random';
import { count, ms, percent, renderTable } from './table';
import { median } from './traffic';

const REQUESTS = 150;
const WAVES = { size: 5, everyMs: 200 } as const;
const PREFERRED_MODEL = 'gpt-4o';
const DEADLINE = '5s';
const COOLDOWN = '2s';
/** When (ms after the first wave) the fast provider starts answering 500 to everything, and stops. */
const OUTAGE = { fromMs: 1_900, toMs: 3_900 } as const;
/** Each client's pool is larger than its endpoint's `maxConcurrent`, so the cap shown is the router's. */
const CONNECTIONS = 16;

/** The three providers and how the router sees them. */
const ENDPOINTS = [
  {
    name: 'fast',
    model: 'gpt-4o',
    maxConcurrent: 4,
    priority: 0,
    timeout: '1s',
    provider: { latency: ['80ms', '150ms'] },
  },
  {
    name: 'slow',
    model: 'gpt-4o-mini',
    maxConcurrent: 8,
    priority: 1,
    timeout: '2s',
    provider: { latency: ['300ms', '500ms'] },
  },
  {
    name: 'limited',
    model: 'claude-3-5-haiku',
    maxConcurrent: 4,
    priority: 2,
    timeout: '2s',
    provider: { latency: ['150ms', '300ms'], rateLimit: 3 },
  },
] as const;
type EndpointName = (typeof ENDPOINTS)[number]['name'];

/** A line of the timeline: a router event, or something the demo did. */
interface Moment {
  readonly atMs: number;
  readonly what: string;
  /** Moments of the same kind within 50 ms of each other are folded into one line. */
  readonly kind?: string;
}

interface Cooldown {
  readonly endpoint: string;
  readonly atMs: number;
  readonly forMs: number;
  /** The failure that set the endpoint aside: its status and, for a 429, the Retry-After it carried. */
  readonly status: number | undefined;
  readonly retryAfter: string | undefined;
}

type Call =
  { readonly ok: true; readonly result: RouteResult<ChatCompletion> } | { readonly ok: false; readonly error: unknown };

/** Sends FAQ traffic through the router while the preferred provider fails and recovers, and prints what happened. */
export async function runRouterDemo(): Promise<void> {
  const providers = new Map<EndpointName, LocalProvider>();
  const clients: ChatClient[] = [];
  try {
    for (const [i, e] of ENDPOINTS.entries())
      providers.set(e.name, new LocalProvider({ ...e.provider, random: seededRandom(40 + i) }));
    const urls = new Map<EndpointName, string>();
    for (const [name, provider] of providers) urls.set(name, await provider.start());

    // Every request the router sends, by endpoint and time, to check that none went to an endpoint set aside.
    const sent = new Map<string, { atMs: number; status?: number }[]>(ENDPOINTS.map((e) => [e.name, []]));
    let t0 = performance.now();
    const since = () => performance.now() - t0;
    const endpoints = ENDPOINTS.map(({ name, model, maxConcurrent, priority, timeout }) => {
      const client = new ChatClient({ baseURL: urls.get(name)!, apiKey: 'demo-key', connections: CONNECTIONS });
      clients.push(client);
      const recorded: EndpointClient<ChatRequest, ChatCompletion> = {
        async complete(request, options) {
          const record: { atMs: number; status?: number } = { atMs: since() };
          sent.get(name)!.push(record);
          try {
            return await client.complete(request, options);
          } catch (error) {
            if (isProviderError(error)) record.status = error.status;
            throw error;
          }
        },
      };
      return { name, client: recorded, model, maxConcurrent, priority, timeout };
    });

    const router = new ConcurrentRouter<ChatRequest, ChatCompletion>({
      endpoints,
      strategy: 'priority',
      // A request whose first choice is full goes to the next endpoint with a free permit instead of queueing.
      spillover: true,
      failureThreshold: 3,
      cooldown: COOLDOWN,
    });

    const timeline: Moment[] = [];
    const cooldowns: Cooldown[] = [];
    const fallbacks = new Map<string, number>();
    let recoveries = 0;
    let earlyRecoveries = 0;
    router.on('fallback', ({ from, error }) => {
      const key = `${from} ${statusOf(error)}`;
      fallbacks.set(key, (fallbacks.get(key) ?? 0) + 1);
    });
    router.on('cooldown', ({ endpoint, forMs, error }) => {
      const status = isProviderError(error) ? error.status : undefined;
      const retryAfter = isProviderError(error) ? error.headers['retry-after'] : undefined;
      cooldowns.push({ endpoint, atMs: since(), forMs, status, retryAfter });
      const why = status === 429 ? `429, Retry-After: ${retryAfter ?? '-'}` : statusOf(error);
      timeline.push({
        atMs: since(),
        what: `cooldown   ${endpoint} ${Math.round(forMs)}ms (${why})`,
        kind: `cooldown ${endpoint} ${why}`,
      });
    });
    router.on('recovered', ({ endpoint }) => {
      // A probe is sent only once the cooldown is over; a success before that is a request the endpoint
      // took before it was set aside.
      const last = cooldowns.filter((c) => c.endpoint === endpoint).at(-1);
      const early = last === undefined ? 0 : last.atMs + last.forMs - since();
      if (early > 1) earlyRecoveries++;
      else recoveries++;
      const how =
        early > 1
          ? `a request sent before the cooldown answered, ${Math.round(early)} ms before its end`
          : 'its probe answered';
      timeline.push({ atMs: since(), what: `recovered  ${endpoint} (${how})` });
    });

    const questions = requestStream({ count: REQUESTS, exponent: 1.2, seed: 4 });
    const fast = providers.get('fast')!;
    const describe = (e: (typeof ENDPOINTS)[number]) =>
      `${e.name} (${e.model}, ${e.provider.latency.join('-')}${'rateLimit' in e.provider ? `, ${e.provider.rateLimit} requests/s` : ''}, ` +
      `maxConcurrent ${e.maxConcurrent}, priority ${e.priority})`;
    console.log(
      [
        '\n\ncachet demo, part 4: a ConcurrentRouter over three local providers, each behind its own ChatClient.',
        `Endpoints: ${ENDPOINTS.map(describe).join(',\n           ')}.`,
        `strategy 'priority', spillover, failureThreshold 3, cooldown ${COOLDOWN}; ${REQUESTS} requests, ${WAVES.size} every ` +
          `${WAVES.everyMs} ms, preferredModel '${PREFERRED_MODEL}', deadline ${DEADLINE}; no cache, so every call is routed.`,
        `From +${(OUTAGE.fromMs / 1_000).toFixed(1)}s to +${(OUTAGE.toMs / 1_000).toFixed(1)}s the fast provider answers 500 to everything.\n`,
      ].join('\n'),
    );

    t0 = performance.now();
    const startedEpoch = Date.now();
    const outage = [
      setTimeout(() => {
        fast.configure({ errorRate: 1 });
        timeline.push({ atMs: since(), what: 'fast starts failing: configure({ errorRate: 1 })' });
      }, OUTAGE.fromMs),
      setTimeout(() => {
        fast.configure({ errorRate: 0 });
        timeline.push({ atMs: since(), what: 'fast answers again: configure({ errorRate: 0 })' });
      }, OUTAGE.toMs),
    ];
    const pending: Promise<Call>[] = [];
    for (let wave = 0; wave * WAVES.size < REQUESTS; wave++) {
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, wave * WAVES.everyMs - since())));
      for (const { question, lang } of questions.slice(wave * WAVES.size, (wave + 1) * WAVES.size)) {
        const request = { ...supportRequest(question, lang, false), model: PREFERRED_MODEL };
        pending.push(
          router.route(request, { preferredModel: PREFERRED_MODEL, deadline: DEADLINE }).then(
            (result): Call => ({ ok: true, result }),
            (error: unknown): Call => ({ ok: false, error }),
          ),
        );
      }
    }
    const calls = await Promise.all(pending);
    const wallMs = since();
    outage.forEach(clearTimeout);

    // Who answered, and at what cost in latency; then what each provider saw.
    const answered = calls.flatMap((c) => (c.ok ? [c.result] : []));
    const failed = calls.flatMap((c) => (c.ok ? [] : [c.error]));
    const rows = ENDPOINTS.map(({ name, model, maxConcurrent }) => {
      const mine = answered.filter((r) => r.endpoint === name);
      const provider = providers.get(name)!;
      const statuses = Object.entries(provider.byStatus)
        .map(([status, n]) => `${n}×${status}`)
        .join(' ');
      return [
        name,
        model,
        count(mine.length),
        percent(mine.length, answered.length),
        ms(median(mine.map((r) => r.latencyMs))),
        count(mine.filter((r) => r.attempts.length > 1).length),
        count(provider.requests),
        statuses || '-',
        `${provider.maxInFlight} / ${maxConcurrent}`,
      ];
    });
    console.log(
      renderTable(
        [
          'endpoint',
          'model',
          'answered',
          'share',
          'p50 latency',
          'after a fallback',
          'provider requests',
          'statuses',
          'most in flight / max',
        ],
        rows,
        ['left', 'left', 'right', 'right', 'right', 'right', 'right', 'left', 'right'],
      ),
    );

    const cooling = (name: string) => cooldowns.filter((c) => c.endpoint === name);
    const spans = (list: readonly Cooldown[]) => {
      if (list.length === 0) return 'none';
      const values = list.map((c) => Math.round(c.forMs));
      const [lo, hi] = [Math.min(...values), Math.max(...values)];
      return `${list.length} (${lo === hi ? `${lo} ms` : `${lo}-${hi} ms`})`;
    };
    const limited429 = cooling('limited').filter((c) => c.status === 429);
    const honoured = limited429.every((c) => c.retryAfter !== undefined && c.forMs <= Number(c.retryAfter) * 1_000);
    const sentWhileAside = ENDPOINTS.flatMap(({ name }) =>
      sent.get(name)!.filter(({ atMs }) => cooling(name).some((c) => atMs > c.atMs + 1 && atMs < c.atMs + c.forMs - 1)),
    );
    const refusedAgain = sentWhileAside.filter((s) => s.status === 429).length;
    const summary = [
      [
        'calls',
        count(calls.length),
        `${Math.ceil(REQUESTS / WAVES.size)} waves, ${(wallMs / 1_000).toFixed(1)} s in all`,
      ],
      [
        'answered',
        count(answered.length),
        `${percent(answered.length, calls.length)}; ${count(answered.filter((r) => r.endpoint === 'fast').length)} by the preferred endpoint`,
      ],
      ['caller errors', count(failed.length), 'RouterErrors reaching a caller; should be 0'],
      [
        'fallbacks',
        count([...fallbacks.values()].reduce((a, b) => a + b, 0)),
        [...fallbacks].map(([k, n]) => `${k}: ${n}`).join(', ') || 'none',
      ],
      ['cooldowns, fast', spans(cooling('fast')), "after 3 failures in a row, the router's cooldown"],
      ['cooldowns, slow', spans(cooling('slow')), ''],
      [
        'cooldowns, limited',
        spans(cooling('limited')),
        `429s; each for the provider's retry-after-ms${honoured ? ', within its Retry-After' : ''}`,
      ],
      [
        'recoveries',
        count(recoveries + earlyRecoveries),
        `${recoveries} by a probe after the cooldown, ${earlyRecoveries} before it ended (see below)`,
      ],
      [
        'sent while set aside',
        count(sentWhileAside.length),
        `requests sent to an endpoint before its cooldown ended; ${refusedAgain} got a 429 again`,
      ],
    ];
    console.log(`\n${renderTable(['metric', 'value', 'note'], summary, ['left', 'right', 'left'])}`);

    if (failed.length > 0) {
      console.log(`\n${count(failed.length)} callers got an error. The first ones:`);
      for (const error of failed.slice(0, 3))
        console.log(
          `- ${isRouterError(error) ? `RouterError (${error.reason}): ` : ''}${error instanceof Error ? error.message : String(error)}`,
        );
    }

    if (earlyRecoveries > 0) {
      console.log(
        `\nNote: ${earlyRecoveries} recoveries came before the cooldown ended: a request the endpoint had taken before it ` +
          'was set aside answered OK, and the router took that as the endpoint being back, so it sent ' +
          `${count(sentWhileAside.length)} requests before the Retry-After had passed (${refusedAgain} of them refused with 429 again).`,
      );
    }

    console.log('\nTimeline (from the first wave; the same event within 50 ms folded into the first, ×count):');
    for (const { atMs, what } of fold(timeline.sort((a, b) => a.atMs - b.atMs)))
      console.log(`  +${(atMs / 1_000).toFixed(2)}s  ${what}`);

    const relative = (epoch: number) => (epoch === 0 ? '-' : `+${((epoch - startedEpoch) / 1_000).toFixed(2)}s`);
    const health = router
      .health()
      .map((h) => [
        h.name,
        h.state,
        String(h.inFlight),
        String(h.queued),
        String(h.maxConcurrent),
        h.latencyMs === undefined ? '-' : ms(h.latencyMs),
        percent(h.errorRate, 1),
        relative(h.cooldownUntil),
      ]);
    console.log('\nrouter.health() at the end:\n');
    console.log(
      renderTable(
        ['endpoint', 'state', 'in flight', 'queued', 'max', 'latency (avg)', 'error rate', 'cooling until'],
        health,
        ['left', 'left', 'right', 'right', 'right', 'right', 'right', 'right'],
      ),
    );
  } finally {
    await Promise.all(clients.map((client) => client.close()));
    await Promise.all([...providers.values()].map((provider) => provider.close()));
  }
}

/** `500`, `429`, `timeout`... for a fallback's or cooldown's error. */
function statusOf(error: unknown): string {
  if (isProviderError(error)) return error.status === undefined ? 'network' : String(error.status);
  return error instanceof Error ? error.name : 'error';
}

/**
 * Folds lines of the same kind that follow each other within 50 ms into the first, with a count: several
 * requests in flight on an endpoint fail together, and each failure sets it aside again.
 */
function fold(moments: readonly Moment[]): Moment[] {
  const out: { atMs: number; what: string; kind: string; times: number }[] = [];
  for (const m of moments) {
    const last = out[out.length - 1];
    const kind = m.kind ?? m.what;
    if (last !== undefined && last.kind === kind && m.atMs - last.atMs < 50) last.times++;
    else out.push({ ...m, kind, times: 1 });
  }
  return out.map(({ atMs, what, times }) => ({ atMs, what: times > 1 ? `${what} ×${times}` : what }));
}
