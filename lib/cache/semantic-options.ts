import {
  assertKnownOptions,
  assertOneOf,
  assertOptionalFunction,
  assertPlainObject,
  assertPositiveInteger,
  optionError,
} from '../core/validate';
import type { Embedder } from '../semantic/embedder';
import { INDEX_KINDS, type IndexKind } from '../semantic/index-kind';
import { createGuards, entitiesGuard, type Guard } from '../semantic/guards';

/**
 * The semantic cache of one method (`@Cached({ semantic })`): on an exact miss, the question of the call
 * is embedded and the stored answer of the nearest cached question of the same partition is served when
 * it is at least `threshold` alike, the guards agree and `verify` (if given) agrees.
 */
export interface SemanticOptions<Args extends any[] = any[]> {
  /** Turns questions into vectors: `OfflineEmbedder` for tests and development, a real model in production. */
  readonly embed: Embedder;
  /**
   * Least cosine similarity (of L2-normalised vectors) to serve a cached answer, in (-1, 1]. Choose it with
   * `calibrateThreshold` on labelled pairs of your own, with your own embedder.
   * @default the embedder's `recommendedThreshold` (`OfflineEmbedder`: 0.95); required when it has none
   */
  readonly threshold?: number;
  /**
   * The question a call asks. Returning `undefined` skips the semantic lookup for that call.
   * @default the first argument (it must be a string); `chatKeyPolicy` supplies the last user message
   */
  readonly text?: (this: any, ...args: Args) => string | undefined;
  /**
   * Everything besides the question that changes the answer: only questions of the same partition are
   * compared. Required with `text` (return `null` when nothing does).
   * @default every argument but the first, when `text` is not set; `chatKeyPolicy` supplies the request
   * without its last user message, and the tenant
   */
  readonly partition?: (this: any, ...args: Args) => unknown;
  /**
   * Near-miss guards run on the query and each candidate: numbers, negation and quotes must match (plus
   * `entities`). A list replaces them; `false` turns them off. @default the numbers, negation and quotes guards
   */
  readonly guards?: readonly Guard[] | false;
  /** Names (products, places) that must be the same on both sides, e.g. `['Plus', 'Pro']`. */
  readonly entities?: readonly string[];
  /** A second-stage judge of a candidate above the threshold (a cheap model, a reranker). */
  readonly verify?: (query: string, candidate: string) => boolean | Promise<boolean>;
  /** Most questions kept in memory per method; the oldest go first. @default 10_000 */
  readonly maxEntries?: number;
  /**
   * How a partition's questions are searched: `'flat'`, an exact scan of every question (about 0.8 µs a
   * question at 384 dimensions, 3.5 µs at 1536); `'hnsw'`, an approximate HNSW graph from the optional
   * peer dependency `hnswlib-node` (`npm install hnswlib-node`), about 0.2-0.7 ms a lookup at 10,000
   * questions; `'auto'`, the flat scan below 1,000 questions in the partition and the graph from there.
   * The graph may miss a match, never add one: its candidates are re-checked with the exact similarity,
   * the threshold and the guards. Without `hnswlib-node`, a process warning (once) and the flat scan.
   * @default 'flat'
   */
  readonly index?: IndexKind;
}

/**
 * What a call asks and the partition it asks in, as a policy knows it: `chatKeyPolicy` supplies it, and
 * `semantic.text` / `semantic.partition` override it.
 */
export interface SemanticQuestion {
  readonly text: (this: any, ...args: any[]) => string | undefined;
  readonly partition: (this: any, ...args: any[]) => unknown;
}

export interface ResolvedSemantic {
  readonly embed: Embedder;
  readonly threshold: number;
  readonly text: (this: unknown, ...args: unknown[]) => string | undefined;
  readonly partition: (this: unknown, ...args: unknown[]) => unknown;
  readonly guards: readonly Guard[];
  readonly verify: ((query: string, candidate: string) => boolean | Promise<boolean>) | undefined;
  readonly maxEntries: number;
  readonly index: IndexKind;
}

const KNOWN = [
  'embed',
  'threshold',
  'text',
  'partition',
  'guards',
  'entities',
  'verify',
  'maxEntries',
  'index',
] as const;
const DEFAULT_MAX_ENTRIES = 10_000;

function firstArgument(...args: unknown[]): string | undefined {
  const text = args[0];
  if (typeof text !== 'string') {
    throw optionError('semantic.text (the default: the first argument)', 'a string first argument', text);
  }
  return text;
}

