import { CachetError } from '../core/errors';
import { assertKnownOptions, assertPlainObject, optionError } from '../core/validate';
import type { Embedder } from './embedder';
import { checkGuards, createGuards, type GuardOptions } from './guards';

/**
 * How well a similarity separates paraphrases from near misses, and which threshold a semantic cache
 * should use. The definitions are those of the paraphrase evaluation (shared/eval/paraphrase/README.md,
 * "Metrics"), so a figure computed here can be set beside the acceptance figures.
 */

/** A pair of texts and whether they mean the same thing (label 1: a cache may answer one with the other's answer). */
export interface LabelledPair {
  readonly a: string;
  readonly b: string;
  readonly label: 0 | 1 | boolean;
}

/** Why a calibration input cannot be used. */
export type CalibrationProblem = 'no-pairs' | 'no-negatives' | 'no-positives' | 'length-mismatch' | 'not-a-number';

/** The scores or labels handed to a metric cannot give a figure (no negatives, lengths differ, ...). */
export class CalibrationError extends CachetError {
  readonly code = 'ERR_CACHET_CALIBRATION';

  constructor(
    readonly problem: CalibrationProblem,
    message: string,
  ) {
    super(message);
  }
}

/** The result of {@link recallAtFalseHitRate}. */
export interface RecallAtRate {
  /** Share of positives scoring strictly above `threshold`. */
  readonly recall: number;
  /** t: the (k+1)-th highest negative score, k = ⌊rate · negatives⌋. A pair is a hit iff its score > t. */
  readonly threshold: number;
  /** Negatives scoring above `threshold` (at most k). */
  readonly falseHits: number;
  /** falseHits / negatives. */
  readonly falseHitRate: number;
}

function isPositive(label: LabelledPair['label']): boolean {
  return label === 1 || label === true;
}

function checkScores(scores: readonly number[], labels: readonly LabelledPair['label'][]): void {
  if (scores.length !== labels.length) {
    throw new CalibrationError(
      'length-mismatch',
      `Expected as many labels as scores, got ${scores.length} scores and ${labels.length} labels`,
    );
  }
  if (scores.length === 0) throw new CalibrationError('no-pairs', 'Expected at least one scored pair, got none');
  const at = scores.findIndex((s) => typeof s !== 'number' || Number.isNaN(s));
  if (at >= 0)
    throw new CalibrationError('not-a-number', `Expected every score to be a number, got ${scores[at]} at ${at}`);
  let positives = 0;
  for (const label of labels) if (isPositive(label)) positives++;
  if (positives === 0) throw new CalibrationError('no-positives', 'Expected at least one positive (label 1), got none');
  if (positives === labels.length) {
    throw new CalibrationError('no-negatives', 'Expected at least one negative (label 0), got none');
  }
}

function assertRate(name: string, rate: unknown): asserts rate is number {
  if (typeof rate !== 'number' || !(rate > 0 && rate < 1)) throw optionError(name, 'a number in (0, 1)', rate);
}

/**
 * ROC-AUC: the probability that a random positive scores above a random negative, ties counting ½
 * (the Mann-Whitney U statistic over positives × negatives). `-Infinity` is a valid score (a pair a
 * guard refused). O(n log n).
 */
export function rocAuc(scores: readonly number[], labels: readonly LabelledPair['label'][]): number {
  checkScores(scores, labels);
  // Compared, not subtracted: -Infinity - -Infinity is NaN.
  const order = scores
    .map((_, i) => i)
    .sort((x, y) => (scores[x] === scores[y] ? 0 : scores[x]! < scores[y]! ? -1 : 1));
  let negativesBelow = 0;
  let wins = 0;
  let positives = 0;
  for (let i = 0; i < order.length;) {
    let j = i;
    let tiedPositives = 0;
    let tiedNegatives = 0;
    while (j < order.length && scores[order[j]!] === scores[order[i]!]) {
      if (isPositive(labels[order[j]!]!)) tiedPositives++;
      else tiedNegatives++;
      j++;
    }
    wins += tiedPositives * negativesBelow + (tiedPositives * tiedNegatives) / 2;
    negativesBelow += tiedNegatives;
    positives += tiedPositives;
    i = j;
  }
  return wins / (positives * negativesBelow);
}

/**
 * Recall at a bounded false-hit rate: sort the negatives' scores descending, k = ⌊rate · negatives⌋,
 * t = the (k+1)-th highest negative score; a pair is a hit iff its score > t (strictly), so at most k
 * negatives are false hits. Returns t as `threshold`: it is the threshold a cache would use.
 */
