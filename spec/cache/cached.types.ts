// Compile-only: `npm run typecheck` checks this file under both decorator dialects. Each
// `@ts-expect-error` fails the build if the line it guards ever compiles.
import { Cache, Cached } from '../../lib';

interface Answer {
  readonly text: string;
}

export class Typed {
  @Cached({ ttl: '1m' })
  async answer(question: string, lang?: 'en' | 'zh'): Promise<Answer> {
    return { text: `${question}:${lang}` };
  }

  // @ts-expect-error @Cached only accepts methods that return a promise.
  @Cached()
  sync(): number {
    return 1;
  }
}

const typed = new Typed();
// The decorated method keeps its exact signature and return type.
export const answer: Promise<Answer> = typed.answer('q', 'en');
// @ts-expect-error argument types are unchanged by the decorator.
typed.answer(42);
// @ts-expect-error so are literal unions.
typed.answer('q', 'fr');

const wrapped = new Cache().wrap(async (id: number, full: boolean) => ({ id, full }), { name: 'load', ttl: '1m' });
export const loaded: Promise<{ id: number; full: boolean }> = wrapped(1, true);
// @ts-expect-error cache.wrap keeps the parameter list.
wrapped('1', true);
// @ts-expect-error options are checked against the function's result type.
new Cache().wrap(async (id: number) => id, { unless: (result: string) => result === '' });

export class Streaming {
  @Cached({ stream: true })
  async *chunks(prompt: string): AsyncGenerator<string> {
    yield prompt;
  }

  @Cached({ stream: { pace: 'recorded' } })
  async sdkStyle(prompt: string): Promise<AsyncIterable<string>> {
    return this.chunks(prompt);
  }

  // @ts-expect-error @Cached({ stream: true }) only accepts methods that return a stream.
  @Cached({ stream: true })
  async notAStream(): Promise<number> {
    return 1;
  }
}

const streamed = new Cache().wrap(
  async function* (prompt: string) {
    yield prompt.length;
  },
  { name: 'lengths', stream: true },
);
// cache.wrap with `stream` returns a CachedStream: iterable directly, and awaitable.
export const iterable: AsyncIterable<number> = streamed('q');
export const awaited: Promise<AsyncIterable<number>> = (async () => await streamed('q'))();
// @ts-expect-error `unless` of a stream receives the array of chunks.
new Cache().wrap(
  async function* () {
    yield 1;
  },
  { stream: true, unless: (chunk: number) => chunk === 0 },
);
