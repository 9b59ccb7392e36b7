import { ReadBatcher } from '../../lib/redis/read-batcher';

/**
 * The batcher's own injected dependency (no Redis involved): records each batch of keys and lets the test
 * decide when and how it answers.
 */
function controlledFetch<T>() {
  const calls: { keys: string[]; resolve(results: (T | Error)[]): void; reject(error: unknown): void }[] = [];
  const fetch = (keys: string[]): Promise<(T | Error)[]> =>
    new Promise((resolve, reject) => {
      calls.push({ keys, resolve, reject });
    });
  return { calls, fetch };
}

/** Lets the batcher's `process.nextTick` flush run. */
const nextTick = (): Promise<void> => new Promise((resolve) => process.nextTick(resolve));

/** Settles with the outcome, so that several rejections can be compared at once. */
function outcome<T>(promise: Promise<T>): Promise<{ value: T } | { error: unknown }> {
  return promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
}

/**
 * A batcher with one read already on the wire (fetch call 0), so that the reads a test makes next are
 * batched, as they are under load. `primed` resolves with that first read's value.
 */
function primedBatcher<T>() {
  const { calls, fetch } = controlledFetch<T>();
  const batcher = new ReadBatcher(fetch);
  const primed = batcher.read('primer');
  return { calls, batcher, primed };
}

describe('ReadBatcher', () => {
  it('sends a read at once when no other read is on the wire', () => {
    const { calls, fetch } = controlledFetch<string>();
    const batcher = new ReadBatcher(fetch);
    void batcher.read('a');
    expect(calls.map((c) => c.keys)).toEqual([['a']]);
  });

  it('sends the reads issued while one is on the wire as one fetch at the end of the tick, in order of first read', async () => {
    const { calls, batcher } = primedBatcher<string>();
    const reads = ['a', 'b', 'c'].map((k) => batcher.read(k));
    expect(calls).toHaveLength(1); // only the primer before the tick ends
    await nextTick();
    expect(calls.map((c) => c.keys)).toEqual([['primer'], ['a', 'b', 'c']]);
    calls[1]?.resolve(['A', 'B', 'C']);
    await expect(Promise.all(reads)).resolves.toEqual(['A', 'B', 'C']);
  });

  it('sends at once again after every read on the wire has settled', async () => {
    const { calls, batcher, primed } = primedBatcher<string>();
    calls[0]?.resolve(['P']);
    await primed;
    void batcher.read('a');
    expect(calls.map((c) => c.keys)).toEqual([['primer'], ['a']]);
  });

  it('sends reads issued in later ticks as later fetches', async () => {
    const { calls, fetch } = controlledFetch<string>();
    const batcher = new ReadBatcher(fetch);
    const first = batcher.read('a');
    await nextTick();
    const second = batcher.read('b');
    await nextTick();
    expect(calls.map((c) => c.keys)).toEqual([['a'], ['b']]);
    calls[0]?.resolve(['A']);
    calls[1]?.resolve(['B']);
    await expect(Promise.all([first, second])).resolves.toEqual(['A', 'B']);
  });

  it('gives duplicate reads in one tick one slot and one promise', async () => {
    const { calls, batcher } = primedBatcher<string>();
    const first = batcher.read('a');
    const other = batcher.read('b');
    const again = batcher.read('a');
    expect(again).toBe(first);
    await nextTick();
    expect(calls.map((c) => c.keys)).toEqual([['primer'], ['a', 'b']]);
    calls[1]?.resolve(['A', 'B']);
    await expect(Promise.all([first, other, again])).resolves.toEqual(['A', 'B', 'A']);
  });

  it('stops sharing a key’s pending read after forget(), so a read after a write goes to the server', async () => {
    const { calls, fetch } = controlledFetch<string>();
    const batcher = new ReadBatcher(fetch);
    const before = batcher.read('a');
    batcher.forget('a');
    const after = batcher.read('a');
    expect(after).not.toBe(before);
    await nextTick();
    expect(calls.map((c) => c.keys)).toEqual([['a'], ['a']]);
    calls[0]?.resolve(['old']);
    calls[1]?.resolve(['new']);
    await expect(Promise.all([before, after])).resolves.toEqual(['old', 'new']);
  });

  it('lets a read of a key already in flight share that promise without a new fetch', async () => {
    const { calls, fetch } = controlledFetch<string>();
    const batcher = new ReadBatcher(fetch);
    const first = batcher.read('a');
    await nextTick();
    const shared = batcher.read('a');
    const fresh = batcher.read('b');
    expect(shared).toBe(first);
    await nextTick();
    expect(calls.map((c) => c.keys)).toEqual([['a'], ['b']]);
    calls[0]?.resolve(['A']);
    calls[1]?.resolve(['B']);
    await expect(Promise.all([first, shared, fresh])).resolves.toEqual(['A', 'A', 'B']);
  });

  it('rejects only the reader of a key whose slot holds an Error', async () => {
    const { calls, batcher } = primedBatcher<string>();
    const reads = ['a', 'b', 'c'].map((k) => outcome(batcher.read(k)));
    await nextTick();
    const broken = new Error('cannot decode b');
    calls[1]?.resolve(['A', broken, 'C']);
    await expect(Promise.all(reads)).resolves.toEqual([{ value: 'A' }, { error: broken }, { value: 'C' }]);
  });

  it('rejects every reader of the batch when the fetch rejects', async () => {
    const { calls, batcher } = primedBatcher<string>();
    const reads = ['a', 'b', 'a'].map((k) => outcome(batcher.read(k)));
    await nextTick();
    const down = new Error('connection lost');
    calls[1]?.reject(down);
    await expect(Promise.all(reads)).resolves.toEqual([{ error: down }, { error: down }, { error: down }]);
  });

  it('rejects every reader of the batch when the fetch throws synchronously', async () => {
    const thrown = new Error('thrown before any promise');
    const batcher = new ReadBatcher<string>(() => {
      throw thrown;
    });
    const reads = ['a', 'b'].map((k) => outcome(batcher.read(k)));
    await expect(Promise.all(reads)).resolves.toEqual([{ error: thrown }, { error: thrown }]);
  });

  it('does not reject readers of other batches when one batch fails', async () => {
    const { calls, fetch } = controlledFetch<string>();
    const batcher = new ReadBatcher(fetch);
    const failing = outcome(batcher.read('a'));
    await nextTick();
    const passing = batcher.read('b');
    await nextTick();
    calls[0]?.reject(new Error('first batch failed'));
    calls[1]?.resolve(['B']);
    await expect(failing).resolves.toMatchObject({ error: expect.any(Error) });
    await expect(passing).resolves.toBe('B');
  });

  it('empties its in-flight table once a batch has settled, so the next read fetches again', async () => {
    const { calls, fetch } = controlledFetch<string>();
    const batcher = new ReadBatcher(fetch);
    const first = batcher.read('a');
    await nextTick();
    calls[0]?.resolve(['old']);
    await expect(first).resolves.toBe('old');

    const second = batcher.read('a');
    expect(second).not.toBe(first);
    await nextTick();
    expect(calls.map((c) => c.keys)).toEqual([['a'], ['a']]);
    calls[1]?.resolve(['new']);
    await expect(second).resolves.toBe('new');
  });

  it('empties its in-flight table after a failed batch too, so the next read retries', async () => {
    const { calls, fetch } = controlledFetch<string>();
    const batcher = new ReadBatcher(fetch);
    const failed = outcome(batcher.read('a'));
    await nextTick();
    calls[0]?.reject(new Error('timeout'));
    await failed;

    const retried = batcher.read('a');
    await nextTick();
    expect(calls).toHaveLength(2);
    calls[1]?.resolve(['A']);
    await expect(retried).resolves.toBe('A');
  });

  it('resolves an absent entry as undefined, distinct from an Error slot', async () => {
    const { calls, batcher } = primedBatcher<string | undefined>();
    const reads = ['missing', 'present'].map((k) => batcher.read(k));
    await nextTick();
    calls[1]?.resolve([undefined, 'P']);
    await expect(Promise.all(reads)).resolves.toEqual([undefined, 'P']);
  });
});

