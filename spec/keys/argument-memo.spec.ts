import { ArgumentMemo } from '../../lib/keys/argument-memo';

describe('ArgumentMemo', () => {
  it('finds the key remembered for equal arguments', () => {
    const memo = new ArgumentMemo();
    memo.set(['q', { lang: 'en', n: 1.5, ok: true, none: null, list: [1, 'x'] }], 'k');
    expect(memo.get(['q', { lang: 'en', n: 1.5, ok: true, none: null, list: [1, 'x'] }])).toBe('k');
  });

  it.each([
    ['1 and "1"', [1], ['1']],
    ['true and "true"', [true], ['true']],
    ['null and "null"', [null], ['null']],
    ['an array and its spread', [['a', 'b']], ['a', 'b']],
    ['an object and an array', [{ a: 'b' }], [['a', 'b']]],
    ['a prefix', ['a'], ['a', 'b']],
    ['nesting', [[1], 2], [[1, 2]]],
    ['an extra property', [{ a: 1 }], [{ a: 1, b: 2 }]],
    ['a key and a value swapped', [{ a: 'b' }], [{ b: 'a' }]],
  ])('tells %s apart', (_name, remembered, asked) => {
    const memo = new ArgumentMemo();
    memo.set(remembered, 'k');
    expect(memo.get(asked)).toBeUndefined();
  });

  it.each([
    ['-0', [-0]],
    ['NaN', [NaN]],
    ['undefined', [undefined]],
    ['a Date', [new Date(0)]],
    ['a class instance', [new (class A {})()]],
    ['a long string', ['x'.repeat(300)]],
    ['deep nesting', [[[[[[[[[[1]]]]]]]]]]],
    ['many values', [Array.from({ length: 100 }, (_, i) => i)]],
  ])('does not remember %s (the full encoder handles it)', (_name, value) => {
    const memo = new ArgumentMemo();
    memo.set(value, 'k');
    expect(memo.size).toBe(0);
    expect(memo.get(value)).toBeUndefined();
  });

  it('never answers for 0 when -0 is asked, since a Map treats them as one', () => {
    const memo = new ArgumentMemo();
    memo.set([0], 'zero');
    expect(memo.get([-0])).toBeUndefined();
  });

  it('is unaffected when the caller mutates the arguments afterwards', () => {
    const memo = new ArgumentMemo();
    const args = ['a', { x: 1 }] as [string, { x: number }];
    memo.set(args, 'key-a');
    args[1].x = 2;
    expect(memo.get(args)).toBeUndefined();
    expect(memo.get(['a', { x: 1 }])).toBe('key-a');
  });

  it('stays bounded', () => {
    const memo = new ArgumentMemo();
    for (let i = 0; i < 5_000; i++) memo.set([i], `k${i}`);
    expect(memo.size).toBeLessThanOrEqual(2_048);
    expect(memo.get([4_999])).toBe('k4999');
  });
});
