import { KeyBuilder } from '../../lib/keys/key-builder';
import type { ChatRequest } from '../../lib/llm/chat-request';
import { chatKeyPolicy, explainKey } from '../../lib/llm/chat-key';
import { isChatKeyError } from '../../lib/llm/chat-key-error';
import type { ChatKeyOptions } from '../../lib/llm/chat-key-options';
import { CHAT_IGNORED_FIELDS } from '../../lib/llm/chat-key-fields';

const base: ChatRequest = {
  model: 'gpt-4o-mini',
  temperature: 0,
  messages: [
    { role: 'system', content: 'You are terse.' },
    { role: 'user', content: 'Capital of France?' },
  ],
};

function keyOf(request: unknown, options: ChatKeyOptions = {}, self?: unknown): string {
  return new KeyBuilder(
    'cachet',
    'default',
    'Client.complete',
    chatKeyPolicy({ tenant: false, ...options }).key,
  ).keyFor(self, [request]);
}

const tool = { type: 'function', function: { name: 'weather', parameters: { type: 'object', properties: {} } } };

// Each row changes one answer-changing parameter from `base`; every row must give a key of its own.
const answerChanging: [string, Partial<Record<string, unknown>>][] = [
  ['model', { model: 'gpt-4o' }],
  ['system prompt', { messages: [{ role: 'system', content: 'You are verbose.' }, base.messages[1]] }],
  ['user message', { messages: [base.messages[0], { role: 'user', content: 'Capital of Spain?' }] }],
  ['message role', { messages: [{ role: 'developer', content: 'You are terse.' }, base.messages[1]] }],
  ['message name', { messages: [base.messages[0], { ...base.messages[1], name: 'ada' }] }],
  ['temperature', { temperature: 0.7 }],
  ['top_p', { top_p: 0.5 }],
  ['max_tokens', { max_tokens: 10 }],
  ['max_completion_tokens', { max_completion_tokens: 10 }],
  ['stop', { stop: ['\n'] }],
  ['tools', { tools: [tool] }],
  ['tool_choice', { tool_choice: 'required' }],
  ['response_format', { response_format: { type: 'json_object' } }],
  ['seed', { seed: 42 }],
  ['n', { n: 2 }],
  ['presence_penalty', { presence_penalty: 0.5 }],
  ['frequency_penalty', { frequency_penalty: 0.5 }],
  ['logit_bias', { logit_bias: { '50256': -100 } }],
  ['logprobs', { logprobs: true }],
  ['top_logprobs', { top_logprobs: 3 }],
  ['reasoning_effort', { reasoning_effort: 'high' }],
  ['an unknown field', { x_provider_knob: 1 }],
];

