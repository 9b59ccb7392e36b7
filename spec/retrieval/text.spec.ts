import { readFileSync } from 'node:fs';
import { chunk } from '../../lib/retrieval/chunk';
import { porterStem } from '../../lib/retrieval/porter-stemmer';
import { createTokenizer } from '../../lib/retrieval/tokenize';

describe('createTokenizer', () => {
  const tokenize = createTokenizer();

  it('folds case and width (NFKC), so "apple" finds "Apple" and "ＡＰＰＬＥ"', () => {
    expect(tokenize('Apple')).toEqual(tokenize('apple'));
    expect(tokenize('ＡＰＰＬＥ')).toEqual(tokenize('apple'));
  });

  it('stems English words and drops stop words', () => {
    expect(tokenize('The connected connections of the network')).toEqual(['connect', 'connect', 'network']);
    expect(createTokenizer({ stem: false, stopWords: false })('The connections')).toEqual(['the', 'connections']);
    expect(createTokenizer({ stopWords: ['network'] })('the network')).toEqual(['the']);
  });

  it('turns Chinese into overlapping bigrams, beside Latin words in the same text', () => {
    expect(tokenize('如何重置密码')).toEqual(['如何', '何重', '重置', '置密', '密码']);
    expect(tokenize('Slack 通知')).toEqual(['slack', '通知']);
    expect(tokenize('码')).toEqual(['码']);
  });

  it('can segment Chinese into words with Intl.Segmenter', () => {
    const words = createTokenizer({ cjk: 'words' })('如何重置密码');
    expect(words.join('')).toBe('如何重置密码');
    expect(words.length).toBeLessThan(5);
  });

  it('rejects bad options', () => {
    expect(() => createTokenizer({ cjk: 'chars' as never })).toThrow(
      /Expected `tokenizer.cjk` to be one of 'bigrams', 'words'/,
    );
    expect(() => createTokenizer({ stopWords: 'the' as never })).toThrow(
      /Expected `tokenizer.stopWords` to be true, false or an array of words/,
    );
  });
});

describe('porterStem', () => {
  it.each([
    ['caresses', 'caress'],
    ['ponies', 'poni'],
    ['agreed', 'agre'],
    ['motoring', 'motor'],
    ['hopping', 'hop'],
    ['filing', 'file'],
    ['happy', 'happi'],
    ['relational', 'relat'],
    ['conditional', 'condit'],
    ['generalization', 'gener'],
    ['oscillations', 'oscil'],
    ['hopefulness', 'hope'],
    ['adjustment', 'adjust'],
    ['adoption', 'adopt'],
    ['controll', 'control'],
  ])('stems %s to %s, as Porter (1980) does', (word, stem) => {
    expect(porterStem(word)).toBe(stem);
  });

  // Porter's published vocabulary (voc.txt) and its stems (output.txt), as the porter-stemmer package
  // ships them in its test folder.
  const reference = (name: string): string[] =>
    readFileSync(require.resolve(`porter-stemmer/test/${name}`), 'utf8')
      .split('\n')
      .filter((line) => line !== '');

  it("stems every word of Porter's 23,531-word reference vocabulary as his output.txt does", () => {
    const words = reference('input.txt');
    const stems = reference('output.txt');
    expect(words.length).toBe(23_531);
    expect(stems.length).toBe(words.length);
    const wrong = words.flatMap((word, i) =>
      porterStem(word) === stems[i] ? [] : [`${word} -> ${porterStem(word)}, not ${stems[i]}`],
    );
    expect(wrong).toEqual([]);
  });

  it('gives -bly and -ble words, and -logy and -logical words, one stem', () => {
    expect(porterStem('possibly')).toBe(porterStem('possible'));
    expect(porterStem('etymology')).toBe(porterStem('etymological'));
    const tokenize = createTokenizer();
    expect(tokenize('terribly horrible')).toEqual([...tokenize('terrible'), ...tokenize('horribly')]);
  });
});

describe('chunk', () => {
  const english =
    'Refunds are possible within fourteen days. Monthly plans are not refunded! Ask support?\n\n' +
    'Invoices live under Settings. Each invoice lists the seats billed and the taxes applied to them.';
  const chinese =
    '年付用户可以在购买后十四天内申请退款。月付计划不退款！需要帮助吗？请联系客服；我们会尽快回复……谢谢。';

  it('keeps offsets exact: each chunk is the slice of the text it claims', () => {
    for (const text of [english, chinese, `${english}\n\n${chinese}`]) {
      for (const piece of chunk(text, { size: 40, overlap: 10, docId: 'd' })) {
        expect(text.slice(piece.start, piece.end)).toBe(piece.text);
        expect(piece.docId).toBe('d');
      }
    }
  });

  it('never splits a Latin word, even when a sentence is longer than the size', () => {
    const long =
      'aerodynamic heating of hypersonic vehicles depends strongly on the boundary layer transition location';
    for (const size of [10, 17, 23, 40]) {
      for (const piece of chunk(long, { size, overlap: 0 })) {
        const before = long[piece.start - 1];
        const after = long[piece.end];
        expect(before === undefined || before === ' ').toBe(true);
        expect(after === undefined || after === ' ').toBe(true);
      }
    }
    // A single word longer than the size stays whole.
    expect(chunk('supercalifragilistic word', { size: 5, overlap: 0 }).map((c) => c.text)).toEqual([
      'supercalifragilistic',
      'word',
    ]);
  });

  it('ends Chinese chunks at Chinese sentence ends', () => {
    const pieces = chunk(chinese, { size: 25, overlap: 0 });
    expect(pieces.length).toBeGreaterThan(2);
    for (const piece of pieces) expect(piece.text).toMatch(/[。！？；…]$/u);
  });

  it('prefers paragraph and sentence ends, and overlaps whole sentences', () => {
    const pieces = chunk(english, { size: 90, overlap: 40 });
    expect(pieces[0]?.text).toBe(
      'Refunds are possible within fourteen days. Monthly plans are not refunded! Ask support?',
    );
    expect(pieces[1]?.text.startsWith('Ask support?')).toBe(true);
    expect(pieces.at(-1)?.text.endsWith('taxes applied to them.')).toBe(true);
  });

  it('measures in approximate tokens when asked', () => {
    const tokens = chunk(chinese, { size: 20, overlap: 0, unit: 'tokens' });
    const chars = chunk(chinese, { size: 20, overlap: 0, unit: 'chars' });
    expect(tokens.length).toBe(chars.length); // one token per Chinese character
    expect(chunk(english, { size: 30, overlap: 0, unit: 'tokens' }).length).toBeLessThan(
      chunk(english, { size: 30, overlap: 0 }).length,
    );
  });

  it('rejects bad options', () => {
    expect(() => chunk('x', { size: 0 })).toThrow(/Expected `size` to be a number >= 1/);
    expect(() => chunk('x', { size: 10, overlap: 10 })).toThrow(
      /Expected `overlap` to be a number >= 0 and below size \(10\)/,
    );
    expect(() => chunk(42 as never)).toThrow(/Expected `text` to be a string/);
  });
});
