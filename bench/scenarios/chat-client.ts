import { Agent, request } from 'undici';
import { ChatClient, type ChatCompletion, type ChatRequest } from '../../lib/llm';
import { LocalProvider } from '../../lib/testing';
import { compareThroughput, sleep, type Summary } from '../support/measure';
import { atLeast, row, type BenchContext, type Result, type Scenario } from '../support/scenario';

const NAME = 'chat-client';
const CONCURRENCY = 16;
const ROUNDS = 5;

const REQUEST: ChatRequest = {
  model: 'gpt-4o-mini',
  messages: [{ role: 'user', content: 'What is the refund policy?' }],
  temperature: 0,
};

/**
 * Completions per second through `ChatClient`'s kept-alive pool, against opening (and closing) a new
 * connection for every request, both from 16 concurrent callers to a LocalProvider with no latency.
 */
export const chatClient: Scenario = {
  name: NAME,
  measures: `\`await client.complete(request)\` with \`new ChatClient({ connections: ${CONCURRENCY} })\` (kept-alive pool), ${CONCURRENCY} concurrent loops against a LocalProvider`,
  baseline: `undici \`request()\` through a fresh \`new Agent()\` closed after each request (a TCP connect per request), same body, \`JSON.parse\` of the answer, ${CONCURRENCY} concurrent loops`,
  async run(ctx: BenchContext): Promise<Result[]> {
    const provider = new LocalProvider({ latency: 0 });
    const baseURL = await provider.start();
    const client = new ChatClient({ baseURL, apiKey: 'bench', connections: CONCURRENCY });
    try {
      const url = `${new URL(baseURL).origin}/v1/chat/completions`;
      // What ChatClient sends: the same headers and the same JSON body.
      const headers = { 'content-type': 'application/json', authorization: 'Bearer bench' };
      const body = JSON.stringify(REQUEST);
      const expected = (await client.complete(REQUEST)).choices[0]?.message.content;
      if (typeof expected !== 'string' || expected.length === 0)
        throw new Error(`${NAME}: the provider sent no answer text`);
      provider.resetCounters();

      let sent = 0;
      let wrong = 0;
      const check = (completion: ChatCompletion): void => {
        sent++;
        if (completion.choices[0]?.message.content !== expected) wrong++;
      };
      const timings = await compareThroughput(
        {
          pooled: async () => check(await client.complete(REQUEST)),
          newConnection: async () => {
            const agent = new Agent();
            try {
              const response = await request(url, { dispatcher: agent, method: 'POST', headers, body });
              const text = await response.body.text();
              if (response.statusCode !== 200)
                throw new Error(`${NAME}: provider answered ${response.statusCode}: ${text}`);
              check(JSON.parse(text) as ChatCompletion);
            } finally {
              await agent.close();
            }
          },
        },
        { concurrency: CONCURRENCY, warmupMs: ctx.ms(500), roundMs: ctx.ms(1000), rounds: ROUNDS },
      );
      // The provider counts a request when its response closes, which may come a moment after the client read it.
      for (let i = 0; i < 20 && provider.requests < sent; i++) await sleep(10);
      if (provider.requests < sent) {
        throw new Error(
          `${NAME}: the loops counted ${sent} requests but the provider served only ${provider.requests}`,
        );
      }
      if (wrong > 0) throw new Error(`${NAME}: ${wrong} of ${sent} answers were not the expected completion`);
      const ok = provider.byStatus[200] ?? 0;
      if (ok !== provider.requests) throw new Error(`${NAME}: provider statuses ${JSON.stringify(provider.byStatus)}`);
      if (provider.maxInFlight > CONCURRENCY) {
        throw new Error(
          `${NAME}: ${provider.maxInFlight} requests in flight at once, more than the ${CONCURRENCY} callers`,
        );
      }

      const spread = (s: Summary): string => `±${(s.spread * 50).toFixed(1)}%`;
      return [
        row(
          NAME,
          `complete(), concurrency ${CONCURRENCY}, latency 0`,
          'ops/s',
          timings.pooled.median,
          timings.newConnection.median,
          atLeast(1),
          `median of ${ROUNDS} rounds; spread ${spread(timings.pooled)} ours, ${spread(timings.newConnection)} baseline; ` +
            `provider served ${provider.requests.toLocaleString('en-US')} requests (loops counted ${sent.toLocaleString('en-US')}), ` +
            `at most ${provider.maxInFlight} in flight`,
        ),
      ];
    } finally {
      await client.close();
      await provider.close();
    }
  },
};