export function recallAtFalseHitRate(
  scores: readonly number[],
  labels: readonly LabelledPair['label'][],
  rate: number,
): RecallAtRate {
  assertRate('rate', rate);
  checkScores(scores, labels);
  const negatives = scores.filter((_, i) => !isPositive(labels[i]!)).sort((x, y) => (x === y ? 0 : x > y ? -1 : 1));
  const k = Math.floor(rate * negatives.length);
  const threshold = negatives[k]!;
  let hits = 0;
  let positives = 0;
  let falseHits = 0;
  scores.forEach((score, i) => {
    if (isPositive(labels[i]!)) {
      positives++;
      if (score > threshold) hits++;
    } else if (score > threshold) falseHits++;
  });
  return { recall: hits / positives, threshold, falseHits, falseHitRate: falseHits / negatives.length };
}

/** Cosine similarity of two vectors of the same length (0 when either is all zeros). */
export function cosine(x: ArrayLike<number>, y: ArrayLike<number>): number {
  if (x.length !== y.length) throw new RangeError(`Expected vectors of one length, got ${x.length} and ${y.length}`);
  let dot = 0;
  let xx = 0;
  let yy = 0;
  for (let i = 0; i < x.length; i++) {
    dot += x[i]! * y[i]!;
    xx += x[i]! * x[i]!;
    yy += y[i]! * y[i]!;
  }
  return xx === 0 || yy === 0 ? 0 : dot / Math.sqrt(xx * yy);
}

/** What {@link calibrateThreshold} takes. */
export interface CalibrateOptions {
  /** The false-hit rate the threshold must keep to on these pairs, in (0, 1): 0.01 for 1 %. */
  readonly maxFalseHitRate: number;
  /**
   * Guards to run before the cosine (see `checkGuards`): a pair a guard refuses scores `-Infinity`, so it
   * is never a hit: a refused paraphrase counts as a miss, a refused near miss can never be a false hit.
   * Leave out (or `false`) to score by cosine alone.
   */
  readonly guards?: GuardOptions | false;
}

/** The threshold and how it does on the pairs it was calibrated on. */
export interface Calibration {
  /** Serve a cached answer iff cosine > threshold (strictly) and no guard refuses. */
  readonly threshold: number;
  readonly rocAuc: number;
  readonly recall: number;
  readonly falseHitRate: number;
  /** Pairs a guard refused (scored `-Infinity`), positives and negatives. */
  readonly refused: { readonly positives: number; readonly negatives: number };
}

/** Something that embeds texts: an {@link Embedder} or its `embed` function. */
export type EmbedSource = Pick<Embedder, 'embed'> | Embedder['embed'];

/**
 * Scores labelled pairs (cosine of their embeddings; `-Infinity` where a guard refuses) and chooses the
 * cache threshold that keeps the false-hit rate within `maxFalseHitRate` on them, as
 * {@link recallAtFalseHitRate} defines it.
 */
export async function calibrateThreshold(
  pairs: readonly LabelledPair[],
  embed: EmbedSource,
  options: CalibrateOptions,
): Promise<Calibration> {
  assertPlainObject('options', options);
  assertKnownOptions('calibrateThreshold', options, ['maxFalseHitRate', 'guards']);
  assertRate('maxFalseHitRate', options.maxFalseHitRate);
  if (!Array.isArray(pairs)) throw optionError('pairs', 'an array of { a, b, label }', pairs);
  const embedFn = typeof embed === 'function' ? embed : (texts: readonly string[]) => embed.embed(texts);
  if (typeof embed !== 'function' && (embed === null || typeof embed?.embed !== 'function')) {
    throw optionError('embed', 'an Embedder or an embed function', embed);
  }
  pairs.forEach((pair, i) => {
    if (pair === null || typeof pair !== 'object' || typeof pair.a !== 'string' || typeof pair.b !== 'string') {
      throw optionError(`pairs[${i}]`, 'a { a: string, b: string, label } object', pair);
    }
    if (![0, 1, true, false].includes(pair.label))
      throw optionError(`pairs[${i}].label`, '0, 1 or a boolean', pair.label);
  });
  const guards = options.guards === undefined || options.guards === false ? undefined : createGuards(options.guards);
  const labels = pairs.map((p) => p.label);
  checkScores(
    pairs.map(() => 0),
    labels,
  );
  const vectors = await embedFn(pairs.flatMap((p) => [p.a, p.b]));
  if (vectors.length !== pairs.length * 2) {
    throw new TypeError(`The embedder returned ${vectors.length} vectors for ${pairs.length * 2} texts`);
  }
  const refused = { positives: 0, negatives: 0 };
  const scores = pairs.map((pair, i) => {
    if (guards !== undefined) {
      const verdict = checkGuards(pair.a, pair.b, guards);
      if (!verdict.same) {
        if (isPositive(pair.label)) refused.positives++;
        else refused.negatives++;
        return -Infinity;
      }
    }
    return cosine(vectors[2 * i]!, vectors[2 * i + 1]!);
  });
  const atRate = recallAtFalseHitRate(scores, labels, options.maxFalseHitRate);
  return {
    threshold: atRate.threshold,
    rocAuc: rocAuc(scores, labels),
    recall: atRate.recall,
    falseHitRate: atRate.falseHitRate,
    refused,
  };
}
