import { Cache, Cached } from '../../lib';
import { setHnswlibLoader, type HnswGraph, type Hnswlib } from '../../lib/semantic/hnswlib';
import { OfflineEmbedder } from '../../lib/semantic/offline-embedder';

// `semantic.index`: the approximate HNSW index (hnswlib-node, a dev dependency here) behind `@Cached`, and
// the flat scan when it is missing. This suite runs twice: legacy and TC39 standard decorators.
// Similarities with OfflineEmbedder: "How do I reset my password?" vs "How can I reset my password?" 0.978,
// vs "How do I not reset my password?" 0.845 (the negation guard refuses it).

const embed = new OfflineEmbedder();
const THRESHOLD = 0.7;
const real = jest.requireActual<Hnswlib>('hnswlib-node');
/** Lets the graph take its waiting records (inserted a batch per event-loop turn). */
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function counting(cache: Cache, semantic: Record<string, unknown>) {
  const calls: string[] = [];
  class Support {
    @Cached({ cache, semantic: { embed, threshold: THRESHOLD, ...semantic } })
    async ask(question: string, product = 'acme'): Promise<string> {
      calls.push(question);
      return `answer to ${question} for ${product}`;
    }
  }
  return { support: new Support(), calls };
}

/** The real hnswlib-node, counting the searches its graphs answer. */
function countingLib(): { lib: Hnswlib; searches: () => number } {
  let searches = 0;
  class Counted extends (real.HierarchicalNSW as unknown as new (space: 'ip', dimensions: number) => HnswGraph) {
    override searchKnn(query: number[], count: number) {
      searches++;
      return super.searchKnn(query, count);
    }
  }
  return { lib: { HierarchicalNSW: Counted } as unknown as Hnswlib, searches: () => searches };
}

/** A graph that proposes every live label as a perfect match: only the exact re-check stands between it and a false hit. */
function lyingLib(): Hnswlib {
  class Lying {
    readonly #labels = new Set<number>();
    #max = 0;
    initIndex(options: { maxElements: number }) {
      this.#max = options.maxElements;
    }
    resizeIndex(max: number) {
      this.#max = max;
    }
    addPoint(_point: number[], label: number) {
      this.#labels.add(label);
    }
    markDelete(label: number) {
      this.#labels.delete(label);
    }
    searchKnn(_query: number[], count: number) {
      const neighbors = [...this.#labels].slice(0, count);
      return { neighbors, distances: neighbors.map(() => 0) };
    }
    getMaxElements() {
      return this.#max;
    }
    getCurrentCount() {
      return this.#labels.size;
    }
    setEf() {}
  }
  return { HierarchicalNSW: Lying } as unknown as Hnswlib;
}

describe("@Cached({ semantic: { index: 'hnsw' } })", () => {
  let cache: Cache;
  afterEach(async () => {
    setHnswlibLoader();
    await cache.close();
  });
  beforeEach(() => {
    cache = new Cache();
  });

  it('serves paraphrases from the graph, keeps partitions apart, and drops an invalidated question', async () => {
    const { lib, searches } = countingLib();
    setHnswlibLoader(() => lib);
    const { support, calls } = counting(cache, { index: 'hnsw' });
    await support.ask('How do I reset my password?');
    await support.ask('What is the capital of France?');
    await support.ask('How do I reset my password?', 'globex');
    await turn();
    await expect(support.ask('How can I reset my password?')).resolves.toBe(
      'answer to How do I reset my password? for acme',
    );
    await expect(support.ask('How can I reset my password?', 'globex')).resolves.toContain('for globex');
    expect(searches()).toBe(2);
    expect(calls).toHaveLength(3);
    expect(cache.stats().methods['default:Support.ask']).toMatchObject({ semanticHits: 2 });

    await cache.invalidate(support, 'ask', 'How do I reset my password?');
    await expect(support.ask('How can I reset my password?')).resolves.toBe(
      'answer to How can I reset my password? for acme',
    );
    expect(calls).toHaveLength(4);
  });

  it('keeps at most `maxEntries` questions: an evicted one leaves the graph', async () => {
    setHnswlibLoader(() => real);
    const { support, calls } = counting(cache, { index: 'hnsw', maxEntries: 1 });
    await support.ask('How do I reset my password?');
    await turn();
    await support.ask('What is the capital of France?');
    await turn();
    await support.ask('How can I reset my password?');
    expect(calls).toHaveLength(3);
  });

  it('can only lose hits: a graph proposing every question serves none that the similarity or guards refuse', async () => {
    setHnswlibLoader(lyingLib);
    const { support, calls } = counting(cache, { index: 'hnsw' });
    await support.ask('How do I not reset my password?');
    await support.ask('What is the capital of France?');
    await turn();
    // Proposed as perfect matches: the negation guard refuses the first, the exact similarity the second.
    await expect(support.ask('How do I reset my password?')).resolves.toBe(
      'answer to How do I reset my password? for acme',
    );
    expect(calls).toHaveLength(3);
    await turn();
    await expect(support.ask('How can I reset my password?')).resolves.toBe(
      'answer to How do I reset my password? for acme',
    );
    expect(calls).toHaveLength(3);
  });

  it('falls back to the flat scan when hnswlib-node is missing, with one process warning', async () => {
    const warnings = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      setHnswlibLoader(() => {
        throw Object.assign(new Error("Cannot find module 'hnswlib-node'"), { code: 'MODULE_NOT_FOUND' });
      });
      // Two caches: the two classes share the method's name, so one cache would give them the same keys.
      const other = new Cache();
      const first = counting(cache, { index: 'hnsw' });
      const second = counting(other, { index: 'auto' });
      for (const { support } of [first, second]) {
        await support.ask('How do I reset my password?');
        await support.ask('How do I reset my password?', 'globex');
        await expect(support.ask('How can I reset my password?')).resolves.toContain('How do I reset');
      }
      expect(first.calls).toHaveLength(2);
      expect(second.calls).toHaveLength(2);
      expect(warnings).toHaveBeenCalledTimes(1);
      expect(warnings.mock.calls[0]![1]).toMatchObject({ code: 'CACHET_HNSWLIB_MISSING' });
      await other.close();
    } finally {
      warnings.mockRestore();
    }
  });

  it('loads nothing for the default flat index, and refuses an unknown index with a TypeError', async () => {
    const loader = jest.fn(() => real);
    setHnswlibLoader(loader);
    const { support } = counting(cache, {});
    await support.ask('How do I reset my password?');
    await support.ask('How can I reset my password?');
    expect(loader).not.toHaveBeenCalled();
    expect(() => counting(cache, { index: 'ivf' })).toThrow(TypeError);
    expect(() => counting(cache, { index: 'ivf' })).toThrow(/semantic\.index.*'flat', 'hnsw', 'auto'/);
  });
});
