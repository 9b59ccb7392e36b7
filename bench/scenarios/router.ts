import { ChatClient, type ChatCompletion, type ChatRequest } from '../../lib/llm';
import { ConcurrentRouter, type RouteResult } from '../../lib/router';
import { LocalProvider } from '../../lib/testing';
import { RedisRouterHealth } from '../../lib/redis';
import { connectRaw, type RawClient } from '../support/redis';
import { compareLatency, compareThroughput, sleep, type Summary } from '../support/measure';
import { atLeast, atMost, row, type BenchContext, type Result, type Scenario } from '../support/scenario';

const NAME = 'router';
/** Callers of the throughput case, each in a closed loop. */
const CALLERS = 48;
/** Permits of each endpoint in the throughput case. */
const PER_ENDPOINT = 8;
const ENDPOINTS = 3;
const LATENCY = '20ms';
const ROUNDS = 5;

const REQUEST: ChatRequest = {
  model: 'gpt-4o-mini',
  messages: [{ role: 'user', content: 'q' }],
  temperature: 0,
};

/** A started LocalProvider and a ChatClient pooled to it. */
interface Backend {
  readonly name: string;
  readonly provider: LocalProvider;
  readonly client: ChatClient;
}

/** What to close at the end, filled as backends start, so a failure half-way still closes them. */
interface Opened {
  readonly providers: LocalProvider[];
  readonly clients: ChatClient[];
}

async function backend(name: string, latency: string | number, connections: number, open: Opened): Promise<Backend> {
  const provider = new LocalProvider({ latency });
  open.providers.push(provider);
  const baseURL = await provider.start();
  const client = new ChatClient({ baseURL, apiKey: 'bench', connections });
  open.clients.push(client);
  return { name, provider, client };
}

/**
 * What `ConcurrentRouter.route()` costs over calling the client directly (one endpoint, one call at a
 * time), and how much throughput three capped endpoints with spillover give over one.
 */
export const router: Scenario = {
  name: NAME,
  measures:
    '`await router.route(request)`: p50 at concurrency 1 over one endpoint (ChatClient → LocalProvider, no latency, `maxConcurrent: 16`); ' +
    `req/s from ${CALLERS} closed loops over ${ENDPOINTS} endpoints (a LocalProvider each, latency ${LATENCY}, \`maxConcurrent: ${PER_ENDPOINT}\`, \`spillover: true\`); ` +
    'p50 of `route()` at concurrency 1 with `health: new RedisRouterHealth(...)` (shared health, healthy endpoint)',
  baseline: `\`await client.complete(request)\` on the same client and provider; the same router with one such endpoint; the same router without \`health\``,
  async run(ctx: BenchContext): Promise<Result[]> {
    const open: Opened = { providers: [], clients: [] };
    try {
      return [await overhead(ctx, open), await spread(ctx, open), await sharedHealth(ctx, open)];
    } finally {
      for (const client of open.clients) await client.close();
      for (const provider of open.providers) await provider.close();
    }
  },
};

/** Row 1: p50 of `route()` over one endpoint against `complete()` on the same client. */
async function overhead(ctx: BenchContext, open: Opened): Promise<Result> {
  const { provider, client } = await backend('direct', 0, 16, open);
  const routed = new ConcurrentRouter<ChatRequest, ChatCompletion>({
    endpoints: [{ name: 'only', client, maxConcurrent: 16 }],
  });
  const expected = (await client.complete(REQUEST)).choices[0]?.message.content;
  if (typeof expected !== 'string' || expected.length === 0)
    throw new Error(`${NAME}: the provider sent no answer text`);

  let routes = 0;
  let directs = 0;
  let wrong = 0;
  const checkRoute = (result: RouteResult<ChatCompletion>): void => {
    routes++;
    if (result.endpoint !== 'only' || result.cached || result.attempts.length !== 1) wrong++;
    else if (result.response.choices[0]?.message.content !== expected) wrong++;
  };
  const checkDirect = (completion: ChatCompletion): void => {
    directs++;
    if (completion.choices[0]?.message.content !== expected) wrong++;
  };
  provider.resetCounters();
  const latency = await compareLatency(
    {
      ours: async () => checkRoute(await routed.route(REQUEST)),
      baseline: async () => checkDirect(await client.complete(REQUEST)),
    },
    { warmup: 500, rounds: 20, perRound: Math.max(25, Math.round(ctx.ms(250))) },
  );
  await settle(provider, routes + directs);
  if (wrong > 0)
    throw new Error(
      `${NAME}: ${wrong} of ${routes + directs} answers were not the expected completion from one attempt`,
    );
  if (provider.requests !== routes + directs) {
    throw new Error(
      `${NAME}: ${routes} routes and ${directs} direct calls, but the provider served ${provider.requests} requests`,
    );
  }
  if ((provider.byStatus[200] ?? 0) !== provider.requests)
    throw new Error(`${NAME}: provider statuses ${JSON.stringify(provider.byStatus)}`);
  if (provider.maxInFlight > 1)
    throw new Error(`${NAME}: ${provider.maxInFlight} requests in flight at once at concurrency 1`);

  const { ours, baseline } = latency;
  return row(
    NAME,
    'router overhead: p50, concurrency 1, 1 endpoint, latency 0',
    'µs',
    ours.p50,
    baseline.p50,
    atMost(1.25),
    `adds ${(ours.p50 - baseline.p50).toFixed(1)} µs at p50 (p99 ${ours.p99.toFixed(0)} µs ours, ${baseline.p99.toFixed(0)} µs baseline); ` +
      `${ours.samples.toLocaleString('en-US')} samples each; provider served ${provider.requests.toLocaleString('en-US')} requests, all 200`,
  );
}

