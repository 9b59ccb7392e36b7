import {
  CODEC_VERSION,
  ValueDecodeError,
  ValueEncodeError,
  decodeValue,
  encodeValue,
  estimateSize,
  isValueDecodeError,
  isValueEncodeError,
  registerClass,
  assertEncodable,
} from '../../lib/codec/value-codec';

const roundTrip = <T>(value: T): T => decodeValue(encodeValue(value)) as T;

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to throw');
}

function encodeErrorOf(value: unknown): ValueEncodeError {
  const error = thrown(() => encodeValue(value));
  expect(error).toBeInstanceOf(ValueEncodeError);
  return error as ValueEncodeError;
}

function decodeErrorOf(text: unknown): ValueDecodeError {
  const error = thrown(() => decodeValue(text as string));
  expect(error).toBeInstanceOf(ValueDecodeError);
  return error as ValueDecodeError;
}

/** A Uint16Array over the middle of a larger buffer, to check that only the viewed bytes are stored. */
const viewInto = (bytes: number[]) =>
  new Uint16Array(new Uint8Array([9, 9, ...bytes, 9, 9]).buffer, 2, bytes.length / 2);

describe('encodeValue / decodeValue', () => {
  describe('round-trips exactly', () => {
    it.each<[string, unknown]>([
      ['a string', 'hello'],
      ['an empty string', ''],
      ['Unicode text (accents, CJK, emoji with modifiers, combining marks)', 'héllo 世界 👋🏽 e\u0301 \u0000 "quoted"'],
      ['lone surrogates (JSON.stringify escapes them, so they survive)', 'a\ud800b\udfffc'],
      ['integers and floats', [0, 1, -1, 3.14, Number.MAX_SAFE_INTEGER, Number.MIN_VALUE, -1e308]],
      ['NaN', NaN],
      ['Infinity', Infinity],
      ['-Infinity', -Infinity],
      ['-0', -0],
      ['-0, NaN and infinities nested in arrays and objects', { list: [-0, NaN, Infinity, -Infinity], n: { z: -0 } }],
      ['true', true],
      ['false', false],
      ['null', null],
      ['undefined at top level', undefined],
      ['nested plain structures', { a: [1, { b: ['x', null, { c: true }] }], d: {}, e: [] }],
      ['a Date', new Date('2024-02-29T12:34:56.789Z')],
      ['Dates nested in arrays', [new Date(0), new Date(-1)]],
      [
        'a Map with keys of many types',
        new Map<unknown, unknown>([
          ['s', 1],
          [2, 'two'],
          [{ o: 1 }, [1]],
          [NaN, null],
          [undefined, new Date(0)],
          [10n, new Set([1])],
        ]),
      ],
      ['an empty Map and Set', [new Map(), new Set()]],
      ['a Set of mixed values', new Set<unknown>([1, 'one', undefined, { a: 1 }, -0, 2n])],
      ['BigInt zero', 0n],
      ['a negative BigInt', -123456789n],
      ['a huge BigInt', 2n ** 300n + 7n],
      ['BigInts nested in objects and arrays', { tokens: 12n, list: [-(2n ** 70n)] }],
      ['a Buffer', Buffer.from('binary \x00\xff data', 'latin1')],
      ['an empty Buffer', Buffer.alloc(0)],
      ['a Uint8Array', new Uint8Array([0, 1, 255])],
      ['an Int8Array', new Int8Array([-128, 0, 127])],
      ['a Uint8ClampedArray', new Uint8ClampedArray([0, 128, 255])],
      ['an Int16Array', new Int16Array([-32768, 32767])],
      ['a Uint16Array', new Uint16Array([0, 65535])],
      ['an Int32Array', new Int32Array([-(2 ** 31), 2 ** 31 - 1])],
      ['a Uint32Array', new Uint32Array([0, 2 ** 32 - 1])],
      ['a Float32Array', new Float32Array([1.5, -0, NaN, Infinity])],
      ['a Float64Array', new Float64Array([Math.PI, -0, NaN, -Infinity])],
      ['a BigInt64Array', new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n])],
      ['a BigUint64Array', new BigUint64Array([0n, 2n ** 64n - 1n])],
      ['a DataView', new DataView(new Uint8Array([1, 2, 3]).buffer)],
      ['a typed array that views part of a larger buffer', viewInto([1, 2, 3, 4])],
      ['an ArrayBuffer', new Uint8Array([5, 6, 7]).buffer],
      ['a RegExp with flags', /^a+(?<name>b)\/\s$/gimsuy],
      ['an object that uses the reserved key', { '~': 'u', v: 1 }],
      ['an object that looks exactly like a tagged Date', { '~': 'D', v: 0 }],
      ['reserved keys nested in arrays and Maps', [{ '~': { '~': 'o' } }, new Map([['~', { '~': undefined }]])]],
      ['an LLM-style response', { id: 'r1', choices: [{ text: 'hi', logprobs: null }], usage: { total: 12 } }],
    ])('%s', (_name, value) => {
      const out = roundTrip(value);
      expect(out).toStrictEqual(value);
      if (typeof value === 'object' && value !== null) {
        expect(Object.getPrototypeOf(out)).toBe(Object.getPrototypeOf(value));
      } else {
        expect(out).toBe(value); // Object.is: tells -0 from 0 and bigint from number
      }
    });

    it('keeps an invalid Date as an invalid Date', () => {
      const out = roundTrip(new Date(NaN));
      expect(out).toBeInstanceOf(Date);
      expect(out.getTime()).toBeNaN();
    });

    it('keeps constructor and prototype keys as ordinary data', () => {
      // toStrictEqual reads the own `constructor` key as the class, so compare with toEqual and check the prototype.
      const value = { constructor: { prototype: { x: 1 } }, prototype: 'p' };
      const out = roundTrip(value);
      expect(out).toEqual(value);
      expect(Object.keys(out)).toEqual(['constructor', 'prototype']);
      expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    });

    it('keeps -0 as -0 (Object.is), at top level and nested', () => {
      expect(Object.is(roundTrip(-0), -0)).toBe(true);
      expect(Object.is(roundTrip({ a: [-0] }).a[0], -0)).toBe(true);
      expect(Object.is(roundTrip(0), 0)).toBe(true);
    });

    it('keeps an object key whose value is undefined', () => {
      const out = roundTrip({ a: undefined, b: { c: undefined } });
      expect('a' in out).toBe(true);
      expect('c' in out.b).toBe(true);
      expect(Object.keys(out)).toEqual(['a', 'b']);
    });

    it('keeps undefined entries in arrays and turns holes into undefined entries', () => {
      const out = roundTrip([undefined, 1, , 3]);
      expect(out).toHaveLength(4);
      expect(0 in out && 2 in out).toBe(true);
      expect(out).toStrictEqual([undefined, 1, undefined, 3]);
    });

    it('keeps Map and Set insertion order', () => {
      const map = roundTrip(
        new Map<unknown, number>([
          ['z', 1],
          [1, 2],
          ['a', 3],
        ]),
      );
      expect([...map.keys()]).toEqual(['z', 1, 'a']);
      expect([...roundTrip(new Set(['z', 'a', 'm']))]).toEqual(['z', 'a', 'm']);
    });

    it('decodes a Buffer as a Buffer and a Uint8Array as a plain Uint8Array', () => {
      expect(Buffer.isBuffer(roundTrip(Buffer.from('x')))).toBe(true);
      const bytes = roundTrip(new Uint8Array([1]));
      expect(Buffer.isBuffer(bytes)).toBe(false);
      expect(bytes.constructor).toBe(Uint8Array);
    });

    it('decodes each typed array as its own class over a buffer of exactly its size', () => {
      const out = roundTrip(viewInto([1, 0, 2, 0]));
      expect(out.constructor).toBe(Uint16Array);
      expect(out.byteOffset).toBe(0);
      expect(out.buffer.byteLength).toBe(4);
      expect(out).toStrictEqual(new Uint16Array(new Uint8Array([1, 0, 2, 0]).buffer));
    });

    it('keeps a RegExp source and flags but resets lastIndex', () => {
      const re = /a/g;
      re.lastIndex = 3;
      const out = roundTrip(re);
      expect([out.source, out.flags, out.lastIndex]).toEqual(['a', 'g', 0]);
    });
  });

  describe('documented losses', () => {
    it('duplicates shared references instead of failing on them', () => {
      const shared = { x: 1 };
      const out = roundTrip({ a: shared, b: [shared] });
      expect(out.a).toStrictEqual(shared);
      expect(out.b[0]).toStrictEqual(shared);
      expect(out.a).not.toBe(out.b[0]);
    });

    it('drops symbol-keyed properties', () => {
      const out = roundTrip({ [Symbol('s')]: 1, a: 2 });
      expect(Object.getOwnPropertySymbols(out)).toHaveLength(0);
      expect(out).toStrictEqual({ a: 2 });
    });

    it('gives a null-prototype object the ordinary Object prototype', () => {
      const out = roundTrip(Object.assign(Object.create(null) as object, { a: 1 }));
      expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
      expect(out).toEqual({ a: 1 });
    });

    it('takes a dictionary whose prototype is an empty null-prototype object (Fastify query and params) as data', () => {
      // How fast-querystring and find-my-way, under Fastify, make the query and path parameters objects.
      const NullObject = function () {} as unknown as new () => Record<string, unknown>;
      NullObject.prototype = Object.create(null) as Record<string, unknown>;
      const query = Object.assign(new NullObject(), { lang: 'en' });
      const out = roundTrip({ query });
      expect(Object.getPrototypeOf(out.query)).toBe(Object.prototype);
      expect(out).toEqual({ query: { lang: 'en' } });
      // A prototype with anything on it is a class's: still refused.
      const WithMethod = function () {} as unknown as new () => Record<string, unknown>;
      WithMethod.prototype = Object.assign(Object.create(null) as object, { greet: () => 'hi' });
      expect(() => encodeValue(new WithMethod())).toThrow(/registerClass/);
    });
  });

  describe('class instances', () => {
    it('refuses an instance of an unregistered class, naming the class, the path and the fix', () => {
      class Reply {
        constructor(readonly text: string) {}
      }
      const error = encodeErrorOf({ reply: new Reply('hi') });
      expect(error.path).toBe('value.reply');
      expect(error.message).toContain('Cannot encode an instance of Reply at `value.reply`');
      expect(error.message).toContain('registerClass(Reply)');
      expect(() => assertEncodable([new Reply('hi')])).toThrow(ValueEncodeError);
    });

    it('refuses an Error, which would come back as a plain object', () => {
      expect(encodeErrorOf(new RangeError('too far')).message).toContain('an instance of RangeError');
    });

    it('keeps an instance of a registered class as an instance, getters and methods included', () => {
      class Greeting {
        hidden = 1;
        constructor(readonly text: string) {
          Object.defineProperty(this, 'hidden', { enumerable: false });
        }
        get shout(): string {
          return this.text.toUpperCase();
        }
      }
      registerClass(Greeting, { name: 'spec.Greeting' });
      const out = roundTrip({ list: [new Greeting('hi')] });
      const greeting = out.list[0]!;
      expect(greeting).toBeInstanceOf(Greeting);
      expect(greeting.shout).toBe('HI');
      expect({ ...greeting }).toStrictEqual({ text: 'hi' });
    });

    it('keeps nested registered instances and special values inside them', () => {
      class Line {
        constructor(
          readonly at: Date,
          readonly amount: bigint,
        ) {}
      }
      class Invoice {
        constructor(
          readonly lines: Line[],
          readonly meta: Map<string, number>,
        ) {}
      }
      registerClass(Line, { name: 'spec.Line' });
      registerClass(Invoice, { name: 'spec.Invoice' });
      const out = roundTrip(new Invoice([new Line(new Date(5), 7n)], new Map([['n', -0]])));
      expect(out).toBeInstanceOf(Invoice);
      expect(out.lines[0]).toBeInstanceOf(Line);
      expect(out.lines[0]!.at).toEqual(new Date(5));
      expect(out.lines[0]!.amount).toBe(7n);
      expect(Object.is(out.meta.get('n'), -0)).toBe(true);
    });

    it('uses toData and fromData for state that is not in own properties', () => {
      class Money {
        readonly #cents: bigint;
        constructor(cents: bigint) {
          this.#cents = cents;
        }
        get cents(): bigint {
          return this.#cents;
        }
      }
      registerClass(Money, {
        name: 'spec.Money',
        toData: (m) => m.cents,
        fromData: (cents) => new Money(cents as bigint),
      });
      const out = roundTrip({ price: new Money(1999n) });
      expect(out.price).toBeInstanceOf(Money);
      expect(out.price.cents).toBe(1999n);
    });

    it('reports a class that this process has not registered as a decode error', () => {
      const text = '1:{"~":"C","c":"spec.NeverRegistered","v":{}}';
      expect(decodeErrorOf(text).message).toContain('no class is registered under that name');
    });

    it('never lets stored properties reach the prototype of a revived instance', () => {
      class Box {}
      registerClass(Box, { name: 'spec.Box' });
      const out = decodeValue('1:{"~":"C","c":"spec.Box","v":{"__proto__":{"polluted":true},"x":1}}') as Record<
        string,
        unknown
      >;
      expect(out).toBeInstanceOf(Box);
      expect(Object.getPrototypeOf(out)).toBe(Box.prototype);
      expect(Object.hasOwn(out, '__proto__')).toBe(true);
      expect(out.x).toBe(1);
    });

    it('refuses a name taken by another class, and a second name for one class', () => {
      class A {}
      class B {}
      registerClass(A, { name: 'spec.Taken' });
      registerClass(A, { name: 'spec.Taken' });
      expect(() => registerClass(B, { name: 'spec.Taken' })).toThrow(
        /no other registered class uses, got `spec.Taken`/,
      );
      expect(() => registerClass(A, { name: 'spec.Other' })).toThrow(/registered once/);
      expect(() => registerClass(A as never, { toData: () => 1 } as never)).toThrow(
        /Expected `toData and fromData` to be both given or both absent/,
      );
    });
  });

  describe('format', () => {
    it('starts every payload with the codec version and a colon', () => {
      expect(CODEC_VERSION).toBe(1);
      for (const value of ['x', 1, null, undefined, { a: 1 }, new Map()]) expect(encodeValue(value)).toMatch(/^1:/);
    });

    it('stores strings and plain objects of strings and numbers as plain JSON', () => {
      expect(encodeValue('hello "you"')).toBe('1:"hello \\"you\\""');
      const plain = { model: 'gpt', tokens: 42, nested: { ok: true, list: ['a', 1.5] } };
      expect(encodeValue(plain)).toBe(`1:${JSON.stringify(plain)}`);
    });

    it('escapes a plain object that owns the reserved key instead of reading it as a tag', () => {
      const text = encodeValue({ '~': 'u' });
      expect(text).toBe('1:{"~":"o","v":{"~":"u"}}');
      expect(decodeValue(text)).toStrictEqual({ '~': 'u' });
    });

    it('does not modify the value it encodes', () => {
      const value = { a: undefined, b: { at: new Date(0), list: [1n, 'x'] }, '~': 1 };
      encodeValue(value);
      expect(value).toStrictEqual({ a: undefined, b: { at: new Date(0), list: [1n, 'x'] }, '~': 1 });
    });
  });

  describe('encode errors', () => {
    it('rejects a function with a typed error that names its path', () => {
      const error = encodeErrorOf({ user: { callback: () => 1 } });
      expect(error).toBeInstanceOf(TypeError);
      expect(isValueEncodeError(error)).toBe(true);
      expect([error.name, error.code, error.path]).toEqual([
        'ValueEncodeError',
        'ERR_CACHET_VALUE_ENCODE',
        'value.user.callback',
      ]);
      expect(error.message).toBe(
        'Cannot encode a function at `value.user.callback`: cached values must be data ' +
          '(plain objects, arrays, primitives, Date, Map, Set, BigInt, Buffer, typed arrays, RegExp) ' +
          'or instances of classes registered with registerClass()',
      );
    });

    it.each<[string, unknown, string, string]>([
      ['a symbol in an array', { tags: ['a', Symbol('b')] }, 'value.tags[1]', 'a symbol'],
      ['a function at top level', () => 1, 'value', 'a function'],
      ['a key that is not an identifier', { 'a b': { 0: () => 1 } }, 'value["a b"]["0"]', 'a function'],
      ['a symbol as a Map key', new Map([[Symbol('k'), 1]]), 'value.keys()[0]', 'a symbol'],
      ['a function as a Set member', { s: new Set([1, () => 1]) }, 'value.s.values()[1]', 'a function'],
      ['a WeakMap', { cache: new WeakMap() }, 'value.cache', 'a WeakMap'],
      ['a WeakSet', [new WeakSet()], 'value[0]', 'a WeakSet'],
      ['a WeakRef', { ref: new WeakRef({}) }, 'value.ref', 'a WeakRef'],
      ['a Promise', { pending: Promise.resolve(1) }, 'value.pending', 'a Promise'],
      ['a boxed primitive', { s: Object('x') }, 'value.s', 'a boxed primitive'],
    ])('rejects %s with its path', (_name, value, path, what) => {
      const error = encodeErrorOf(value);
      expect(error.path).toBe(path);
      expect(error.message).toContain(`Cannot encode ${what} at \`${path}\``);
    });

    it('rejects a circular reference, naming where it occurs and what it points back to', () => {
      const root: { x: { y: unknown[] } } = { x: { y: [1] } };
      root.x.y.push(root.x);
      const error = encodeErrorOf(root);
      expect(error.path).toBe('value.x.y[1]');
      expect(error.message).toContain('circular reference at `value.x.y[1]`: it points back to `value.x`');
    });

    it('rejects an object that contains itself, directly or through a Map', () => {
      const self: Record<string, unknown> = {};
      self.self = self;
      expect(encodeErrorOf(self).path).toBe('value.self');
      const map = new Map<string, unknown>();
      map.set('me', map);
      expect(encodeErrorOf(map).path).toBe('value.values()[0]');
    });

    it('wraps an exception thrown by a getter, with the path of the object that holds it and the cause', () => {
      const boom = new Error('no');
      const error = encodeErrorOf({
        a: {
          get b() {
            throw boom;
          },
        },
      });
      expect(error.path).toBe('value.a');
      expect(error.message).toBe('Cannot encode a value at `value.a`: reading it or its contents threw Error: no');
      expect(error.cause).toBe(boom);
    });

    it('reports nesting deeper than the call stack as an encode error', () => {
      let deep: unknown = 1;
      for (let i = 0; i < 100_000; i++) deep = [deep];
      expect(encodeErrorOf(deep).cause).toBeInstanceOf(RangeError);
    });
  });

  describe('decode errors', () => {
    it.each<[string, unknown, string]>([
      ['a non-string', null, 'expected text starting with `1:`, got object'],
      ['text without a version marker', '{"a":1}', 'expected text starting with `1:`, got `"{\\"a\\":1}"` (string)'],
      ['another codec version', '2:{"a":1}', 'got codec version 2'],
      ['a version with more digits', '10:1', 'got codec version 10'],
      ['malformed JSON', '1:{"a":', 'expected JSON after `1:`'],
      ['an empty payload', '1:', 'expected JSON after `1:`'],
      ['an unknown tag', '1:{"~":"zz"}', 'expected a tag of u n b D M S R B A T o C, got `"zz"` (string)'],
      ['a tag that is not a string', '1:{"~":5}', 'got `5` (number)'],
      ['a bad special number', '1:{"~":"n","v":"1"}', 'tag `n` expects NaN, Infinity, -Infinity or -0'],
      ['a non-integer BigInt', '1:{"~":"b","v":"1.5"}', 'tag `b` expects an integer string, got `"1.5"` (string)'],
      ['a Date that is not a number', '1:{"~":"D","v":"2024"}', 'tag `D` expects a number or null'],
      ['a Map entry that is not a pair', '1:{"~":"M","v":[[1]]}', 'tag `M` expects an array of [key, value] pairs'],
      ['a Set that is not an array', '1:{"~":"S","v":{}}', 'tag `S` expects an array'],
      ['a RegExp without flags', '1:{"~":"R","v":["a"]}', 'tag `R` expects [source, flags]'],
      ['a Buffer that is not base64', '1:{"~":"B","v":"@@@@"}', 'tag `B` expects base64 text'],
      ['an ArrayBuffer that is not a string', '1:{"~":"A","v":1}', 'tag `A` expects base64 text'],
      ['an unknown typed array class', '1:{"~":"T","c":"Array","v":""}', 'expects a typed array class name'],
      ['a typed array class inherited from Object', '1:{"~":"T","c":"constructor","v":""}', 'class name'],
      ['a typed array with a partial element', '1:{"~":"T","c":"Int32Array","v":"AQID"}', 'a multiple of 4 bytes'],
      ['an escaped object that is an array', '1:{"~":"o","v":[]}', 'tag `o` expects an object'],
      ['a bad tag deep inside', '1:{"a":[{"b":{"~":"?"}}]}', 'got `"?"`'],
    ])('rejects %s with a ValueDecodeError', (_name, text, message) => {
      const error = decodeErrorOf(text);
      expect(isValueDecodeError(error)).toBe(true);
      expect([error.name, error.code]).toEqual(['ValueDecodeError', 'ERR_CACHET_VALUE_DECODE']);
      expect(error.message).toContain(message);
    });

    it('keeps the JSON parser error as the cause', () => {
      expect(decodeErrorOf('1:{').cause).toBeInstanceOf(SyntaxError);
    });

    it('keeps the RegExp error as the cause of an invalid pattern', () => {
      const error = decodeErrorOf('1:{"~":"R","v":["(",""]}');
      expect(error.message).toContain('tag `R` expects a valid [source, flags]');
      expect(error.cause).toBeInstanceOf(SyntaxError);
    });

    it('reports tagged nesting deeper than the call stack as a decode error', () => {
      const depth = 100_000;
      expect(decodeErrorOf(`1:${'['.repeat(depth)}{"~":"u"}${']'.repeat(depth)}`).cause).toBeInstanceOf(RangeError);
    });

    it('decodes deep plain nesting, which has no tags to revive, without walking it', () => {
      const depth = 100_000;
      let value = decodeValue(`1:${'['.repeat(depth)}1${']'.repeat(depth)}`);
      for (let i = 0; i < depth; i++) value = (value as unknown[])[0];
      expect(value).toBe(1);
    });
  });

  describe('prototype pollution', () => {
    afterEach(() => {
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(Object.prototype).not.toHaveProperty('polluted');
    });

    it('keeps a top-level __proto__ key as an own property', () => {
      const out = decodeValue('1:{"__proto__":{"polluted":true},"a":1}') as Record<string, unknown>;
      expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
      expect(Object.hasOwn(out, '__proto__')).toBe(true);
      expect(out.polluted).toBeUndefined();
    });

    it('never swaps a prototype when the value under __proto__ is revived', () => {
      const out = decodeValue('1:{"__proto__":{"~":"D","v":0},"n":{"__proto__":{"~":"u"}}}') as Record<string, any>;
      expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
      expect(Object.getOwnPropertyDescriptor(out, '__proto__')?.value).toStrictEqual(new Date(0));
      expect(Object.getPrototypeOf(out.n)).toBe(Object.prototype);
      expect(Object.hasOwn(out.n, '__proto__')).toBe(true);
    });

    it('keeps nested __proto__ keys, in arrays and escaped objects, as own properties', () => {
      const text = '1:[{"a":{"__proto__":{"polluted":1}}},{"~":"o","v":{"~":1,"__proto__":{"~":"S","v":[]}}}]';
      const [first, second] = decodeValue(text) as [Record<string, any>, Record<string, unknown>];
      expect(Object.getPrototypeOf(first.a)).toBe(Object.prototype);
      expect(first.a.polluted).toBeUndefined();
      expect(Object.getPrototypeOf(second)).toBe(Object.prototype);
      expect(Object.getOwnPropertyDescriptor(second, '__proto__')?.value).toStrictEqual(new Set());
    });

    it('keeps __proto__ inside a Map entry as data', () => {
      const out = decodeValue('1:{"~":"M","v":[["__proto__",{"__proto__":{"polluted":true}}]]}') as Map<string, object>;
      const entry = out.get('__proto__');
      expect(Object.getPrototypeOf(entry)).toBe(Object.prototype);
      expect(Object.hasOwn(entry as object, '__proto__')).toBe(true);
    });

    it('ignores enumerable properties that a polluted Object.prototype adds', () => {
      const proto = Object.prototype as Record<string, unknown>;
      proto.inherited = { '~': 'u' };
      let out: object;
      try {
        out = decodeValue('1:{"a":{"b":1}}') as object;
      } finally {
        delete proto.inherited;
      }
      expect(Object.keys(out)).toEqual(['a']);
      expect(Object.hasOwn(out, 'inherited')).toBe(false);
    });

    it('treats constructor and prototype keys as plain data', () => {
      const out = decodeValue('1:{"constructor":{"prototype":{"polluted":true}}}') as Record<string, any>;
      expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
      expect(out.constructor).toStrictEqual({ prototype: { polluted: true } });
    });

    it('round-trips a value that owns a __proto__ key beside values that need tags', () => {
      const value: Record<string, unknown> = { at: new Date(0) };
      const own = { value: { n: 1n }, enumerable: true, writable: true, configurable: true };
      Object.defineProperty(value, '__proto__', own);
      const out = roundTrip(value);
      expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
      expect(Object.getOwnPropertyDescriptor(out, '__proto__')?.value).toStrictEqual({ n: 1n });
      expect(out.at).toStrictEqual(new Date(0));
    });
  });
});