describe('chatKeyPolicy key', () => {
  it.each(answerChanging)('gives a different key when %s changes', (_name, change) => {
    expect(keyOf({ ...base, ...change })).not.toBe(keyOf(base));
  });

  it('gives every answer-changing variant a distinct key', () => {
    const keys = new Set(answerChanging.map(([, change]) => keyOf({ ...base, ...change })));
    expect(keys.size).toBe(answerChanging.length);
  });

  it.each([
    ['stream', { stream: true }],
    ['stream_options', { stream: true, stream_options: { include_usage: true } }],
    ['user', { user: 'end-user-7' }],
    ['metadata', { metadata: { feature: 'faq' } }],
    ['store', { store: true }],
    ['request_id', { request_id: 'r-1' }],
    ['timeout', { timeout: 5000 }],
    ['prompt_cache_key', { prompt_cache_key: 'k' }],
  ])('gives the same key when only %s differs', (_name, change) => {
    expect(keyOf({ ...base, ...change })).toBe(keyOf(base));
  });

  it('ignores arguments after the request (SDK request options such as timeout and headers)', () => {
    const builder = new KeyBuilder('cachet', 'default', 'C.m', chatKeyPolicy({ tenant: false }).key);
    expect(builder.keyFor(undefined, [base, { timeout: 1, headers: { a: 'b' } }])).toBe(
      builder.keyFor(undefined, [base]),
    );
  });

  it('treats null and absent alike but never unifies absent with an explicit default', () => {
    expect(keyOf({ ...base, top_p: null, seed: undefined })).toBe(keyOf(base));
    const { temperature: _omit, ...noTemperature } = base;
    expect(keyOf({ ...noTemperature, temperature: 1 })).not.toBe(keyOf(noTemperature));
  });

  it('does not depend on the order of object keys, in the request or deep inside tools', () => {
    const reordered = { messages: base.messages, temperature: 0, model: 'gpt-4o-mini' };
    expect(keyOf(reordered)).toBe(keyOf(base));
    const toolB = { function: { parameters: { properties: {}, type: 'object' }, name: 'weather' }, type: 'function' };
    expect(keyOf({ ...base, tools: [toolB] })).toBe(keyOf({ ...base, tools: [tool] }));
  });

  it('keeps message order significant', () => {
    expect(keyOf({ ...base, messages: [...base.messages].reverse() })).not.toBe(keyOf(base));
  });

  it('drops fields listed in ignoreFields, which are otherwise included as unknown fields', () => {
    expect(keyOf({ ...base, trace: 'a' })).not.toBe(keyOf({ ...base, trace: 'b' }));
    expect(keyOf({ ...base, trace: 'a' }, { ignoreFields: ['trace'] })).toBe(
      keyOf({ ...base, trace: 'b' }, { ignoreFields: ['trace'] }),
    );
  });

  it('throws a ChatKeyError for something that is not a chat request', () => {
    let thrown: unknown;
    try {
      keyOf({ prompt: 'hi' });
    } catch (error) {
      thrown = error;
    }
    expect(isChatKeyError(thrown)).toBe(true);
    expect((thrown as { code: string }).code).toBe('ERR_CACHET_CHAT_KEY');
  });
});

describe('stable chat keys', () => {
  // Computed once; stored entries are found only while these stay equal.
  const tenant = function (this: { t: string }) {
    return this.t;
  };
  const long = 'Summarise the following ticket. '.repeat(40);
  const pinned: [string, Record<string, unknown>, ChatKeyOptions, unknown, string][] = [
    ['two messages, shared', base, {}, undefined, 'yfQ21vhNtXQOB0q5MOoQWxCnVBh4D938EGKEY4BtbWQ'],
    ['two messages, tenant acme', base, { tenant }, { t: 'acme' }, 'e3wV9ix6PTvtvtoErQw2Y3UHmKSPujJjlOifKLcJb60'],
    [
      'ignored, null and absent fields (the key of two messages, shared)',
      {
        ...base,
        stream: true,
        stream_options: { include_usage: true },
        user: 'u-7',
        top_p: null,
        seed: undefined,
        metadata: { a: '1' },
      },
      {},
      undefined,
      'yfQ21vhNtXQOB0q5MOoQWxCnVBh4D938EGKEY4BtbWQ',
    ],
    [
      'normalised text',
      {
        ...base,
        messages: [
          { role: 'system', content: ' You  are\tterse. ' },
          { role: 'user', content: 'Cafe\u0301   au lait?' },
        ],
      },
      { normalize: true },
      undefined,
      'Yfg8TdKad2VuMX3LTCk2ZWe2X3pwr_KYt0b6l-ZCzTY',
    ],
    [
      'lower-cased text parts, tenant globex',
      {
        ...base,
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: ' LOOK  Here ' },
              { type: 'image_url', image_url: { url: 'https://x/a.png' } },
            ],
          },
        ],
      },
      { normalize: { whitespace: true, lowercase: true }, tenant },
      { t: 'globex' },
      'vW7Iz38yyFE3joloUQZsG1e963wm2WWeH6iRVzgCzHY',
    ],
    [
      'tools, a tool call, unknown and listed fields',
      {
        ...base,
        seed: 7,
        tools: [tool],
        messages: [
          ...base.messages,
          {
            role: 'assistant',
            content: null,
            tool_calls: [{ id: '1', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } }],
          },
        ],
        x_knob: 2,
        trace: 'abc',
      },
      { ignoreFields: ['trace'] },
      undefined,
      'ZLeJwcDdXon2MsX2IptZau7TQmT4RX-bmYj9vDatnzM',
    ],
    [
      'a long transcript',
      {
        ...base,
        messages: [
          { role: 'system', content: long },
          { role: 'user', content: long + '?' },
          { role: 'assistant', content: long + '!' },
        ],
      },
      { normalize: true },
      undefined,
      'hv41gXKCjwDkXR5-YIoWLClTPEX_d8udeVZJzhq3xTY',
    ],
  ];

  it.each(pinned)('keeps the key of %s, derived and remembered', (_name, request, options, self, digest) => {
    const builder = new KeyBuilder(
      'cachet',
      'default',
      'Client.complete',
      chatKeyPolicy({ tenant: false, ...options }).key,
    );
    expect(builder.keyFor(self, [request])).toBe(`cachet:default:Client.complete:${digest}`);
    expect(builder.keyFor(self, [request])).toBe(`cachet:default:Client.complete:${digest}`);
  });
});