function otherArguments(...args: unknown[]): unknown {
  return args.slice(1);
}

/** Validates `semantic`; throws a `TypeError` that names the bad option. `undefined` stays. */
export function resolveSemantic(semantic: unknown, question: unknown): ResolvedSemantic | undefined {
  if (question !== undefined) {
    assertPlainObject('semanticQuestion', question);
    const q = question as SemanticQuestion;
    if (typeof q.text !== 'function' || typeof q.partition !== 'function') {
      throw optionError('semanticQuestion', 'an object with `text` and `partition` functions', question);
    }
  }
  if (semantic === undefined) return undefined;
  assertPlainObject('semantic', semantic);
  assertKnownOptions('semantic', semantic as object, KNOWN);
  const s = semantic as SemanticOptions;
  const embed = s.embed as Partial<Embedder> | undefined;
  if (typeof embed !== 'object' || embed === null || typeof embed.embed !== 'function') {
    throw optionError(
      'semantic.embed',
      'an Embedder ({ embed(texts), dimensions, model }), e.g. new OfflineEmbedder()',
      embed,
    );
  }
  if (typeof embed.model !== 'string')
    throw optionError('semantic.embed.model', 'a string naming the model', embed.model);
  const recommended = embed.recommendedThreshold;
  if (recommended !== undefined && !isSimilarity(recommended)) {
    throw optionError(
      'semantic.embed.recommendedThreshold',
      'undefined or a cosine similarity above -1 and at most 1',
      recommended,
    );
  }
  if (s.threshold === undefined && recommended === undefined) {
    throw optionError(
      'semantic.threshold',
      `a cosine similarity above -1 and at most 1, since the embedder (model ${embed.model}) recommends ` +
        'none; choose it with calibrateThreshold(pairs, embedder, { maxFalseHitRate: 0.01, guards: {} }) ' +
        'on labelled pairs of your own',
      undefined,
    );
  }
  const threshold = s.threshold ?? (recommended as number);
  if (!isSimilarity(threshold)) {
    throw optionError('semantic.threshold', 'a cosine similarity above -1 and at most 1, e.g. 0.9', s.threshold);
  }
  assertOptionalFunction('semantic.text', s.text);
  assertOptionalFunction('semantic.partition', s.partition);
  assertOptionalFunction('semantic.verify', s.verify);
  if (s.text !== undefined && s.partition === undefined) {
    throw optionError(
      'semantic.partition',
      'a function of the arguments returning everything besides the question that changes the answer ' +
        '(`() => null` when nothing does), since `semantic.text` is set',
      undefined,
    );
  }
  const maxEntries = s.maxEntries ?? DEFAULT_MAX_ENTRIES;
  assertPositiveInteger('semantic.maxEntries', maxEntries);
  const index = s.index ?? 'flat';
  assertOneOf('semantic.index', index, INDEX_KINDS);
  const q = question as SemanticQuestion | undefined;
  return {
    embed: embed as Embedder,
    threshold,
    text: (s.text ?? q?.text ?? firstArgument) as ResolvedSemantic['text'],
    partition: (s.partition ??
      (s.text === undefined ? q?.partition : undefined) ??
      otherArguments) as ResolvedSemantic['partition'],
    guards: resolveGuards(s.guards, s.entities),
    verify: s.verify,
    maxEntries,
    index,
  };
}

function isSimilarity(value: unknown): value is number {
  return typeof value === 'number' && value > -1 && value <= 1;
}

function resolveGuards(guards: unknown, entities: unknown): readonly Guard[] {
  if (entities !== undefined && (!Array.isArray(entities) || entities.some((e) => typeof e !== 'string' || e === ''))) {
    throw optionError('semantic.entities', 'an array of non-empty names', entities);
  }
  const list = (entities as string[] | undefined) ?? [];
  if (guards === false) {
    if (list.length > 0) throw optionError('semantic.guards', 'not false when `semantic.entities` is set', guards);
    return [];
  }
  if (guards === undefined) return createGuards({ entities: list });
  if (!Array.isArray(guards) || guards.some((g) => typeof g !== 'function')) {
    throw optionError('semantic.guards', 'an array of guard functions (createGuards(...)) or false', guards);
  }
  return list.length > 0 ? [...(guards as Guard[]), entitiesGuard(list)] : (guards as Guard[]);
}