/** Row 2: req/s of `route()` from 48 closed loops over three capped endpoints against one. */
async function spread(ctx: BenchContext, open: Opened): Promise<Result> {
  const three: Backend[] = [];
  for (let i = 0; i < ENDPOINTS; i++) three.push(await backend(`ep${i + 1}`, LATENCY, PER_ENDPOINT, open));
  const single = await backend('solo', LATENCY, PER_ENDPOINT, open);
  const routerOver = (backends: readonly Backend[]) =>
    new ConcurrentRouter<ChatRequest, ChatCompletion>({
      endpoints: backends.map((b) => ({ name: b.name, client: b.client, maxConcurrent: PER_ENDPOINT })),
      spillover: true,
    });
  const threeRouter = routerOver(three);
  const oneRouter = routerOver([single]);

  // Routes completed, per endpoint name, so each provider's count can be checked against them.
  const completed = new Map<string, number>();
  let wrong = 0;
  const check = (result: RouteResult<ChatCompletion>): void => {
    const name = result.endpoint ?? '(none)';
    completed.set(name, (completed.get(name) ?? 0) + 1);
    if (result.cached || result.attempts.length !== 1 || result.attempts[0]?.outcome !== 'ok') wrong++;
  };
  const timings = await compareThroughput(
    {
      three: async () => check(await threeRouter.route(REQUEST)),
      one: async () => check(await oneRouter.route(REQUEST)),
    },
    { concurrency: CALLERS, warmupMs: ctx.ms(500), roundMs: ctx.ms(1500), rounds: ROUNDS },
  );

  const all = [...three, single];
  const routes = [...completed.values()].reduce((a, b) => a + b, 0);
  for (const b of all) await settle(b.provider, completed.get(b.name) ?? 0);
  if (wrong > 0) throw new Error(`${NAME}: ${wrong} of ${routes} routes did not succeed on their first attempt`);
  const unknown = [...completed.keys()].filter((name) => !all.some((b) => b.name === name));
  if (unknown.length > 0) throw new Error(`${NAME}: routes answered by unknown endpoints ${unknown.join(', ')}`);
  for (const b of all) {
    const { provider } = b;
    if (provider.maxInFlight > PER_ENDPOINT) {
      throw new Error(
        `${NAME}: provider ${b.name} had ${provider.maxInFlight} requests in flight at once, more than maxConcurrent ${PER_ENDPOINT}`,
      );
    }
    if ((provider.byStatus[200] ?? 0) !== provider.requests) {
      throw new Error(`${NAME}: provider ${b.name} statuses ${JSON.stringify(provider.byStatus)}`);
    }
    if (provider.requests !== (completed.get(b.name) ?? 0)) {
      throw new Error(
        `${NAME}: provider ${b.name} served ${provider.requests} requests, but ${completed.get(b.name) ?? 0} routes ended there`,
      );
    }
  }
  const served = all.reduce((sum, b) => sum + b.provider.requests, 0);
  if (served !== routes) throw new Error(`${NAME}: providers served ${served} requests for ${routes} completed routes`);
  // Three endpoints that never fill up would make the ratio meaningless: each must have been used to its cap.
  const underused = three.filter((b) => b.provider.maxInFlight < PER_ENDPOINT);
  if (underused.length > 0) {
    throw new Error(
      `${NAME}: ${underused.map((b) => `${b.name} (${b.provider.maxInFlight})`).join(', ')} never reached ${PER_ENDPOINT} in flight`,
    );
  }

  const pct = (s: Summary): string => `±${(s.spread * 50).toFixed(1)}%`;
  const fmt = (n: number): string => n.toLocaleString('en-US');
  return row(
    NAME,
    `three endpoints vs one: ${CALLERS} callers, ${PER_ENDPOINT} each, latency ${LATENCY}`,
    'ops/s',
    timings.three.median,
    timings.one.median,
    atLeast(2.5),
    `median of ${ROUNDS} rounds; spread ${pct(timings.three)} ours, ${pct(timings.one)} baseline; ideal ${ENDPOINTS}x; ` +
      `requests served ${three.map((b) => `${b.name} ${fmt(b.provider.requests)}`).join(', ')}, solo ${fmt(single.provider.requests)} ` +
      `(= ${fmt(routes)} routes); max in flight ${all.map((b) => b.provider.maxInFlight).join('/')}`,
  );
}

