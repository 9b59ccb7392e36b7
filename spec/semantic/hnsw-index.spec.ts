import { HnswIndex, DEFAULT_HNSW } from '../../lib/semantic/hnsw-index';
import { loadHnswlib, setHnswlibLoader, type Hnswlib } from '../../lib/semantic/hnswlib';
import { createVectorIndex } from '../../lib/semantic/index-kind';
import { dot, FlatIndex, type IndexedVector } from '../../lib/semantic/vector-index';

// The real hnswlib-node (a dev dependency), on vectors made here: deterministic, clustered, so that the
// nearest neighbour is meaningful and a query (a stored vector moved a little) has one clear answer.

interface Item extends IndexedVector {
  readonly label: string;
}

function generator(seed: number): () => number {
  let state = seed;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return ((state >>> 0) / 0xffffffff) * 2 - 1;
  };
}

function unit(values: number[]): Float32Array {
  const norm = Math.sqrt(values.reduce((sum, v) => sum + v * v, 0));
  return Float32Array.from(values, (v) => v / norm);
}

/** `count` vectors around `count / 20` centres, and queries: stored vectors moved a little. */
function clustered(count: number, dimensions: number, seed = 1): { items: Item[]; queries: Float32Array[] } {
  const next = generator(seed);
  const random = () => Array.from({ length: dimensions }, next);
  const centres = Array.from({ length: Math.max(1, count / 20) }, random);
  const items = Array.from({ length: count }, (_, i) => {
    const centre = centres[i % centres.length]!;
    const noise = random();
    return { key: `q${i}`, label: `q${i}`, vector: unit(centre.map((c, d) => c + 0.8 * noise[d]!)) };
  });
  const queries = Array.from({ length: 100 }, (_, i) => {
    const base = items[(i * 37) % count]!.vector;
    const noise = random();
    return unit(Array.from(base, (b, d) => b + 0.05 * noise[d]!));
  });
  return { items, queries };
}

