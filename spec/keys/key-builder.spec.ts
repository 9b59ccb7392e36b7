import { CacheKeyError } from '../../lib';
import { KeyBuilder } from '../../lib/keys/key-builder';

const builder = () => new KeyBuilder('cachet', 'default', 'Svc.m');
const keyOf = (...args: unknown[]) => builder().keyFor(undefined, args);

class Point {
  constructor(
    readonly x: number,
    readonly y: number,
  ) {}
}
class OtherPoint {
  constructor(
    readonly x: number,
    readonly y: number,
  ) {}
}

describe('KeyBuilder', () => {
  it('builds readable prefix + namespace + Class.method + a 256-bit base64url digest', () => {
    expect(keyOf('a')).toMatch(/^cachet:default:Svc\.m:[A-Za-z0-9_-]{43}$/);
  });

  it('gives the same key for objects with the same entries in any order', () => {
    expect(keyOf({ a: 1, b: { c: [1, 2], d: 'x' } })).toBe(keyOf({ b: { d: 'x', c: [1, 2] }, a: 1 }));
  });

  it('gives the same key in any key order when the arguments hold non-JSON values too', () => {
    expect(keyOf({ when: new Date(0), id: 1, tags: new Set(['a']) })).toBe(
      keyOf({ tags: new Set(['a']), id: 1, when: new Date(0) }),
    );
  });

  it('gives the same key for integer-like keys in any insertion order', () => {
    const a: Record<string, number> = {};
    a['10'] = 1;
    a['9'] = 2;
    a.x = 3;
    const b: Record<string, number> = { x: 3 };
    b['9'] = 2;
    b['10'] = 1;
    expect(keyOf(a)).toBe(keyOf(b));
  });

  it('keeps array order significant', () => {
    expect(keyOf([1, 2])).not.toBe(keyOf([2, 1]));
  });

  it.each([
    ['1 and "1"', [1], ['1']],
    ['null and undefined', [null], [undefined]],
    ['undefined property and missing property', [{ a: undefined }], [{}]],
    ['null property and missing property', [{ a: null }], [{}]],
    ['0 and -0', [0], [-0]],
    ['NaN and undefined', [NaN], [undefined]],
    ['NaN and "NaN"', [NaN], ['NaN']],
    ['1 and 1n', [1], [1n]],
    ['true and "t"', [true], ['t']],
    ['trailing undefined argument', ['a'], ['a', undefined]],
    ['string boundaries', ['ab', 'c'], ['a', 'bc']],
    ['nesting', [[1], 2], [[1, 2]]],
    ['Date and its timestamp', [new Date(5)], [5]],
    ['different Dates', [new Date(5)], [new Date(6)]],
    ['Map and plain object', [new Map([['a', 1]])], [{ a: 1 }]],
    ['Set and array', [new Set([1])], [[1]]],
    ['Buffer and Uint8Array with the same bytes', [Buffer.from([1, 2])], [new Uint8Array([1, 2])]],
    ['different bytes', [Buffer.from([1, 2])], [Buffer.from([1, 3])]],
    ['RegExp flags', [/a/g], [/a/i]],
    ['RegExp and its source', [/a/], ['a']],
    ['instances of different classes', [new Point(1, 2)], [new OtherPoint(1, 2)]],
    ['instance and plain object', [new Point(1, 2)], [{ x: 1, y: 2 }]],
    ['huge BigInts', [2n ** 70n], [2n ** 70n + 1n]],
    ['a key containing the encoding of another', [{ a: 's1:b' }], [{ a: 'b' }]],
    ['a string that looks like JSON', ['[1]'], [[1]]],
    [
      'a plain object and a null-prototype object with a Date',
      [{ a: 1 }],
      [Object.assign(Object.create(null), { a: new Date(1) })],
    ],
    [
      'deep JSON and the same depth with undefined',
      [[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]],
      [[[[[[[[[[[[[[[[[[undefined]]]]]]]]]]]]]]]]]],
    ],
  ])('keeps %s distinct', (_name, left, right) => {
    expect(keyOf(...left)).not.toBe(keyOf(...right));
  });

  it.each<[string, () => unknown[], (() => unknown[])?]>([
    ['Date', () => [new Date(1_700_000_000_000)]],
    [
      'Map in any insertion order',
      () => [
        new Map<unknown, unknown>([
          ['a', 1],
          [2, 'b'],
        ]),
      ],
      () => [
        new Map<unknown, unknown>([
          [2, 'b'],
          ['a', 1],
        ]),
      ],
    ],
    ['Set in any insertion order', () => [new Set([3, 1, 2])], () => [new Set([2, 3, 1])]],
    ['BigInt', () => [123n]],
    ['Buffer', () => [Buffer.from('hello')]],
    ['Float64Array', () => [new Float64Array([1.5, -0])]],
    ['RegExp', () => [/x+/gi]],
    ['class instance', () => [new Point(1, 2)]],
    ['NaN', () => [NaN]],
  ])('encodes %s by value', (_name, make, other = make) => {
    expect(keyOf(...make())).toBe(keyOf(...other()));
  });

  it.each([
    ['a function', [{ user: { callback: () => 1 } }], 'args[0].user.callback', 'function'],
    ['a symbol', ['x', [1, Symbol('s')]], 'args[1][1]', 'symbol'],
    ['a function inside a Map', [new Map([['k', () => 1]])], 'args[0].<map value 0>', 'function'],
  ])('raises a CacheKeyError naming the path of %s', (_name, args, path, found) => {
    const error = (() => {
      try {
        keyOf(...args);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(CacheKeyError);
    expect(error).toMatchObject({ path, found, method: 'Svc.m', code: 'ERR_CACHET_KEY' });
    expect((error as Error).message).toContain(`\`${path}\``);
  });

  it('raises a CacheKeyError for circular references', () => {
    const node: Record<string, unknown> = { name: 'root' };
    node.children = [{ parent: node }];
    expect(() => keyOf(node)).toThrow(
      expect.objectContaining({ path: 'args[0].children[0].parent', found: 'circular reference' }),
    );
  });

  it('accepts the same object twice when it is not circular', () => {
    const shared = { a: 1 };
    expect(() => keyOf({ x: shared, y: shared }, shared)).not.toThrow();
  });

  it('uses the key function, called with `this`, instead of the arguments', () => {
    const byModel = new KeyBuilder('cachet', 'default', 'Client.complete', function (
      this: { model: string },
      prompt: unknown,
    ) {
      return [this.model, prompt];
    });
    const a = byModel.keyFor({ model: 'a' }, ['hi', { requestId: 1 }]);
    expect(byModel.keyFor({ model: 'a' }, ['hi', { requestId: 2 }])).toBe(a);
    expect(byModel.keyFor({ model: 'b' }, ['hi', { requestId: 1 }])).not.toBe(a);
  });

  it('accepts unencodable arguments when a key function picks the encodable part', () => {
    const picky = new KeyBuilder('cachet', 'default', 'Svc.m', (req: { id: number }) => req.id);
    expect(() => picky.keyFor(undefined, [{ id: 1, onProgress: () => {} }])).not.toThrow();
  });

  it('reports a bad key function result with a key() path', () => {
    const bad = new KeyBuilder('cachet', 'default', 'Svc.m', () => ({ fn: () => 1 }));
    expect(() => bad.keyFor(undefined, [])).toThrow(expect.objectContaining({ path: 'key().fn' }));
  });

  it('includes the class, method and namespace in every key', () => {
    const args = ['same'];
    const keys = new Set([
      new KeyBuilder('cachet', 'default', 'A.m').keyFor(undefined, args),
      new KeyBuilder('cachet', 'default', 'B.m').keyFor(undefined, args),
      new KeyBuilder('cachet', 'other', 'A.m').keyFor(undefined, args),
      new KeyBuilder('app', 'default', 'A.m').keyFor(undefined, args),
    ]);
    expect(keys.size).toBe(4);
  });

  it('returns identical keys for repeated short arguments (memoised) and long ones (hashed each time)', () => {
    const b = builder();
    const long = 'x'.repeat(5_000);
    expect(b.keyFor(undefined, ['short'])).toBe(b.keyFor(undefined, ['short']));
    expect(b.keyFor(undefined, [long])).toBe(b.keyFor(undefined, [long]));
    expect(b.keyFor(undefined, [long])).not.toBe(b.keyFor(undefined, [long + 'y']));
  });

  it('derives the right key when the caller mutates an argument between calls', () => {
    const b = builder();
    const options = { lang: 'en' };
    const first = b.keyFor(undefined, ['q', options]);
    options.lang = 'zh';
    const second = b.keyFor(undefined, ['q', options]);
    expect(second).not.toBe(first);
    expect(second).toBe(builder().keyFor(undefined, ['q', { lang: 'zh' }]));
    expect(b.keyFor(undefined, ['q', { lang: 'en' }])).toBe(first);
  });

  it('keeps its memo bounded, so a stream of distinct arguments does not grow memory without limit', () => {
    const b = builder();
    const first = b.keyFor(undefined, [0]);
    for (let i = 1; i < 10_000; i++) b.keyFor(undefined, [i]);
    expect(b.memoSize).toBeLessThanOrEqual(2_048);
    expect(b.memoSize).toBeGreaterThan(0);
    // Still correct after eviction.
    expect(b.keyFor(undefined, [0])).toBe(first);
  });
});
