import { Cache, Cached } from '../../lib';
import { chatKeyPolicy, isChatKeyError } from '../../lib/llm/chat-key';
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

  function clientClass(policy = chatKeyPolicy({ normalize: true, tenant(this: { tenantId: string }) { return this.tenantId; } })) {
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