describe('chatKeyPolicy key: what it builds per call', () => {
  const identity = (request: unknown, options: ChatKeyOptions = {}) =>
    chatKeyPolicy({ tenant: false, ...options }).key.call(undefined, request as ChatRequest) as {
      request: Record<string, unknown>;
    };

  it('uses the request itself when no field is dropped and no text normalised, instead of copying it', () => {
    expect(identity(base).request).toBe(base);
    const tidy = { ...base, messages: [{ role: 'user', content: 'Capital of France?' }] };
    expect(identity(tidy, { normalize: true }).request).toBe(tidy);
  });

  it('copies only the messages whose text normalisation changes', () => {
    const messages = [base.messages[0], { role: 'user', content: ' Capital  of France? ' }];
    const kept = identity({ ...base, messages }, { normalize: true }).request;
    const keptMessages = kept.messages as unknown[];
    expect(keptMessages[0]).toBe(messages[0]);
    expect(keptMessages[1]).toEqual({ role: 'user', content: 'Capital of France?' });
    expect(messages[1]).toEqual({ role: 'user', content: ' Capital  of France? ' });
  });

  it('keeps fields named like Object.prototype members in the key', () => {
    for (const field of ['constructor', 'toString', 'valueOf', 'hasOwnProperty']) {
      expect(keyOf({ ...base, [field]: 'a' })).not.toBe(keyOf({ ...base, [field]: 'b' }));
      expect(explainKey({ ...base, [field]: 'a' } as ChatRequest).included.map((i) => i.field)).toContain(field);
    }
  });

  it('keys messages and parts that are null instead of failing while normalising', () => {
    const odd = { ...base, messages: [null, { role: 'user', content: [null, { type: 'text', text: ' hi ' }] }] };
    const tidy = { ...base, messages: [null, { role: 'user', content: [null, { type: 'text', text: 'hi' }] }] };
    expect(keyOf(odd, { normalize: true })).toBe(keyOf(tidy, { normalize: true }));
  });

  it('normalises correctly past the number of texts it remembers', () => {
    const policy = chatKeyPolicy({ tenant: false, normalize: true });
    const builder = new KeyBuilder('cachet', 'default', 'Client.complete', policy.key);
    const ask = (text: string) => ({ ...base, messages: [{ role: 'user', content: text }] });
    for (let i = 0; i < 1_500; i++) {
      expect(builder.keyFor(undefined, [ask(`  question ${i}  `)])).toBe(
        keyOf(ask(`question ${i}`), { normalize: true }),
      );
    }
    expect(builder.keyFor(undefined, [ask('  question 1  ')])).toBe(keyOf(ask('question 1'), { normalize: true }));
  });

  it('remembers normalised texts per policy, never across different normalisations', () => {
    const shouted = { ...base, messages: [{ role: 'user', content: 'HELLO  THERE' }] };
    expect(keyOf(shouted, { normalize: { lowercase: true } })).toBe(
      keyOf({ ...base, messages: [{ role: 'user', content: 'hello  there' }] }),
    );
    expect(keyOf(shouted, { normalize: { whitespace: true } })).toBe(
      keyOf({ ...base, messages: [{ role: 'user', content: 'HELLO THERE' }] }),
    );
  });
});

