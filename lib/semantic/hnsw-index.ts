import type { HnswGraph, Hnswlib } from './hnswlib';
import { dot, keepNearest, scanInto, type IndexedVector, type Neighbour, type VectorIndex } from './vector-index';

/** How the graph is built and searched; the defaults are the settings measured in docs/semantic.md. */
export interface HnswSettings {
  /** Below this many records the graph is not built (and one built is dropped below half of it): a flat scan. */
  readonly minSize: number;
  /** Links per node (hnswlib's `M`). */
  readonly m: number;
  /** Breadth of the search while a record is inserted. */
  readonly efConstruction: number;
  /** Breadth of a lookup's search (at least the number of neighbours asked). */
  readonly efSearch: number;
}

export const DEFAULT_HNSW: HnswSettings = { minSize: 0, m: 16, efConstruction: 100, efSearch: 64 };

/** Records inserted into the graph per event-loop turn: a bulk build never blocks the process for long. */
const BATCH = 64;
/** The graph's first capacity; it doubles when full and is rebuilt smaller when a quarter is used. */
const MIN_CAPACITY = 1024;

/**
 * An approximate index over hnswlib's HNSW graph (inner product of normalised vectors). Records are kept
 * here too: the graph proposes neighbours and each one's similarity is the exact dot product with its own
 * vector. A new record waits in `pending` (scanned exactly by lookups) until a turn of the event loop
 * inserts it, 64 per turn, so that building the graph of a large partition never blocks the process.
 * A removed record is marked deleted in the graph and its slot is reused by the next insert; the graph
 * is rebuilt when a quarter of its capacity is in use, and dropped below half of `minSize`.
 */
export class HnswIndex<R extends IndexedVector> implements VectorIndex<R> {
  readonly #records = new Map<string, R>();
  /** Records not in the graph yet. */
  readonly #pending = new Set<string>();
  /** Records whose length differs from the graph's: scanned exactly, always. */
  readonly #outside = new Set<string>();
  readonly #labels = new Map<string, number>();
  readonly #keys = new Map<number, string>();
  #graph: HnswGraph | undefined;
  #dimensions = 0;
  #deleted = 0;
  #nextLabel = 0;
  #scheduled = false;

  constructor(
    private readonly lib: Hnswlib,
    private readonly settings: HnswSettings = DEFAULT_HNSW,
  ) {}

  get size(): number {
    return this.#records.size;
  }

  /** How many records the graph holds (the others are scanned exactly). */
  get indexed(): number {
    return this.#labels.size;
  }

  /** Slots of the graph (0 without one): bounded by the most records held at once, at least 1,024. */
  get capacity(): number {
    return this.#graph?.getMaxElements() ?? 0;
  }

  has(key: string): boolean {
    return this.#records.has(key);
  }

  records(): IterableIterator<R> {
    return this.#records.values();
  }

  add(record: R): void {
    if (this.#records.has(record.key)) this.#unlink(record.key);
    this.#records.set(record.key, record);
    this.#pending.add(record.key);
    this.#schedule();
  }

  remove(key: string): void {
    if (!this.#records.delete(key)) return;
    this.#unlink(key);
    const graph = this.#graph;
    if (graph === undefined) return;
    if (this.#records.size < this.settings.minSize / 2) this.#reset();
    else if (graph.getMaxElements() > MIN_CAPACITY && this.#records.size < graph.getMaxElements() / 4) {
      this.#reset();
      this.#schedule();
    }
  }

  nearest(query: Float32Array, count: number, accept: (record: R) => boolean): Neighbour<R>[] {
    const best: Neighbour<R>[] = [];
    const graph = this.#graph;
    if (graph !== undefined && this.#labels.size > 0 && query.length === this.#dimensions) {
      // Twice the neighbours asked: `accept` may refuse some (expired questions).
      const k = Math.min(this.#labels.size, Math.max(2 * count, 16));
      graph.setEf(Math.max(this.settings.efSearch, k));
      const { neighbors } = graph.searchKnn(Array.from(query), k);
      for (const label of neighbors) {
        const record = this.#records.get(this.#keys.get(label) as string);
        if (record === undefined || !accept(record)) continue;
        keepNearest(best, { record, similarity: dot(query, record.vector) }, count);
      }
    }
    scanInto(best, this.#exact(this.#pending), query, count, accept);
    scanInto(best, this.#exact(this.#outside), query, count, accept);
    return best;
  }

  /** Inserts every pending record now (tests, and a bench that measures the built graph). */
  flush(): void {
    while (this.#insertSome(Infinity));
  }

  *#exact(keys: Set<string>): Generator<R> {
    for (const key of [...keys]) {
      const record = this.#records.get(key);
      if (record !== undefined) yield record;
    }
  }

  #schedule(): void {
    if (this.#scheduled || this.#pending.size === 0 || this.#records.size < this.settings.minSize) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      if (this.#insertSome(BATCH)) this.#schedule();
    }).unref();
  }

  /** Inserts up to `limit` pending records into the graph (made when missing); true if some are left. */
  #insertSome(limit: number): boolean {
    if (this.#pending.size === 0 || this.#records.size < this.settings.minSize) return false;
    let graph = this.#graph;
    let done = 0;
    for (const key of this.#pending) {
      if (done++ >= limit) return true;
      this.#pending.delete(key);
      const record = this.#records.get(key) as R;
      graph ??= this.#create(record.vector.length);
      if (record.vector.length !== this.#dimensions) {
        this.#outside.add(key);
        continue;
      }
      const label = this.#nextLabel++;
      if (this.#deleted > 0) {
        graph.addPoint(Array.from(record.vector), label, true);
        this.#deleted--;
      } else {
        if (graph.getCurrentCount() >= graph.getMaxElements()) graph.resizeIndex(2 * graph.getMaxElements());
        graph.addPoint(Array.from(record.vector), label);
      }
      this.#labels.set(key, label);
      this.#keys.set(label, key);
    }
    return false;
  }

  #create(dimensions: number): HnswGraph {
    const { m, efConstruction } = this.settings;
    const graph = new this.lib.HierarchicalNSW('ip', dimensions);
    let capacity = MIN_CAPACITY;
    while (capacity < this.#records.size) capacity *= 2;
    graph.initIndex({ maxElements: capacity, m, efConstruction, randomSeed: 100, allowReplaceDeleted: true });
    this.#graph = graph;
    this.#dimensions = dimensions;
    return graph;
  }

  /** Takes `key` out of the graph (marked deleted: its slot is reused) and out of the exact sets. */
  #unlink(key: string): void {
    this.#pending.delete(key);
    this.#outside.delete(key);
    const label = this.#labels.get(key);
    if (label === undefined) return;
    this.#graph?.markDelete(label);
    this.#deleted++;
    this.#labels.delete(key);
    this.#keys.delete(label);
  }

  /** Drops the graph (the garbage collector frees its memory); every record waits to be inserted again. */
  #reset(): void {
    this.#graph = undefined;
    this.#labels.clear();
    this.#keys.clear();
    this.#outside.clear();
    this.#deleted = 0;
    this.#nextLabel = 0;
    for (const key of this.#records.keys()) this.#pending.add(key);
  }
}
