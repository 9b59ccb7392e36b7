import { stemmer } from 'stemmer';
import { assertKnownOptions, assertPlainObject, assertPositiveInteger } from '../core/validate';
import type { Embedder } from './embedder';

/**
 * A deterministic embedder that needs no model and no network, for tests, development and demos, in
 * English and Chinese. It hashes lexical features into a fixed number of dimensions (the "hashing
 * trick", with a sign hash so collisions cancel on average) and L2-normalises the result:
 *
 * - Chinese (and other CJK) runs: character 1-, 2- and 3-grams;
 * - other words: Porter stems (the `stemmer` package) as unigrams and adjacent-pair bigrams, and
 *   character 3-grams of each word (`#word#`) at a lower weight, which forgive spelling variants;
 * - stop words (`the`, `of`, `的`, `吗`, ...) weigh less; repeated features grow by 1 + ln(count).
 *
 * It knows no synonyms: it scores word overlap, better than raw character n-grams but far from a
 * trained model. The weights were chosen on the paraphrase dev files (shared/eval/paraphrase) only.
 */
export interface OfflineEmbedderOptions {
  /** Length of the vectors; default 2048. Fewer dimensions collide more. */
  readonly dimensions?: number;
}

const KNOWN_OPTIONS = ['dimensions'] as const;
const VERSION = 1;
const DEFAULT_DIMENSIONS = 2048;
/** See {@link OfflineEmbedder.recommendedThreshold}; `spec/semantic/paraphrase.spec.ts` checks it. */
const RECOMMENDED_THRESHOLD = 0.95;

/** Feature weights (chosen on the dev files). */
const W = {
  cjk1: 1,
  cjk2: 1,
  cjk3: 0.4,
  word: 1,
  bigram: 0.3,
  wordGram: 0.25,
  stop: 0.25,
  cjkStop: 0.3,
} as const;

// prettier-ignore
const EN_STOP = new Set([
  'a', 'an', 'the', 'of', 'to', 'in', 'on', 'at', 'for', 'by', 'with', 'from', 'as', 'and', 'or', 'but',
  'is', 'are', 'was', 'were', 'be', 'been', 'being', 'am', 'do', 'does', 'did', 'doing', 'have', 'has', 'had',
  'i', 'me', 'my', 'we', 'our', 'you', 'your', 'he', 'she', 'it', 'its', 'they', 'them', 'their', 'his', 'her',
  'this', 'that', 'these', 'those', 'there', 'here', 'what', 'which', 'who', 'whom', 'how', 'why', 'when', 'where',
  'can', 'could', 'should', 'would', 'will', 'shall', 'may', 'might', 'must', 'some', 'any', 'so', 'if', 'than',
  'then', 'about', 'into', 'over', 'just', 'also', 'very', 'really', 'get', 'one', 'best', 'way', 'ways', 'good',
]);

/** Chinese function characters and question particles. */
const ZH_STOP = new Set([
  ...'的了吗呢啊吧呀么是我你他她它们这那有在和与就都也还要会能可以怎什样如何为哪个一些把被给让去来到',
]);