describe('prompt normalisation', () => {
  const spaced = { ...base, messages: [base.messages[0], { role: 'user', content: '  Capital   of\n France? ' }] };
  const decomposed = { ...base, messages: [base.messages[0], { role: 'user', content: 'Caf\u0065\u0301?' }] };
  const composed = { ...base, messages: [base.messages[0], { role: 'user', content: 'Caf\u00e9?' }] };
  const shouted = { ...base, messages: [base.messages[0], { role: 'user', content: 'CAPITAL OF FRANCE?' }] };

  it('is off by default: whitespace, Unicode form and case all count', () => {
    expect(keyOf(spaced)).not.toBe(keyOf(base));
    expect(keyOf(decomposed)).not.toBe(keyOf(composed));
  });

  it('collapses and trims whitespace when asked', () => {
    expect(keyOf(spaced, { normalize: { whitespace: true } })).toBe(keyOf(base, { normalize: { whitespace: true } }));
  });

  it('applies Unicode NFC when asked', () => {
    expect(keyOf(decomposed, { normalize: { nfc: true } })).toBe(keyOf(composed, { normalize: { nfc: true } }));
  });

  it('folds case only when lowercase is asked, never with normalize: true', () => {
    expect(keyOf(shouted, { normalize: true })).not.toBe(keyOf(base, { normalize: true }));
    expect(keyOf(shouted, { normalize: { lowercase: true } })).toBe(keyOf(base, { normalize: { lowercase: true } }));
  });

  it('normalises text parts of multi-part content but leaves images and tool arguments alone', () => {
    const parts = (text: string, url: string) => ({
      ...base,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text },
            { type: 'image_url', image_url: { url } },
          ],
        },
      ],
    });
    const options = { normalize: true };
    expect(keyOf(parts(' look  here ', 'a.png'), options)).toBe(keyOf(parts('look here', 'a.png'), options));
    expect(keyOf(parts('look here', 'a.png'), options)).not.toBe(keyOf(parts('look here', 'b.png'), options));
    const call = (args: string) => ({
      ...base,
      messages: [
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: '1', type: 'function', function: { name: 'f', arguments: args } }],
        },
      ],
    });
    expect(keyOf(call('{"a": 1}'), options)).not.toBe(keyOf(call('{"a":  1}'), options));
  });
});

