import { Cache, Cached } from '../../lib/index';
import type { Embedder } from '../../lib/semantic/embedder';
import { compareNsPerOp } from '../support/measure';
import { row, type BenchContext, type Result, type Scenario } from '../support/scenario';

const NAME = 'semantic-lookup';
const DIMENSIONS = 384;

/** A deterministic generator of unit vectors (xorshift), so runs compare. */
function unitVectors(count: number, dimensions: number, seed = 7): Float32Array[] {
  let state = seed;
  const next = (): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return ((state >>> 0) / 0xffffffff) * 2 - 1;
  };
  return Array.from({ length: count }, () => {
    const vector = new Float32Array(dimensions);
    let sum = 0;
    for (let i = 0; i < dimensions; i++) sum += (vector[i] = next()) ** 2;
    const scale = 1 / Math.sqrt(sum);
    for (let i = 0; i < dimensions; i++) vector[i] = (vector[i] as number) * scale;
    return vector;
  });
}

/** `vector` moved a little (cosine ≈ 0.98 with it), normalised: a paraphrase as an embedder would place it. */
function nearby(vector: Float32Array, seed: number): Float32Array {
  const [noise] = unitVectors(1, vector.length, seed) as [Float32Array];
  const out = new Float32Array(vector.length);
  let sum = 0;
  for (let i = 0; i < out.length; i++) sum += (out[i] = (vector[i] as number) + 0.2 * (noise[i] as number)) ** 2;
  const scale = 1 / Math.sqrt(sum);
  for (let i = 0; i < out.length; i++) out[i] = (out[i] as number) * scale;
  return out;
}

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

/**
 * The semantic lookup through `@Cached({ semantic })` on a memory cache holding N questions (a flat scan of
 * normalised vectors, 384 dimensions), against an exact hit of the same method; and the flat scan alone at
 * 1k to 100k questions, with the memory its vectors take.
 */
export const semanticLookup: Scenario = {
  name: NAME,
  measures: 'a semantic hit through `@Cached({ semantic })` (embedder answered from a table) with N questions cached',
  baseline: 'an exact hit of the same method',
  async run(ctx: BenchContext): Promise<Result[]> {
    const results: Result[] = [];
    for (const size of [1_000, 5_000]) {
      const vectors = unitVectors(size, DIMENSIONS);
      const table = new Map<string, Float32Array>();
      vectors.forEach((vector, i) => table.set(`question ${i}`, vector));
      table.set('paraphrase of question 0', nearby(vectors[0] as Float32Array, 99));
      const cache = new Cache();
      const embed = new TableEmbedder(DIMENSIONS, table);
      class Support {
        calls = 0;
        @Cached({ cache, semantic: { embed, threshold: 0.9, guards: false } })
        async ask(question: string): Promise<string> {
          this.calls++;
          return `answer to ${question}`;
        }
      }
      const support = new Support();
      for (let i = 0; i < size; i++) await support.ask(`question ${i}`);
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
      results.push(
        row(
          NAME,
          `semantic hit, ${size.toLocaleString('en-US')} questions, ${DIMENSIONS} dims`,
          'µs',
          timings.semantic.median / 1000,
          timings.exact.median / 1000,
          undefined,
          'flat scan of every question in the partition, then the matched entry read',
        ),
      );
    }
    for (const dimensions of [384, 1536]) {
      for (const size of [1_000, 10_000, 100_000]) {
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
    return results;
  },
};
