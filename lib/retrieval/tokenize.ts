import { assertKnownOptions, assertOneOf, assertPlainObject, optionError } from '../core/validate';
import { porterStem } from './porter-stemmer';

/** How a tokenizer treats text; see {@link createTokenizer}. Stored in index snapshots. */
export interface TokenizerOptions {
  /** Reduce English words to their stem (Porter): `connected` meets `connection`. @default true */
  readonly stem?: boolean;
  /**
   * Drop common English words (`the`, `of`, `is`): `true` for the built-in list, or your own list
   * (lower-case). @default true
   */
  readonly stopWords?: boolean | readonly string[];
  /**
   * How Chinese, Japanese and Korean text becomes terms: `bigrams` (every pair of adjacent characters,
   * the same on every machine), or `words` (`Intl.Segmenter`, whose dictionary
   * comes with Node's ICU and may differ between Node versions, so two instances could tokenise apart).
   * @default 'bigrams'
   */
  readonly cjk?: 'bigrams' | 'words';
}

export type ResolvedTokenizerOptions = Required<Omit<TokenizerOptions, 'stopWords'>> & {
  readonly stopWords: readonly string[];
};

/** Turns text into search terms. */
export type Tokenizer = (text: string) => string[];

/** A small list of English function words; search quality on English text barely moves with a longer one. */
export const ENGLISH_STOP_WORDS: readonly string[] = Object.freeze(
  (
    'a about above after again against all am an and any are as at be because been before being below between both ' +
    'but by can could did do does doing down during each few for from further had has have having he her here hers ' +
    'herself him himself his how i if in into is it its itself just me more most my myself no nor not now of off on ' +
    'once only or other our ours ourselves out over own same she should so some such than that the their theirs them ' +
    'themselves then there these they this those through to too under until up very was we were what when where which ' +
    'while who whom why will with would you your yours yourself yourselves'
  ).split(' '),
);

const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;
// A run of CJK characters, or a run of other letters, digits and combining marks.
const RUNS = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]+|[\p{L}\p{N}\p{M}]+/gu;

/** Validates tokenizer options and fills in defaults. */
export function resolveTokenizerOptions(options: TokenizerOptions = {}): ResolvedTokenizerOptions {
  assertPlainObject('tokenizer', options);
  assertKnownOptions('tokenizer', options, ['stem', 'stopWords', 'cjk']);
  const { stem = true, stopWords = true, cjk = 'bigrams' } = options;
  if (typeof stem !== 'boolean') throw optionError('tokenizer.stem', 'a boolean', stem);
  assertOneOf('tokenizer.cjk', cjk, ['bigrams', 'words']);
  let list: readonly string[];
  if (stopWords === true) list = ENGLISH_STOP_WORDS;
  else if (stopWords === false) list = [];
  else if (Array.isArray(stopWords) && stopWords.every((w) => typeof w === 'string')) list = stopWords;
  else throw optionError('tokenizer.stopWords', 'true, false or an array of words', stopWords);
  return { stem, stopWords: list, cjk };
}

/**
 * A Unicode-aware tokenizer: NFKC and case folding (so `Ａｐｐｌｅ` and `apple` meet), then Latin and other
 * alphabetic words (stop words dropped, optionally stemmed) and CJK text as character bigrams or
 * dictionary words. Numbers are kept as terms.
 *
 * @example createTokenizer()('Apple 如何重置密码') // ['appl', '如何', '何重', '重置', '置密', '密码']
 */
export function createTokenizer(options: TokenizerOptions | ResolvedTokenizerOptions = {}): Tokenizer {
  const { stem, stopWords, cjk } = resolveTokenizerOptions(options as TokenizerOptions);
  const stop = new Set(stopWords);
  const segmenter = cjk === 'words' ? new Intl.Segmenter('zh', { granularity: 'word' }) : undefined;
  const cache = new Map<string, string | null>();
  const latin = (word: string): string | null => {
    let term = cache.get(word);
    if (term !== undefined) return term;
    term = stop.has(word) ? null : stem ? porterStem(word) : word;
    if (cache.size < 50_000) cache.set(word, term);
    return term;
  };
  return (text: string): string[] => {
    const terms: string[] = [];
    const folded = text.normalize('NFKC').toLowerCase();
    for (const match of folded.matchAll(RUNS)) {
      const run = match[0];
      if (!CJK.test(run[0]!)) {
        const term = latin(run);
        if (term !== null) terms.push(term);
      } else if (segmenter !== undefined) {
        for (const { segment, isWordLike } of segmenter.segment(run)) if (isWordLike) terms.push(segment);
      } else {
        pushBigrams(run, terms);
      }
    }
    return terms;
  };
}

/** Overlapping character pairs of a CJK run; a run of one character is itself a term (as Lucene's CJK analyzer does). */
function pushBigrams(run: string, terms: string[]): void {
  const chars = Array.from(run);
  if (chars.length === 1) terms.push(chars[0]!);
  for (let i = 0; i + 1 < chars.length; i++) terms.push(chars[i]! + chars[i + 1]!);
}