/** The provider counts a request when its response closes, which may come a moment after the client read it. */
async function settle(provider: LocalProvider, expected: number): Promise<void> {
  for (let i = 0; i < 50 && provider.requests < expected; i++) await sleep(10);
}

/** Total commands Redis has processed (INFO stats), to count what the router sent. */
async function commandsProcessed(raw: RawClient): Promise<number> {
  const info = String(await raw.sendCommand(['INFO', 'stats']));
  return Number(/total_commands_processed:(\d+)/.exec(info)?.[1] ?? NaN);
}

/**
 * Row 3: p50 of `route()` over one healthy endpoint with shared health in Redis against the same router
 * without it. The healthy path reads the local mirror only, so Redis should see no command per route.
 */
async function sharedHealth(ctx: BenchContext, open: Opened): Promise<Result> {
  const { provider, client } = await backend('shared', 0, 16, open);
  const url = await ctx.redisUrl();
  const health = new RedisRouterHealth({ url, prefix: ctx.prefix('router-health') });
  const raw = await connectRaw(url);
  try {
    const endpoints = [{ name: 'only', client, maxConcurrent: 16 }];
    const shared = new ConcurrentRouter<ChatRequest, ChatCompletion>({ endpoints, health });
    const local = new ConcurrentRouter<ChatRequest, ChatCompletion>({ endpoints });
    for (let i = 0; i < 200 && !health.live; i++) await sleep(5);
    if (!health.live) throw new Error(`${NAME}: the shared health never subscribed to its notices`);
    let failed = 0;
    const check = (result: RouteResult<ChatCompletion>): void => {
      if (result.endpoint !== 'only' || result.attempts.length !== 1) failed++;
    };
    const before = await commandsProcessed(raw);
    let routes = 0;
    const latency = await compareLatency(
      {
        ours: async () => {
          routes++;
          check(await shared.route(REQUEST));
        },
        baseline: async () => check(await local.route(REQUEST)),
      },
      { warmup: 500, rounds: 20, perRound: Math.max(25, Math.round(ctx.ms(250))) },
    );
    // The INFO call that reads the count is itself one command.
    const commands = (await commandsProcessed(raw)) - before - 1;
    await shared.close();
    if (failed > 0) throw new Error(`${NAME}: ${failed} routes did not succeed on their first attempt`);
    if ((provider.byStatus[200] ?? 0) !== provider.requests)
      throw new Error(`${NAME}: provider statuses ${JSON.stringify(provider.byStatus)}`);
    const { ours, baseline } = latency;
    return row(
      NAME,
      'shared health (RedisRouterHealth) vs none: p50, concurrency 1, healthy endpoint',
      'µs',
      ours.p50,
      baseline.p50,
      atMost(1.1),
      `adds ${(ours.p50 - baseline.p50).toFixed(1)} µs at p50; Redis processed ${commands} commands during ${routes.toLocaleString('en-US')} shared-health routes ` +
        `(${(commands / routes).toFixed(3)} per route); ${ours.samples.toLocaleString('en-US')} samples each`,
    );
  } finally {
    await raw.close();
    await health.close();
  }
}
