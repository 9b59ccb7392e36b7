import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { DEFAULT_HNSW, HnswIndex } from '../../lib/semantic/hnsw-index';
import { loadHnswlib } from '../../lib/semantic/hnswlib';
import { FlatIndex, type IndexedVector } from '../../lib/semantic/vector-index';
import { compareNsPerOp } from '../support/measure';
import { row, type BenchContext, type Result } from '../support/scenario';
import { clusteredVectors, nearby, unitVectors } from './vectors';

setFlagsFromString('--expose-gc');
/** A full collection, so that the resident memory measured is what the index keeps. */
const gc = runInNewContext('gc') as () => void;

function residentMiB(): number {
  gc();
  return process.memoryUsage().rss / 1024 / 1024;
}

const QUERIES = 200;
const all = (): boolean => true;

/**
 * The flat scan against the HNSW index (hnswlib-node, the settings `semantic.index: 'hnsw'` uses) on the
 * same records: lookup latency (8 nearest), build time per insert, the graph's resident memory beside the
 * vectors', and recall@1 against the exact scan on clustered vectors, for queries near a stored vector
 * (paraphrase-like, cosine ≈ 0.98) and farther (≈ 0.85), and on uniform random vectors.
 */
export async function annRows(name: string, ctx: BenchContext): Promise<Result[]> {
  const lib = loadHnswlib();
  if (lib === undefined) throw new Error(`${name}: hnswlib-node is not installed (a dev dependency: npm ci)`);
  const results: Result[] = [];
  // 100,000 × 1536 takes minutes to insert (about 1 ms each): 100,000 is measured at 384 dimensions.
  for (const [size, dimensions] of [
    [1_000, 1536],
    [10_000, 1536],
    [10_000, 384],
    [100_000, 384],
  ] as const) {
    const vectors = clusteredVectors(size, dimensions);
    const records: IndexedVector[] = vectors.map((vector, i) => ({ key: `q${i}`, vector }));
    const flat = new FlatIndex<IndexedVector>();
    for (const record of records) flat.add(record);
    const before = residentMiB();
    const hnsw = new HnswIndex<IndexedVector>(lib, DEFAULT_HNSW);
    const started = process.hrtime.bigint();
    for (const record of records) hnsw.add(record);
    hnsw.flush();
    const insertUs = Number(process.hrtime.bigint() - started) / size / 1000;
    const graphMiB = residentMiB() - before;
    const recall = (queries: Float32Array[], index = hnsw, exact = flat): number =>
      queries.filter((q) => index.nearest(q, 1, all)[0]?.record.key === exact.nearest(q, 1, all)[0]?.record.key)
        .length / queries.length;
    // Each recall query costs a flat scan: fewer at 100,000.
    const perSet = size >= 100_000 ? QUERIES / 4 : QUERIES;
    const near = Array.from({ length: perSet }, (_, i) => nearby(vectors[(i * 7919) % size]!, 1000 + i));
    const far = Array.from({ length: perSet }, (_, i) => nearby(vectors[(i * 7919) % size]!, 2000 + i, 0.6));
    let sink = 0;
    const timings = await compareNsPerOp(
      {
        hnsw: async (n: number) => {
          for (let i = 0; i < n; i++) sink += hnsw.nearest(far[i % perSet]!, 8, all).length;
        },
        flat: async (n: number) => {
          for (let i = 0; i < n; i++) sink += flat.nearest(far[i % perSet]!, 8, all).length;
        },
      },
      { warmupMs: ctx.ms(200), roundMs: ctx.ms(size >= 100_000 ? 300 : 60), rounds: 5 },
    );
    if (sink === 0) throw new Error(`${name}: the indexes found nothing`);
    const recallNear = recall(near);
    const recallFar = recall(far);
    let recallRandom = '';
    if (size <= 10_000) {
      // Uniform random vectors: no structure for the graph to follow, the hard case.
      const random = unitVectors(size, dimensions, 31).map((vector, i) => ({ key: `r${i}`, vector }));
      const randomFlat = new FlatIndex<IndexedVector>();
      const randomHnsw = new HnswIndex<IndexedVector>(lib, DEFAULT_HNSW);
      for (const record of random) {
        randomFlat.add(record);
        randomHnsw.add(record);
      }
      randomHnsw.flush();
      const queries = Array.from({ length: QUERIES }, (_, i) =>
        nearby(random[(i * 7919) % size]!.vector, 3000 + i, 0.6),
      );
      recallRandom = `, random vectors ${recall(queries, randomHnsw, randomFlat).toFixed(3)}`;
    }
    const vectorMiB = (size * dimensions * 4) / 1024 / 1024;
    // hnswlib's layout: its own copy of the vector, 2M base-layer links and a count, the label, a lock and a
    // label-map entry (about 230 bytes with M 16); upper layers add about 1/M of that. Resident memory is noisy.
    const layoutMiB = (size * (dimensions * 4 + 8 * DEFAULT_HNSW.m + 100)) / 1024 / 1024;
    results.push(
      row(
        name,
        `HNSW lookup (8 nearest), ${size.toLocaleString('en-US')} × ${dimensions} dims`,
        'µs',
        timings.hnsw.median / 1000,
        timings.flat.median / 1000,
        undefined,
        `baseline: the flat scan (FlatIndex, 8 nearest); recall@1 (${perSet} queries a set) clustered near ${recallNear.toFixed(3)}, far ${recallFar.toFixed(3)}` +
          `${recallRandom}; insert ${insertUs.toFixed(0)} µs each; graph ${graphMiB.toFixed(0)} MiB resident ` +
          `(about ${layoutMiB.toFixed(0)} MiB by hnswlib's layout) ` +
          `beside the vectors' ${vectorMiB.toFixed(1)} MiB (M ${DEFAULT_HNSW.m}, efConstruction ` +
          `${DEFAULT_HNSW.efConstruction}, efSearch ${DEFAULT_HNSW.efSearch})`,
      ),
    );
  }
  return results;
}
