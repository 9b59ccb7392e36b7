import { Cache, Cached } from '../../lib/index';
import type { Embedder } from '../../lib/semantic/embedder';
import { annRows } from '../semantic/ann';
import { nearby, unitVectors } from '../semantic/vectors';
import { compareNsPerOp } from '../support/measure';
import { row, type BenchContext, type Result, type Scenario } from '../support/scenario';

const NAME = 'semantic-lookup';
const DIMENSIONS = 384;

/** An embedder that answers from a table: the bench measures the index, not a model. */
class TableEmbedder implements Embedder {
  readonly model = 'bench-table';
  constructor(
    readonly dimensions: number,
    private readonly table: Map<string, Float32Array>,
  ) {}
  async embed(texts: readonly string[]): Promise<Float32Array[]> {
    return texts.map((text) => {
      const vector = this.table.get(text);
      if (vector === undefined) throw new Error(`no vector for ${text}`);
      return vector;
    });
  }
}

/** A semantic hit through `@Cached({ semantic: { index } })` with `size` questions cached, beside an exact hit. */
async function semanticHit(ctx: BenchContext, size: number, index: 'flat' | 'hnsw'): Promise<Result> {
  const vectors = unitVectors(size, DIMENSIONS);
  const table = new Map<string, Float32Array>();
  vectors.forEach((vector, i) => table.set(`question ${i}`, vector));
  table.set('paraphrase of question 0', nearby(vectors[0] as Float32Array, 99));
  const cache = new Cache();
  const embed = new TableEmbedder(DIMENSIONS, table);
  class Support {
    calls = 0;
    @Cached({ cache, semantic: { embed, threshold: 0.9, guards: false, index } })
    async ask(question: string): Promise<string> {
      this.calls++;
      return `answer to ${question}`;
    }
  }
  const support = new Support();
  for (let i = 0; i < size; i++) {
    await support.ask(`question ${i}`);
    // A turn of the event loop now and then, as a server's I/O gives: the graph inserts what waits.
    if (i % 64 === 63) await new Promise((resolve) => setImmediate(resolve));
  }
  for (let turn = 0; turn < 2; turn++) await new Promise((resolve) => setImmediate(resolve));
  if ((await support.ask('paraphrase of question 0')) !== 'answer to question 0') {
    throw new Error(`${NAME}: the paraphrase did not hit its question`);
  }
  let sink: unknown;
  const timings = await compareNsPerOp(
    {
      semantic: async (n: number) => {
        // A miss of the exact key each time: the paraphrase's own exact entry is never written on a semantic hit.
        for (let i = 0; i < n; i++) sink = await support.ask('paraphrase of question 0');
      },
      exact: async (n: number) => {
        for (let i = 0; i < n; i++) sink = await support.ask('question 0');
      },
    },
    { warmupMs: ctx.ms(300), roundMs: ctx.ms(60), rounds: 9 },
  );
  if (sink !== 'answer to question 0' || support.calls !== size) {
    throw new Error(`${NAME}: expected hits only, got ${support.calls - size} extra calls`);
  }
  await cache.close();
  return row(
    NAME,
    `semantic hit (${index}), ${size.toLocaleString('en-US')} questions, ${DIMENSIONS} dims`,
    'µs',
    timings.semantic.median / 1000,
    timings.exact.median / 1000,
    undefined,
    index === 'flat'
      ? 'flat scan of every question in the partition, then the matched entry read'
      : 'HNSW graph (hnswlib-node), candidates re-checked exactly, then the matched entry read',
  );
}

/**
 * The semantic lookup through `@Cached({ semantic })` on a memory cache holding N questions (flat scan and
 * HNSW graph, 384 dimensions), against an exact hit of the same method; the flat scan alone at 1k to 100k
 * questions, with the memory its vectors take; and the flat scan against the HNSW index (`annRows`).
 */
export const semanticLookup: Scenario = {
  name: NAME,
  measures: 'a semantic hit through `@Cached({ semantic })` (embedder answered from a table) with N questions cached',
  baseline: 'an exact hit of the same method',
  async run(ctx: BenchContext): Promise<Result[]> {
    const results: Result[] = [];
    // The flat scan's fill costs a scan per question (quadratic): 5,000 at most.
    for (const size of [1_000, 5_000]) results.push(await semanticHit(ctx, size, 'flat'));
    for (const size of [1_000, 10_000]) results.push(await semanticHit(ctx, size, 'hnsw'));
    // The flat scan at the other sizes is the baseline of the HNSW rows (`annRows`); 100,000 × 1536 has none there.
    for (const dimensions of [1536]) {
      for (const size of [100_000]) {
        const vectors = unitVectors(size, dimensions, 11);
        // The vectors' payload (4 bytes a dimension); each Float32Array adds about 100 bytes of its own.
        const bytes = size * dimensions * 4;
        const [query] = unitVectors(1, dimensions, 5) as [Float32Array];
        let best = -2;
        const timings = await compareNsPerOp(
          {
            scan: async (n: number) => {
              for (let r = 0; r < n; r++) {
                best = -2;
                for (const vector of vectors) {
                  let dot = 0;
                  for (let i = 0; i < dimensions; i++) dot += (query[i] as number) * (vector[i] as number);
                  if (dot > best) best = dot;
                }
              }
            },
            one: async (n: number) => {
              for (let r = 0; r < n; r++) {
                let dot = 0;
                const vector = vectors[r % size] as Float32Array;
                for (let i = 0; i < dimensions; i++) dot += (query[i] as number) * (vector[i] as number);
                best = dot;
              }
            },
          },
          { warmupMs: ctx.ms(200), roundMs: ctx.ms(size >= 100_000 ? 400 : 60), rounds: 5 },
        );
        if (!(best > -2)) throw new Error(`${NAME}: the scan found nothing`);
        results.push(
          row(
            NAME,
            `flat scan, ${size.toLocaleString('en-US')} × ${dimensions} dims`,
            'µs',
            timings.scan.median / 1000,
            timings.one.median / 1000,
            undefined,
            `baseline: one dot product; vectors take ${(bytes / 1024 / 1024).toFixed(1)} MiB`,
          ),
        );
      }
    }
    results.push(...(await annRows(NAME, ctx)));
    return results;
  },
};
