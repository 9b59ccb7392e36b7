import { Cache, Cached } from '../../lib';
import { deferred, eventually } from '../support/async';

// This suite runs twice: under experimentalDecorators (legacy, as NestJS) and under TC39 standard decorators.

function assistantOn(cache: Cache) {
  class Assistant {
    calls: string[] = [];
    active = 0;
    mostActive = 0;
    gate: Promise<void> | undefined;

    @Cached({ cache, ttl: '1h', tags: (_answer: string, question: string) => [`q:${question.length}`] })
    async answer(question: string): Promise<string> {
      this.calls.push(question);
      this.active++;
      this.mostActive = Math.max(this.mostActive, this.active);
      try {
        if (this.gate !== undefined) await this.gate;
        if (question === 'boom') throw new Error('model failed');
        return `model answer to ${question}`;
      } finally {
        this.active--;
      }
    }
  }
  return new Assistant();
}

describe('warming', () => {
  it('fills entries from an FAQ list without calling the method, and skips what is cached', async () => {
    const cache = new Cache();
    const assistant = assistantOn(cache);
    await assistant.answer('refunds?');
    const progress: number[] = [];
    const result = await cache.warm(
      assistant,
      'answer',
      [
        { args: ['refunds?'], value: 'FAQ: 14 days' },
        { args: ['invoices?'], value: 'FAQ: under Settings' },
      ],
      { onProgress: (p) => progress.push(p.done) },
    );
    expect(result).toMatchObject({ total: 2, filled: 1, skipped: 1, failed: 0 });
    expect(progress).toEqual([1, 2]);
    expect(await assistant.answer('invoices?')).toBe('FAQ: under Settings');
    expect(await assistant.answer('refunds?')).toBe('model answer to refunds?');
    expect(assistant.calls).toEqual(['refunds?']);
    // Warmed entries carry the method's tags.
    expect(await cache.invalidateTags(['q:9'])).toBe(1);
    await cache.warm(assistant, 'answer', [{ args: ['refunds?'], value: 'FAQ: 14 days' }], { overwrite: true });
    expect(await assistant.answer('refunds?')).toBe('FAQ: 14 days');
  });

  it('calls the method only for the top N most frequent logged calls that are not cached, N at a time', async () => {
    const cache = new Cache();
    const assistant = assistantOn(cache);
    await assistant.answer('b');
    assistant.calls = [];
    const log = [
      ['a'],
      ['b'],
      ['a'],
      ['c'],
      ['b'],
      ['a'],
      ['d'],
      ['c'],
      ['e'],
      ['boom'],
      ['boom'],
      ['boom'],
      ['boom'],
    ] as [string][];
    const gate = deferred<void>();
    assistant.gate = gate.promise;
    const progress: string[] = [];
    const warming = cache.warmFromLog(assistant, 'answer', log, {
      top: 4,
      concurrency: 2,
      onProgress: (p) => progress.push(`${p.done}/${p.total}`),
    });
    await eventually(() => assistant.active === 2);
    gate.resolve();
    const result = await warming;
    // By frequency: boom 4, a 3, b 2, c 2 (b before c: it came first); b was cached already.
    expect(assistant.calls.sort()).toEqual(['a', 'boom', 'c']);
    expect(result).toMatchObject({ total: 4, filled: 2, skipped: 1, failed: 1 });
    expect(result.errors.map((e) => [e.args, (e.error as Error).message])).toEqual([[['boom'], 'model failed']]);
    expect(assistant.mostActive).toBe(2);
    expect(progress.at(-1)).toBe('4/4');
    assistant.calls = [];
    assistant.gate = undefined;
    await assistant.answer('a');
    await assistant.answer('c');
    expect(assistant.calls).toEqual([]);
  });

  it('goes on when the store fails: each entry fails on its own, and the log warm-up still calls the method', async () => {
    const down = new Error('store down');
    const fail = () => Promise.reject(down);
    const tags = { tag: fail, invalidate: fail, mark: fail, stamp: fail, stampedSince: fail };
    const broken = {
      name: 'broken',
      tags,
      get: () => Promise.reject(down),
      set: () => Promise.reject(down),
      delete: () => false,
      close: async () => {},
    };
    const cache = new Cache({ store: broken });
    const assistant = assistantOn(cache);
    const result = await cache.warm(assistant, 'answer', [{ args: ['a'], value: 'x' }]);
    expect(result).toMatchObject({ total: 1, failed: 1, filled: 0 });
    expect(result.errors[0]?.error).toBe(down);
    const fromLog = await cache.warmFromLog(assistant, 'answer', [['a']]);
    expect(fromLog).toMatchObject({ total: 1, filled: 1, failed: 0 });
    expect(assistant.calls).toEqual(['a']);
  });

  it('names a method it cannot warm', async () => {
    const cache = new Cache();
    const assistant = assistantOn(cache);
    await expect(cache.warm(assistant, 'constructor' as never, [])).rejects.toThrow(
      /Expected `method` to be the name of a @Cached method/,
    );
    await expect(cache.warmFromLog(assistant, 'answer', [], { top: 0 })).rejects.toThrow(
      /Expected `top` to be a positive integer/,
    );
  });
});