const CJK = /[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af]/u;
const TOKEN = /[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af]+|[\p{L}\p{N}]+(?:'[\p{L}]+)?/gu;

/** 32-bit FNV-1a. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The weighted features of one text before hashing: base weight × (1 + ln count). */
export function offlineFeatures(text: string): Map<string, number> {
  const seen = new Map<string, { weight: number; count: number }>();
  const add = (feature: string, weight: number): void => {
    const entry = seen.get(feature);
    if (entry === undefined) seen.set(feature, { weight, count: 1 });
    else {
      entry.weight = Math.max(entry.weight, weight);
      entry.count++;
    }
  };
  const normalised = text.normalize('NFKC').toLowerCase().replace(/[’‘]/g, "'");
  const words: { stem: string; stop: boolean }[] = [];
  const flushWords = (): void => {
    for (let i = 0; i < words.length; i++) {
      const w = words[i]!;
      add(`w:${w.stem}`, W.word * (w.stop ? W.stop : 1));
      const next = words[i + 1];
      if (next !== undefined) add(`b:${w.stem} ${next.stem}`, W.bigram * (w.stop && next.stop ? W.stop : 1));
    }
    words.length = 0;
  };
  for (const match of normalised.matchAll(TOKEN)) {
    const token = match[0];
    if (CJK.test(token)) {
      flushWords();
      const chars = [...token];
      for (let i = 0; i < chars.length; i++) {
        const c = chars[i]!;
        add(`c1:${c}`, W.cjk1 * (ZH_STOP.has(c) ? W.cjkStop : 1));
        if (i + 1 < chars.length) {
          const stop = ZH_STOP.has(c) && ZH_STOP.has(chars[i + 1]!);
          add(`c2:${c}${chars[i + 1]}`, W.cjk2 * (stop ? W.cjkStop : 1));
        }
        if (i + 2 < chars.length) add(`c3:${c}${chars[i + 1]}${chars[i + 2]}`, W.cjk3);
      }
      continue;
    }
    const word = token.replace(/'s$/, '').replace(/n't$/, ' not').split(' ');
    for (const part of word) {
      const stop = EN_STOP.has(part);
      words.push({ stem: stemmer(part), stop });
      if (!stop && part.length > 3) {
        const padded = `#${part}#`;
        for (let i = 0; i + 3 <= padded.length; i++) add(`g:${padded.slice(i, i + 3)}`, W.wordGram);
      }
    }
  }
  flushWords();
  const features = new Map<string, number>();
  for (const [feature, { weight, count }] of seen) features.set(feature, weight * (1 + Math.log(count)));
  return features;
}

/** See {@link OfflineEmbedderOptions}. */
export class OfflineEmbedder implements Embedder {
  readonly dimensions: number;
  readonly model: string;
  /**
   * 0.95 at the default 2,048 dimensions (`undefined` at others, which were not measured). Measured with the
   * default guards on the paraphrase dev pairs: the least threshold at which at most 1 % of near misses are
   * served is 0.922 in English and 0.946 in Chinese; at 0.95, 0.6 % (en) and 0.8 % (zh) of near misses are
   * served, and 5.5 % (en) and 3.8 % (zh) of paraphrases (docs/semantic.md, "The default threshold").
   */
  readonly recommendedThreshold: number | undefined;

  constructor(options: OfflineEmbedderOptions = {}) {
    assertPlainObject('options', options);
    assertKnownOptions('OfflineEmbedder', options, KNOWN_OPTIONS);
    const dimensions = options.dimensions ?? DEFAULT_DIMENSIONS;
    assertPositiveInteger('dimensions', dimensions);
    this.dimensions = dimensions;
    this.model = `cachet-offline-v${VERSION}-${dimensions}`;
    // Measured at the default dimensions only: fewer dimensions collide more, and score near misses higher.
    this.recommendedThreshold = dimensions === DEFAULT_DIMENSIONS ? RECOMMENDED_THRESHOLD : undefined;
  }

  async embed(texts: readonly string[]): Promise<Float32Array[]> {
    if (!Array.isArray(texts)) throw new TypeError(`Expected \`texts\` to be an array of strings, got ${typeof texts}`);
    return texts.map((text, i) => {
      if (typeof text !== 'string') throw new TypeError(`Expected \`texts[${i}]\` to be a string, got ${typeof text}`);
      return this.embedOne(text);
    });
  }

  private embedOne(text: string): Float32Array {
    const vector = new Float32Array(this.dimensions);
    for (const [feature, weight] of offlineFeatures(text)) {
      const hash = fnv1a(feature);
      const sign = hash & 0x80000000 ? -1 : 1;
      vector[hash % this.dimensions]! += sign * weight;
    }
    let norm = 0;
    for (const x of vector) norm += x * x;
    if (norm > 0) {
      const scale = 1 / Math.sqrt(norm);
      for (let i = 0; i < vector.length; i++) vector[i]! *= scale;
    }
    return vector;
  }
}
