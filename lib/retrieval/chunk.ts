import { assertKnownOptions, assertOneOf, assertPlainObject, optionError } from '../core/validate';

/** A piece of a document, with where it came from. `text === source.slice(start, end)`. */
export interface Chunk {
  readonly docId: string;
  /** Position among the document's chunks, from 0. */
  readonly index: number;
  /** Offsets in the document's text, in UTF-16 code units (JavaScript string indices). */
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

/** Options of {@link chunk}. */
export interface ChunkOptions {
  /** Largest chunk, in `unit`s. A single word longer than this stays whole. @default 800 */
  readonly size?: number;
  /** How much of the end of a chunk the next one repeats, in `unit`s, in whole sentences. @default size / 8 */
  readonly overlap?: number;
  /** `chars`, or `tokens` (estimated: a CJK character is one, other text about four characters a token). @default 'chars' */
  readonly unit?: 'chars' | 'tokens';
  /** Stamped on every chunk. @default '' */
  readonly docId?: string;
}

interface Span {
  readonly start: number;
  readonly end: number;
}

const PARAGRAPH = /\n[ \t\r]*\n/g;
// A Latin sentence ends at . ! ? (with closing quotes or brackets) before whitespace; a CJK one at 。！？；…
const SENTENCE_END = /[.!?]+["'”’)\]]*(?=\s|$)|[。！？；…]+[”’」』）)]*/gu;
const WORD_CHAR = /[\p{L}\p{N}\p{M}_'’-]/u;
const CJK_CHAR = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;

/**
 * Splits a document into chunks of at most `size`: at paragraph breaks, then at sentence ends (Latin
 * `. ! ?` and Chinese `。！？；…`), then between words (any two CJK characters, or at whitespace) when
 * one sentence is longer than `size`. Never inside a Latin word. Consecutive chunks share up to
 * `overlap` of whole sentences, so a passage cut at a boundary is whole in one of them.
 *
 * @example chunk(text, { size: 500, overlap: 50, docId: 'faq-12' }).map((c) => [c.start, c.end])
 */
export function chunk(text: string, options: ChunkOptions = {}): Chunk[] {
  if (typeof text !== 'string') throw optionError('text', 'a string', text);
  const { size, overlap, measure, docId } = resolveChunkOptions(options);
  const pieces: Span[] = [];
  for (const paragraph of spansBetween(text, PARAGRAPH)) {
    for (const sentence of sentencesOf(text, paragraph)) {
      if (measure(text, sentence) <= size) pieces.push(sentence);
      else pieces.push(...splitLong(text, sentence, size, measure));
    }
  }
  const chunks: Chunk[] = [];
  let first = 0;
  while (first < pieces.length) {
    let last = first;
    while (
      last + 1 < pieces.length &&
      measure(text, { start: pieces[first]!.start, end: pieces[last + 1]!.end }) <= size
    )
      last++;
    const start = pieces[first]!.start;
    const end = pieces[last]!.end;
    chunks.push({ docId, index: chunks.length, start, end, text: text.slice(start, end) });
    if (last + 1 >= pieces.length) break;
    // The next chunk starts at the earliest piece of this one whose tail fits in `overlap` and still
    // leaves room for the piece after this chunk (else the next chunk would add nothing new).
    let next = last + 1;
    const following = pieces[last + 1]!.end;
    for (let k = first + 1; k <= last; k++) {
      const start = pieces[k]!.start;
      if (measure(text, { start, end }) <= overlap && measure(text, { start, end: following }) <= size) {
        next = k;
        break;
      }
    }
    first = next;
  }
  return chunks;
}

function resolveChunkOptions(options: ChunkOptions) {
  assertPlainObject('options', options);
  assertKnownOptions('chunk', options, ['size', 'overlap', 'unit', 'docId']);
  const { size = 800, unit = 'chars', docId = '' } = options;
  if (typeof size !== 'number' || !Number.isFinite(size) || size < 1) throw optionError('size', 'a number >= 1', size);
  const overlap = options.overlap ?? Math.floor(size / 8);
  if (typeof overlap !== 'number' || !(overlap >= 0) || overlap >= size) {
    throw optionError('overlap', `a number >= 0 and below size (${size})`, overlap);
  }
  assertOneOf('unit', unit, ['chars', 'tokens']);
  if (typeof docId !== 'string') throw optionError('docId', 'a string', docId);
  return { size, overlap, measure: unit === 'chars' ? charLength : tokenLength, docId };
}

type Measure = (text: string, span: Span) => number;

const charLength: Measure = (_text, span) => span.end - span.start;

/** Estimated tokens: one per CJK character, about one per four other non-space characters. */
const tokenLength: Measure = (text, span) => {
  let cjk = 0;
  let other = 0;
  for (let i = span.start; i < span.end; i++) {
    const c = text[i]!;
    if (CJK_CHAR.test(c)) cjk++;
    else if (c.trim() !== '') other++;
  }
  return cjk + Math.ceil(other / 4);
};

/** The non-blank stretches of `text` between matches of `separator`, trimmed. */
function spansBetween(text: string, separator: RegExp): Span[] {
  const spans: Span[] = [];
  let from = 0;
  for (const match of text.matchAll(separator)) {
    pushTrimmed(text, from, match.index, spans);
    from = match.index + match[0].length;
  }
  pushTrimmed(text, from, text.length, spans);
  return spans;
}

function sentencesOf(text: string, paragraph: Span): Span[] {
  const sentences: Span[] = [];
  const body = text.slice(paragraph.start, paragraph.end);
  let from = 0;
  for (const match of body.matchAll(SENTENCE_END)) {
    const end = match.index + match[0].length;
    pushTrimmed(text, paragraph.start + from, paragraph.start + end, sentences);
    from = end;
  }
  pushTrimmed(text, paragraph.start + from, paragraph.end, sentences);
  return sentences;
}

function pushTrimmed(text: string, start: number, end: number, into: Span[]): void {
  while (start < end && /\s/.test(text[start]!)) start++;
  while (end > start && /\s/.test(text[end - 1]!)) end--;
  if (end > start) into.push({ start, end });
}

/** Cuts a sentence longer than `size` at the last word boundary that keeps each piece within `size`. */
function splitLong(text: string, sentence: Span, size: number, measure: Measure): Span[] {
  const pieces: Span[] = [];
  let start = sentence.start;
  while (start < sentence.end) {
    let end = start;
    let lastBreak = -1;
    while (end < sentence.end && measure(text, { start, end: end + 1 }) <= size) {
      end++;
      if (end === sentence.end || isBreak(text, end)) lastBreak = end;
    }
    if (end >= sentence.end) lastBreak = sentence.end;
    // No boundary within `size` (one very long word): keep the word whole.
    if (lastBreak <= start) {
      lastBreak = end;
      while (lastBreak < sentence.end && !isBreak(text, lastBreak)) lastBreak++;
    }
    const before = pieces.length;
    pushTrimmed(text, start, lastBreak, pieces);
    start = lastBreak;
    if (pieces.length === before && start >= sentence.end) break;
  }
  return pieces;
}

/** Whether a chunk may end before index `i`: not between two characters of one Latin word. */
function isBreak(text: string, i: number): boolean {
  const before = text[i - 1];
  const after = text[i];
  if (before === undefined || after === undefined) return true;
  const latinBefore = WORD_CHAR.test(before) && !CJK_CHAR.test(before);
  const latinAfter = WORD_CHAR.test(after) && !CJK_CHAR.test(after);
  return !(latinBefore && latinAfter);
}
