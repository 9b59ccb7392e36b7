import { encodeArguments } from '../../lib/keys/canonical';
import { KeyBuilder } from '../../lib/keys/key-builder';

// Keys are stored in Redis and shared by every instance of a deployment: a change to the canonical
// encoding or the digest silently turns every stored entry into a miss. These keys were computed once
// and must never change; a failure here means existing caches would go cold.

class Point {
  constructor(
    readonly x: number,
    readonly y: number,
  ) {}
}

const forty: Record<string, number> = {};
for (let i = 0; i < 40; i++) forty[`k${(i * 7919) % 97}`] = i;
const long = Array.from({ length: 60 }, (_, i) => `word${i} `)
  .join('')
  .repeat(8);

const pinned: [string, () => unknown[], string][] = [
  [
    'two small args',
    () => ['What is the refund policy?', { lang: 'en' }],
    'OJ8scfV39Qv96ytdcqjvsrv4PqZhsz9qk_GD8HyHdoY',
  ],
  ['no arguments', () => [], 'LjjneyLDFKRJ6R-v7ZKkOCasaqQDrmqKy2z1gjn7r10'],
  [
    'primitives',
    () => [1, '1', true, false, null, undefined, -0, 0, NaN, Infinity, -Infinity, 1.5e-7, 2n ** 70n],
    'MC_Tz4g09KXUHUhgTCzKbFXis38ikevsNgIWEMdlelM',
  ],
  [
    'non-JSON values',
    () => [
      new Date(1_700_000_000_000),
      /a+b/gi,
      new Map<unknown, unknown>([
        ['b', 1],
        [2, { c: [3] }],
      ]),
      new Set(['z', 'a', 3]),
      Buffer.from('hé'),
      new Uint16Array([1, 2, 65535]),
      new Point(1, 2),
    ],
    'bJ9Vr7RwNaKOpDaR3a5PwOwSACykstudMf1kfIqH38o',
  ],
  [
    'nested objects in any key order, integer-like keys',
    () => [{ b: { y: [1, { q: 2, p: 1 }], x: 'x' }, a: [], 10: 'ten', 9: 'nine' }],
    'UfIJblFyAcM9JKGFLemMS_W7HaEAiM_q7sQMYQGS6Bg',
  ],
  ['an object of forty keys', () => [forty], 'i5HUictQ5Ton6gAfWZCqh14698cAIghDMRjRV7EnhCI'],
  [
    'non-ASCII and astral text',
    () => ['Café ☕ 東京 😀', { ключ: 'значение\u0301' }],
    'Uvp9ZJoiTM7gRWp4awZZAl0QlNCAOWH5KI-sC74IQAw',
  ],
  ['long strings', () => [long, { text: long, more: [long, 'short'] }], 'LS5xwyUWcrCQFJx_n27n1-g0Cyf8vHgdMz7Ik_O9w-E'],
  [
    'a null-prototype object',
    () => [Object.assign(Object.create(null), { b: 2, a: 1 })],
    'CsmCuKu8tOz1oW9W6Cb7pvAvR6uKmXvAbUMRdtbsMBc',
  ],
];

describe('stable keys', () => {
  it.each(pinned)('keeps the key of %s, encoded and remembered', (_name, args, digest) => {
    const builder = new KeyBuilder('cachet', 'default', 'Svc.m');
    expect(builder.keyFor(undefined, args())).toBe(`cachet:default:Svc.m:${digest}`);
    expect(builder.keyFor(undefined, args())).toBe(`cachet:default:Svc.m:${digest}`);
  });

  it('keeps the key of a key function result', () => {
    const builder = new KeyBuilder('cachet', 'default', 'Svc.m', function (this: { model: string }, q: string) {
      return [this.model, q];
    });
    expect(builder.keyFor({ model: 'm1' }, ['q'])).toBe(
      'cachet:default:Svc.m:aX1AVn2Kd0D2PqP1sysWBQoNcXLg00ht3ctgkBFhwLY',
    );
    expect(builder.keyFor({ model: 'm1' }, ['q'])).toBe(
      'cachet:default:Svc.m:aX1AVn2Kd0D2PqP1sysWBQoNcXLg00ht3ctgkBFhwLY',
    );
  });

  it('keeps the canonical text', () => {
    expect(encodeArguments(['a', { b: 1, a: null }, [true, false], undefined, -0, 2n, new Date(3)])).toBe(
      '(s1:a{s1:azs1:bn1;}[tf]un-0;i2;D3;)',
    );
  });

  it('spells short, long and many strings the same way', () => {
    const short = 'x'.repeat(63);
    const long = 'y'.repeat(64);
    const many = Array.from({ length: 500 }, (_, i) => `w${i}`);
    expect(encodeArguments([short, long, '', 'é'])).toBe(`(s63:${short}s64:${long}s0:s1:é)`);
    expect(encodeArguments([many])).toBe(`([${many.map((w) => `s${w.length}:${w}`).join('')}])`);
    expect(encodeArguments([{ [long]: short }])).toBe(`({s64:${long}s63:${short}})`);
    expect(encodeArguments([new Set([long, short]), Buffer.from(long)])).toBe(
      `(Ss63:${short}s64:${long};BBuffer:${Buffer.from(long).toString('base64')};)`,
    );
  });

  it.each([3, 12, 13, 40])(
    'orders the keys of an object of %i keys as Array.prototype.sort does, whatever their order',
    (size) => {
      const tricky = ['', 'a', 'B', 'aa', 'a b', '10', '9', 'é', 'e\u0301', '😀', '\uffff', 'Z', '_'];
      const keys = Array.from({ length: size }, (_, i) => tricky[i] ?? `k${(i * 7919) % 97}`);
      const expected = `({${[...keys]
        .sort()
        .map((k) => `s${k.length}:${k}s1:v`)
        .join('')}})`;
      for (const order of [keys, [...keys].reverse(), [...keys.slice(5), ...keys.slice(0, 5)]]) {
        expect(encodeArguments([Object.fromEntries(order.map((k) => [k, 'v']))])).toBe(expected);
      }
    },
  );
});