describe('prompt normalisation against its definition', () => {
  // NFC, then every run of \s collapsed to one space and trimmed, then lower case: the definition the
  // fast checks (Latin-1 scans, remembered texts) must agree with, text by text.
  const reference = (text: string, n: { whitespace?: boolean; nfc?: boolean; lowercase?: boolean }) => {
    let out = n.nfc ? text.normalize('NFC') : text;
    if (n.whitespace) out = out.replace(/\s+/g, ' ').trim();
    return n.lowercase ? out.toLowerCase() : out;
  };
  const pieces = [
    'a',
    'B',
    'é',
    'e',
    '\u0301',
    ' ',
    '  ',
    '\t',
    '\n',
    '\r',
    '\v',
    '\f',
    '\u00a0',
    '\u0085',
    '\u2003',
    '\u3000',
    '\ufeff',
    '\u2028',
    'A\u030a',
    '\u212b',
    '東',
    '😀',
    'ß',
    '.',
  ];
  let seed = 7;
  const next = () => (seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648;
  const texts = Array.from({ length: 600 }, (_, i) => {
    const length = i % 10 === 0 ? 250 : Math.floor(next() * 12);
    return Array.from({ length }, () => pieces[Math.floor(next() * pieces.length)]).join('');
  });
  const ask = (content: string) => ({ ...base, messages: [{ role: 'user', content }] });

  it.each([
    { whitespace: true, nfc: true },
    { whitespace: true },
    { nfc: true },
    { lowercase: true },
    { whitespace: true, nfc: true, lowercase: true },
  ])('gives every text the key of its normalised form, with %j', (normalize) => {
    const builder = new KeyBuilder(
      'cachet',
      'default',
      'Client.complete',
      chatKeyPolicy({ tenant: false, normalize }).key,
    );
    for (const text of [...texts, ...texts]) {
      const expected = reference(text, normalize);
      expect(builder.keyFor(undefined, [ask(text)])).toBe(keyOf(ask(expected)));
      expect(explainKey(ask(text) as ChatRequest, { normalize }).normalize.changedTexts).toBe(
        expected === text ? 0 : 1,
      );
    }
  });

  it('may skip NFC below U+0300: every text of one or two such code points is already NFC', () => {
    for (let a = 0; a < 0x300; a++) {
      const first = String.fromCharCode(a);
      expect(first.normalize('NFC')).toBe(first);
      for (let b = 0; b < 0x300; b++) {
        const pair = first + String.fromCharCode(b);
        if (pair.normalize('NFC') !== pair) expect(pair).toBe('an NFC pair');
      }
    }
  });
});

describe('chatKeyPolicy when', () => {
  const when = (request: Record<string, unknown>, options: ChatKeyOptions = {}) =>
    chatKeyPolicy({ tenant: false, ...options }).when.call(undefined, request as unknown as ChatRequest);

  it.each([
    [{ temperature: 0 }, true],
    [{ temperature: 0.7 }, false],
    [{ temperature: undefined }, false],
    [{ temperature: 0.7, seed: 1 }, true],
    [{ temperature: undefined, seed: 1 }, true],
    [{ temperature: 0, n: 3 }, false],
    [{ temperature: 0, n: 1 }, true],
  ])('judges %j cacheable: %s', (change, expected) => {
    expect(when({ ...base, ...change })).toBe(expected);
  });

  it('caches sampling calls when cacheNonDeterministic is on', () => {
    expect(when({ ...base, temperature: 1.2, n: 4 }, { cacheNonDeterministic: true })).toBe(true);
  });
});

describe('tenants', () => {
  const tenant = function (this: { tenantId: string }) {
    return this.tenantId;
  };

  it('never gives two tenants the same key when a tenant function is given', () => {
    expect(keyOf(base, { tenant }, { tenantId: 'acme' })).not.toBe(keyOf(base, { tenant }, { tenantId: 'globex' }));
    expect(keyOf(base, { tenant }, { tenantId: 'acme' })).toBe(keyOf(base, { tenant }, { tenantId: 'acme' }));
  });

  it('shares keys across instances when no tenant function is given (the documented default)', () => {
    expect(keyOf(base, {}, { tenantId: 'acme' })).toBe(keyOf(base, {}, { tenantId: 'globex' }));
  });

  it('passes the call arguments to the tenant function', () => {
    const byArg = (_request: ChatRequest, ctx: { org: string }) => ctx.org;
    const builder = new KeyBuilder('cachet', 'default', 'C.m', chatKeyPolicy({ tenant: byArg }).key);
    expect(builder.keyFor(undefined, [base, { org: 'a' }])).not.toBe(builder.keyFor(undefined, [base, { org: 'b' }]));
  });

  it.each([undefined, '', 42])('refuses to build a shared key when the tenant function returns %p', (value) => {
    expect(() => keyOf(base, { tenant: () => value as unknown as string })).toThrow(/tenant/);
  });
});

describe('explainKey', () => {
  it('lists what went in, what was dropped and why, and the cacheability verdict', () => {
    const request = { ...base, temperature: 0.3, stream: true, user: 'u1', top_p: null, x_knob: 2 };
    const explained = explainKey(request as ChatRequest, { normalize: true });
    expect(explained.included.map((i) => i.field)).toEqual(['messages', 'model', 'temperature', 'x_knob']);
    expect(explained.included.find((i) => i.field === 'x_knob')?.reason).toMatch(/unknown field/);
    expect(explained.dropped).toEqual([
      { field: 'stream', reason: CHAT_IGNORED_FIELDS.stream },
      { field: 'top_p', reason: expect.stringMatching(/absent/) },
      { field: 'user', reason: CHAT_IGNORED_FIELDS.user },
    ]);
    expect(explained.tenant).toBeNull();
    expect(explained.cacheable).toBe(false);
    expect(explained.cacheableReason).toMatch(/temperature 0.3 > 0 without a seed/);
    expect(explained.normalize).toEqual({ whitespace: true, nfc: true, lowercase: false, changedTexts: 0 });
    expect(explained.identity.request).not.toHaveProperty('stream');
    expect(Object.keys(explained).sort()).toEqual([
      'cacheable',
      'cacheableReason',
      'dropped',
      'identity',
      'included',
      'normalize',
      'tenant',
    ]);
  });

  it('reports the tenant and how many texts normalisation changed', () => {
    const policy = chatKeyPolicy({
      normalize: { whitespace: true },
      tenant(this: { t: string }) {
        return this.t;
      },
    });
    const explained = policy.explain({ ...base, messages: [{ role: 'user', content: ' hi ' }] }, { t: 'acme' });
    expect(explained.tenant).toBe('acme');
    expect(explained.normalize.changedTexts).toBe(1);
    expect(explained.identity).toEqual({
      tenant: 'acme',
      request: { model: base.model, temperature: 0, messages: [{ role: 'user', content: 'hi' }] },
    });
  });

  it('hashes exactly its identity: equal identities give equal keys', () => {
    const a = { ...base, stream: true };
    const b = { ...base, user: 'x' };
    expect(explainKey(a).identity).toEqual(explainKey(b).identity);
    expect(keyOf(a)).toBe(keyOf(b));
  });

  it('keeps explain out of an object spread, so the policy spreads into @Cached options', () => {
    expect(Object.keys({ ...chatKeyPolicy({ tenant: false }) }).sort()).toEqual([
      'complete',
      'key',
      'semanticQuestion',
      'usage',
      'when',
    ]);
  });

  it('requires a decision on tenants: no default shares one tenant’s answers with another', () => {
    expect(() => chatKeyPolicy({} as never)).toThrow(
      /Expected `tenant` to be a function returning the call's tenant, or false to share cached answers between all tenants on purpose, got `undefined`/,
    );
    expect(() => chatKeyPolicy(undefined as never)).toThrow(/Expected `tenant`/);
  });
});

describe('option validation', () => {
  it.each<[string, unknown, RegExp]>([
    ['a misspelt option', { tenat: () => 'x' }, /Unknown chatKeyPolicy option `tenat`/],
    [
      'a tenant that is not a function',
      { tenant: 'acme' },
      /Expected `tenant` to be a function or false, got `"acme"` \(string\)/,
    ],
    [
      'a non-boolean cacheNonDeterministic',
      { cacheNonDeterministic: 'yes' },
      /Expected `cacheNonDeterministic` to be a boolean/,
    ],
    [
      'a non-boolean normalize flag',
      { normalize: { whitespace: 1 } },
      /Expected `normalize.whitespace` to be a boolean/,
    ],
    ['an unknown normalize flag', { normalize: { trim: true } }, /Unknown normalize option `trim`/],
    ['ignoring the messages', { ignoreFields: ['messages'] }, /Expected `ignoreFields`/],
  ])('rejects %s when the policy is made', (_name, options, message) => {
    expect(() => chatKeyPolicy({ tenant: false, ...(options as ChatKeyOptions) })).toThrow(message);
  });
});