describe('ReadBatcher limits', () => {
  function limitedBatcher(sizes: Record<string, number>, maxKeys = 3, maxBytes = 100) {
    const { calls, fetch } = controlledFetch<string>();
    const batcher = new ReadBatcher(fetch, { maxKeys, maxBytes, sizeOf: (key) => sizes[key] });
    const primed = batcher.read('primer');
    return { calls, batcher, primed };
  }

  it('splits the reads of one tick into batches of at most maxKeys, in order', async () => {
    const { calls, batcher } = limitedBatcher({});
    const reads = ['a', 'b', 'c', 'd', 'e', 'f', 'g'].map((k) => batcher.read(k));
    await nextTick();
    expect(calls.map((c) => c.keys)).toEqual([['primer'], ['a', 'b', 'c'], ['d', 'e', 'f'], ['g']]);
    calls[1]?.resolve(['A', 'B', 'C']);
    calls[2]?.resolve(['D', 'E', 'F']);
    calls[3]?.resolve(['G']);
    await expect(Promise.all(reads)).resolves.toEqual(['A', 'B', 'C', 'D', 'E', 'F', 'G']);
  });

  it('never puts more known-large bytes than maxBytes in one batch; a value larger than that goes alone', async () => {
    const { calls, batcher } = limitedBatcher({ big1: 60, big2: 60, huge: 500, small: 10 }, 10, 100);
    for (const key of ['big1', 'big2', 'small', 'huge', 'x']) void batcher.read(key);
    await nextTick();
    expect(calls.map((c) => c.keys)).toEqual([['primer'], ['big1'], ['big2', 'small'], ['huge'], ['x']]);
  });

  it('answers each batch on its own: an early batch does not wait for a later one', async () => {
    const { calls, batcher } = limitedBatcher({}, 1);
    const first = batcher.read('a');
    const second = batcher.read('b');
    await nextTick();
    calls[1]?.resolve(['A']);
    await expect(first).resolves.toBe('A');
    let secondSettled = false;
    void second.then(() => (secondSettled = true));
    await nextTick();
    expect(secondSettled).toBe(false);
  });
});
