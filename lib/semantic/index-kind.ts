import { DEFAULT_HNSW, HnswIndex } from './hnsw-index';
import { loadHnswlib } from './hnswlib';
import { FlatIndex, type IndexedVector, type VectorIndex } from './vector-index';

/**
 * How the semantic cache searches a partition: `flat`, an exact scan; `hnsw`, an approximate HNSW graph
 * (`hnswlib-node`, an optional peer dependency); `auto`, the flat scan until the partition holds
 * {@link AUTO_HNSW_SIZE} questions, the graph from then on.
 */
export type IndexKind = 'flat' | 'hnsw' | 'auto';

export const INDEX_KINDS: readonly IndexKind[] = ['flat', 'hnsw', 'auto'];

/**
 * Where `auto` builds the graph. Measured (docs/decisions.md): counting the insert each fill adds, the graph
 * is cheaper from between 100 and 250 questions; below 1,000 the flat scan costs at most about 0.7 ms at 384
 * dimensions and 2.4 ms at 1536, exactly, with no insert cost and no native memory.
 */
export const AUTO_HNSW_SIZE = 1_000;

/**
 * The index of one new partition. `hnsw` and `auto` load `hnswlib-node` on first use; without it (a
 * process warning, once) every partition is flat.
 */
export function createVectorIndex<R extends IndexedVector>(kind: IndexKind): VectorIndex<R> {
  if (kind === 'flat') return new FlatIndex();
  const lib = loadHnswlib();
  if (lib === undefined) return new FlatIndex();
  return new HnswIndex(lib, { ...DEFAULT_HNSW, minSize: kind === 'auto' ? AUTO_HNSW_SIZE : 0 });
}
