import { createHash } from 'node:crypto';
import { ArgumentMemo } from '../../lib/keys/argument-memo';
import { KeyBuilder } from '../../lib/keys/key-builder';
import { encodeArguments } from '../../lib/keys/canonical';
import { chatKeyPolicy } from '../../lib/llm/chat-key';
import { chatRequest, QUESTION, type ChatRequest } from '../support/fixtures';
import { compareNsPerOp } from '../support/measure';
import { atMost, row, type BenchContext, type Result, type Scenario } from '../support/scenario';

const NAME = 'key-derivation';
const POOL = 64;

const sha256OfJson = (args: unknown[]): string => createHash('sha256').update(JSON.stringify(args)).digest('hex');

/** Deriving the storage key of one call, for a chat transcript and for a short question. */
export const keyDerivation: Scenario = {
  name: NAME,
  measures: "`new KeyBuilder('cachet', 'default', 'Svc.chat').keyFor(undefined, [request])`",
  baseline: "`createHash('sha256').update(JSON.stringify(args)).digest('hex')`",
  async run(ctx: BenchContext): Promise<Result[]> {
    // Distinct request objects with distinct text, cycled, so neither side can reuse earlier work.
    const requests: ChatRequest[] = Array.from({ length: POOL }, (_, i) => chatRequest(i));
    const json = JSON.stringify([requests[0]]).length;
    const canonical = encodeArguments([requests[0]]).length;
    const smallCanonical = encodeArguments([QUESTION, { lang: 'en' }]).length;
    // The memo takes only small arguments (strings up to 256 characters, 64 tokens): this request is encoded and hashed every time.
    const memo = new ArgumentMemo();
    memo.set([requests[0]], 'key');
    if (memo.size !== 0) throw new Error('key-derivation: the chat request is small enough for the memo');
    const keys = new Set(requests.map((r) => new KeyBuilder('cachet', 'default', 'Svc.chat').keyFor(undefined, [r])));
    if (keys.size !== POOL) throw new Error('key-derivation: distinct requests gave equal keys');

    const builder = new KeyBuilder('cachet', 'default', 'Svc.chat');
    const policyBuilder = new KeyBuilder('cachet', 'default', 'Svc.chat', chatKeyPolicy({ tenant: false }).key);
    const normalizingBuilder = new KeyBuilder(
      'cachet',
      'default',
      'Svc.chat',
      chatKeyPolicy({ tenant: false, normalize: true }).key,
    );
    const one = requests[0] as ChatRequest;
    let sink = '';
    const timings = await compareNsPerOp(
      {
        large: (n: number) => {
          for (let i = 0; i < n; i++) sink = builder.keyFor(undefined, [requests[i % POOL]]);
        },
        policy: (n: number) => {
          for (let i = 0; i < n; i++) sink = policyBuilder.keyFor(undefined, [requests[i % POOL]]);
        },
        normalizing: (n: number) => {
          for (let i = 0; i < n; i++) sink = normalizingBuilder.keyFor(undefined, [requests[i % POOL]]);
        },
        largeBaseline: (n: number) => {
          for (let i = 0; i < n; i++) sink = sha256OfJson([requests[i % POOL]]);
        },
        repeated: (n: number) => {
          for (let i = 0; i < n; i++) sink = builder.keyFor(undefined, [one]);
        },
        repeatedBaseline: (n: number) => {
          for (let i = 0; i < n; i++) sink = sha256OfJson([one]);
        },
        small: (n: number) => {
          for (let i = 0; i < n; i++) sink = builder.keyFor(undefined, [QUESTION, { lang: 'en' }]);
        },
        smallBaseline: (n: number) => {
          for (let i = 0; i < n; i++) sink = sha256OfJson([QUESTION, { lang: 'en' }]);
        },
      },
      { warmupMs: ctx.ms(300), roundMs: ctx.ms(30), rounds: 31 },
    );
    if (sink.length === 0) throw new Error('key-derivation: no key');

    const sizes = `JSON ${(json / 1024).toFixed(1)} KB, canonical ${(canonical / 1024).toFixed(1)} KB, too large for the memo`;
    return [
      row(
        NAME,
        `chat request (~10 KB), ${POOL} distinct`,
        'ns/op',
        timings.large.median,
        timings.largeBaseline.median,
        atMost(0.6),
        sizes,
      ),
      row(
        NAME,
        'the same through chatKeyPolicy({ tenant: false })',
        'ns/op',
        timings.policy.median,
        timings.largeBaseline.median,
        undefined,
        'the key of { tenant, request }',
      ),
      row(
        NAME,
        'the same with normalize: true',
        'ns/op',
        timings.normalizing.median,
        timings.largeBaseline.median,
        undefined,
        'NFC and whitespace on every text: texts over 256 characters are not remembered',
      ),
      row(
        NAME,
        'same chat request every call',
        'ns/op',
        timings.repeated.median,
        timings.repeatedBaseline.median,
        undefined,
        'too large for the memo, so the ratio should match the distinct case (both sides gain from warm CPU caches)',
      ),
      row(
        NAME,
        '2 small args (memo hit)',
        'ns/op',
        timings.small.median,
        timings.smallBaseline.median,
        undefined,
        `canonical ${smallCanonical} chars, within the memo`,
      ),
    ];
  },
};