const all = (): boolean => true;
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('HnswIndex (hnswlib-node)', () => {
  const lib = loadHnswlib()!;
  afterEach(() => setHnswlibLoader());

  it('answers as the flat scan on a fixed dataset, with exact similarities', () => {
    const { items, queries } = clustered(2_000, 48);
    const flat = new FlatIndex<Item>();
    const hnsw = new HnswIndex<Item>(lib, { ...DEFAULT_HNSW, efSearch: 200 });
    for (const item of items) {
      flat.add(item);
      hnsw.add(item);
    }
    hnsw.flush();
    expect(hnsw.indexed).toBe(2_000);
    for (const query of queries) {
      const exact = flat.nearest(query, 8, all);
      const approximate = hnsw.nearest(query, 8, all);
      expect(approximate.map((n) => n.record.key)).toEqual(exact.map((n) => n.record.key));
      for (const { record, similarity } of approximate) expect(similarity).toBe(dot(query, record.vector));
    }
  });

  it('never returns a removed record, reuses its slot, and keeps the graph bounded under churn', () => {
    const { items, queries } = clustered(3_000, 16, 2);
    const hnsw = new HnswIndex<Item>(lib);
    // At most 1,000 held at once over 3,000 added: the graph stays at its first 1,024 slots.
    items.forEach((item, i) => {
      hnsw.add(item);
      hnsw.flush();
      if (i >= 1_000) hnsw.remove(items[i - 1_000]!.key);
    });
    expect(hnsw.size).toBe(1_000);
    expect(hnsw.indexed).toBe(1_000);
    expect(hnsw.capacity).toBe(1_024);
    const live = new Set(items.slice(2_000).map((item) => item.key));
    for (const query of queries) {
      for (const { record } of hnsw.nearest(query, 8, all)) expect(live.has(record.key)).toBe(true);
    }
  });

  it('rebuilds a graph a quarter used, smaller, and serves exactly meanwhile', async () => {
    const { items } = clustered(3_000, 16, 3);
    const hnsw = new HnswIndex<Item>(lib);
    for (const item of items) hnsw.add(item);
    hnsw.flush();
    expect(hnsw.capacity).toBe(4_096);
    for (const item of items.slice(0, 2_500)) hnsw.remove(item.key);
    expect(hnsw.capacity).toBe(0);
    // Not in a graph yet: found by the exact scan of what waits.
    const kept = items[2_900]!;
    expect(hnsw.nearest(kept.vector, 1, all)[0]!.record.key).toBe(kept.key);
    while (hnsw.indexed < hnsw.size) await turn();
    expect(hnsw.capacity).toBe(1_024);
    expect(hnsw.nearest(kept.vector, 1, all)[0]!.record.key).toBe(kept.key);
  });

  it('inserts new records a batch per event-loop turn, and lookups scan those waiting exactly', async () => {
    const { items } = clustered(200, 16, 4);
    const hnsw = new HnswIndex<Item>(lib);
    for (const item of items) hnsw.add(item);
    expect(hnsw.indexed).toBe(0);
    expect(hnsw.nearest(items[150]!.vector, 1, all)[0]!.record.key).toBe('q150');
    await turn();
    expect(hnsw.indexed).toBe(64);
    while (hnsw.indexed < 200) await turn();
    expect(hnsw.nearest(items[150]!.vector, 1, all)[0]!.record.key).toBe('q150');
  });

  it('with a least size (auto), scans flat below it, builds the graph at it, and drops it below half', () => {
    const { items } = clustered(100, 16, 5);
    const hnsw = new HnswIndex<Item>(lib, { ...DEFAULT_HNSW, minSize: 50 });
    for (const item of items.slice(0, 49)) hnsw.add(item);
    hnsw.flush();
    expect(hnsw.indexed).toBe(0);
    hnsw.add(items[49]!);
    hnsw.flush();
    expect(hnsw.indexed).toBe(50);
    for (const item of items.slice(0, 26)) hnsw.remove(item.key);
    expect(hnsw.capacity).toBe(0);
    expect(hnsw.nearest(items[40]!.vector, 1, all)[0]!.record.key).toBe('q40');
  });

  it('skips what `accept` refuses, and keeps records of another length outside the graph, scanned exactly', () => {
    const hnsw = new HnswIndex<Item>(lib);
    hnsw.add({ key: 'a', label: 'a', vector: unit([1, 0, 0]) });
    hnsw.add({ key: 'b', label: 'b', vector: unit([1, 0.1, 0]) });
    hnsw.add({ key: 'long', label: 'long', vector: unit([1, 0, 0, 0]) });
    hnsw.flush();
    expect(hnsw.indexed).toBe(2);
    expect(hnsw.nearest(unit([1, 0, 0]), 2, (r) => r.key !== 'a').map((n) => n.record.key)).toEqual(['b']);
    expect(hnsw.nearest(unit([1, 0, 0, 0]), 2, all).map((n) => n.record.key)).toEqual(['long']);
  });

  it('replaces the record of a key added again', () => {
    const hnsw = new HnswIndex<Item>(lib);
    hnsw.add({ key: 'a', label: 'old', vector: unit([1, 0]) });
    hnsw.flush();
    hnsw.add({ key: 'a', label: 'new', vector: unit([0, 1]) });
    hnsw.flush();
    expect(hnsw.size).toBe(1);
    const [found] = hnsw.nearest(unit([0, 1]), 2, all);
    expect(found).toMatchObject({ record: { label: 'new' }, similarity: 1 });
  });
});

describe('createVectorIndex', () => {
  let warnings: jest.SpyInstance;
  beforeEach(() => {
    warnings = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
  });
  afterEach(() => {
    warnings.mockRestore();
    setHnswlibLoader();
  });

  it('makes a flat index for `flat` without loading hnswlib-node', () => {
    const loader = jest.fn(() => jest.requireActual<Hnswlib>('hnswlib-node'));
    setHnswlibLoader(loader);
    expect(createVectorIndex('flat')).toBeInstanceOf(FlatIndex);
    expect(loader).not.toHaveBeenCalled();
  });

  it('loads hnswlib-node once for `hnsw` and `auto`', () => {
    const loader = jest.fn(() => jest.requireActual<Hnswlib>('hnswlib-node'));
    setHnswlibLoader(loader);
    expect(createVectorIndex('hnsw')).toBeInstanceOf(HnswIndex);
    expect(createVectorIndex('auto')).toBeInstanceOf(HnswIndex);
    expect(loader).toHaveBeenCalledTimes(1);
    expect(warnings).not.toHaveBeenCalled();
  });

  it('falls back to the flat scan when hnswlib-node cannot be loaded, warning once', () => {
    setHnswlibLoader(() => {
      throw Object.assign(new Error("Cannot find module 'hnswlib-node'"), { code: 'MODULE_NOT_FOUND' });
    });
    expect(createVectorIndex('hnsw')).toBeInstanceOf(FlatIndex);
    expect(createVectorIndex('auto')).toBeInstanceOf(FlatIndex);
    expect(warnings).toHaveBeenCalledTimes(1);
    expect(warnings.mock.calls[0]![0]).toMatch(
      /hnswlib-node could not be loaded .*Cannot find module.*npm install hnswlib-node/,
    );
    expect(warnings.mock.calls[0]![1]).toMatchObject({ code: 'CACHET_HNSWLIB_MISSING' });
  });
});