describe('estimateSize', () => {
  it('counts strings at 2 bytes per character and numbers at 8 bytes', () => {
    expect(estimateSize('abc')).toBe(6);
    expect(estimateSize(42)).toBe(8);
  });

  it('grows with the content of strings, objects, arrays, Maps, Sets and binary data', () => {
    expect(estimateSize('a'.repeat(1000))).toBeGreaterThan(estimateSize('a'.repeat(10)));
    expect(estimateSize({ a: 'x', b: 'y' })).toBeGreaterThan(estimateSize({ a: 'x' }));
    expect(estimateSize({ a: { b: 'x'.repeat(100) } })).toBeGreaterThan(estimateSize({ a: { b: 'x' } }));
    expect(estimateSize([1, 2, 3])).toBeGreaterThan(estimateSize([1]));
    expect(estimateSize(new Map([['k', 'v'.repeat(50)]]))).toBeGreaterThan(estimateSize(new Map([['k', 'v']])));
    expect(estimateSize(new Set(['a', 'b']))).toBeGreaterThan(estimateSize(new Set(['a'])));
    expect(estimateSize(Buffer.alloc(4096))).toBeGreaterThanOrEqual(4096);
    expect(estimateSize(new Float64Array(100))).toBeGreaterThanOrEqual(800);
    expect(estimateSize(10n ** 100n)).toBeGreaterThan(estimateSize(1n));
  });

  it('terminates on cycles and counts a shared object once', () => {
    const self: Record<string, unknown> = { text: 'x'.repeat(100) };
    self.self = self;
    const map = new Map<string, unknown>([['text', 'y'.repeat(100)]]);
    map.set('me', map);
    expect(estimateSize(self)).toBeGreaterThan(200);
    expect(estimateSize(map)).toBeGreaterThan(200);
    const big = { text: 'z'.repeat(1000) };
    expect(estimateSize({ a: big, b: big })).toBeLessThan(2 * estimateSize(big));
  });

  it('handles nesting deeper than the call stack', () => {
    let deep: unknown = 'leaf';
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(estimateSize(deep)).toBeGreaterThan(100_000);
  });
});
