import { Cache, Cached } from '../../lib';
import { encodeValueForKey } from '../../lib/keys/canonical';
import { digest } from '../../lib/keys/digest';
import { chatKeyPolicy, explainKey } from '../../lib/llm/chat-key';
import { isChatKeyError } from '../../lib/llm/chat-key-error';
import type { ChatKeyOptions } from '../../lib/llm/chat-key-options';
import type { ChatRequest } from '../../lib/llm/chat-request';

// This suite runs twice: under experimentalDecorators (legacy, as NestJS) and under TC39 standard decorators.

const system = { role: 'system', content: 'You are terse.' } as const;
const request: ChatRequest = {
  model: 'gpt-4o-mini',
  temperature: 0,
  messages: [system, { role: 'user', content: 'Capital of France?' }],
};

describe('@Cached with chatKeyPolicy', () => {
  let cache: Cache;
  let providerCalls: { tenant: string; request: ChatRequest }[];

  function clientClass(
    policy = chatKeyPolicy({
      normalize: true,
      tenant(this: { tenantId: string }) {
        return this.tenantId;
      },
    }),
  ) {
    class ChatClient {
      constructor(readonly tenantId: string) {}
      @Cached({ cache, ...policy })
      async complete(req: ChatRequest): Promise<string> {
        providerCalls.push({ tenant: this.tenantId, request: req });
        return `answer #${providerCalls.length} for ${this.tenantId}`;
      }
    }
    return ChatClient;
  }

  beforeEach(() => {
    cache = new Cache();
    providerCalls = [];
  });

  it('answers a repeat from the cache even when only stream, user or whitespace differ', async () => {
    const client = new (clientClass())('acme');
    const first = await client.complete(request);
    const again = await client.complete({
      ...request,
      stream: false,
      user: 'end-user-9',
      messages: [system, { role: 'user', content: '  Capital of   France? ' }],
    });
    expect(again).toBe(first);
    expect(providerCalls).toHaveLength(1);
  });

  it('calls the provider again when an answer-changing parameter differs', async () => {
    const client = new (clientClass())('acme');
    await client.complete(request);
    await client.complete({ ...request, max_tokens: 5 });
    expect(providerCalls).toHaveLength(2);
  });

  it('never lets one tenant read another tenant’s cached answer', async () => {
    const Client = clientClass();
    const acme = await new Client('acme').complete(request);
    const globex = await new Client('globex').complete(request);
    expect(acme).toBe('answer #1 for acme');
    expect(globex).toBe('answer #2 for globex');
    await expect(new Client('acme').complete(request)).resolves.toBe('answer #1 for acme');
    expect(providerCalls.map((c) => c.tenant)).toEqual(['acme', 'globex']);
  });

  it('shares entries across instances when the policy has no tenant', async () => {
    const Client = clientClass(chatKeyPolicy({ tenant: false }));
    await new Client('acme').complete(request);
    await expect(new Client('globex').complete(request)).resolves.toBe('answer #1 for acme');
    expect(providerCalls).toHaveLength(1);
  });

  it('bypasses the cache for sampling calls unless cacheNonDeterministic is on', async () => {
    const sampling = { ...request, temperature: 0.8 };
    const client = new (clientClass())('acme');
    await client.complete(sampling);
    await client.complete(sampling);
    expect(providerCalls).toHaveLength(2);

    cache = new Cache(); // a second ChatClient class must not share the first one's cache entries
    const opted = new (clientClass(chatKeyPolicy({ tenant: false, cacheNonDeterministic: true })))('acme');
    await opted.complete(sampling);
    await opted.complete(sampling);
    expect(providerCalls).toHaveLength(3);
  });

  it('rejects the call instead of sharing when the tenant is missing', async () => {
    const client = new (clientClass())(undefined as unknown as string);
    const outcome = client.complete(request).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(isChatKeyError(await outcome)).toBe(true);
    expect(providerCalls).toHaveLength(0);
  });
});

describe('explainKey and the key @Cached uses', () => {
  const tenant = function (this: { tenantId: string }) {
    return this.tenantId;
  };
  const cases: [string, ChatKeyOptions, Record<string, unknown>][] = [
    ['a plain two-message request', {}, { ...request }],
    [
      'normalised text in strings and parts',
      { normalize: true },
      {
        ...request,
        messages: [
          { role: 'system', content: ' You  are\nterse. ' },
          {
            role: 'user',
            content: [
              { type: 'text', text: 'Cafe\u0301  ?' },
              { type: 'image_url', image_url: { url: 'a.png' } },
            ],
          },
        ],
      },
    ],
    [
      'lower-cased text',
      { normalize: { lowercase: true } },
      { ...request, messages: [{ role: 'user', content: 'HELLO' }] },
    ],
    ['a tenant', { tenant }, { ...request }],
    [
      'ignored fields, listed fields and an unknown field',
      { ignoreFields: ['trace'] },
      {
        ...request,
        stream: true,
        stream_options: { include_usage: true },
        user: 'end-user-1',
        trace: 'abc',
        x_knob: 3,
      },
    ],
    [
      'null and absent fields',
      { tenant },
      {
        ...request,
        top_p: null,
        seed: undefined,
        max_tokens: 20,
        messages: [system, { role: 'assistant', content: null, tool_calls: [] }],
      },
    ],
  ];

  it.each(cases)(
    'hashes the identity explainKey shows into the key of the call, for %s',
    async (_name, options, req) => {
      const cache = new Cache();
      const keys: string[] = [];
      cache.on('miss', ({ key }) => keys.push(key));
      const policy = chatKeyPolicy({ tenant: false, ...options });
      class Client {
        constructor(readonly tenantId: string) {}
        @Cached({ cache, ...policy })
        async complete(_req: ChatRequest): Promise<string> {
          return 'answer';
        }
      }
      const self = new Client('acme');
      await self.complete(req as ChatRequest);

      const explained = policy.explain(req as ChatRequest, self);
      expect(keys).toEqual([`cachet:default:Client.complete:${digest(encodeValueForKey(explained.identity))}`]);
      expect(explained.tenant).toBe(options.tenant === undefined ? null : 'acme');
      if (options.tenant === undefined) expect(explainKey(req as ChatRequest, options)).toEqual(explained);
      await cache.close();
    },
  );
});
