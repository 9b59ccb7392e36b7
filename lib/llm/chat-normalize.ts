import type { ChatContentPart, ChatMessage } from './chat-request';

/** Which prompt normalisations apply (resolved `ChatNormalizeOptions`). */
export interface TextNormalization {
  readonly whitespace: boolean;
  readonly nfc: boolean;
  readonly lowercase: boolean;
}

/** Counts the texts that normalisation changed, for `explainKey`. */
export interface ChangeCounter {
  changed: number;
}

/** Whitespace that `replace(/\s+/g, ' ').trim()` would change: anything but single spaces between words. */
const UNTIDY_WHITESPACE = /[^\S ]|\s\s|^\s|\s$/;
/** Latin-1's whitespace other than a space (`\s` there is these, and the space), and two spaces. */
const UNTIDY_LATIN1 = ['\n', '\t', '\r', '\v', '\f', '\u00a0', '  '];
/**
 * A character beyond Latin-1. V8 answers at once for the strings it stores one byte per character, as it
 * does for {@link MAYBE_NOT_NFC}: neither class can match a one-byte string.
 */
const WIDE = /[^\u0000-\u00ff]/;
/** A code point from U+0300 up. Text below it is always NFC: nothing there decomposes or composes. */
const MAYBE_NOT_NFC = /[^\u0000-\u02ff]/;

/**
 * Texts up to this long have their normalised form remembered, at most {@link REMEMBERED_TEXTS} of them
 * (then the map starts again empty). Hits repeat the same short prompts: with `normalize: true`, a
 * two-message hit costs 1.5x a plain `@Cached` hit with the map and 2.4x without it, even with the fast
 * checks below (`npm run bench -- chat-hit`).
 */
const REMEMBERED_TEXT = 256;
const REMEMBERED_TEXTS = 1_024;

/** Plain objects encode the same as their copies; a class instance would also encode its class name. */
export function isPlainObject(value: object): boolean {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Normalises message text (string content and `text` parts; images, tool calls and other parts stay as
 * they are) on the key path of every call, so it copies only what changes: a message whose text is
 * already normal is kept as it is, and so is the array when no message changes.
 */
export class MessageNormalizer {
  readonly #n: TextNormalization;
  readonly #texts = new Map<string, string>();

  constructor(normalization: TextNormalization) {
    this.#n = normalization;
  }

  /** The messages with normalised texts: the same array when no text changes, a copy otherwise. */
  messages(messages: readonly ChatMessage[], counter?: ChangeCounter): readonly ChatMessage[] {
    let copy: ChatMessage[] | undefined;
    for (let i = 0; i < messages.length; i++) {
      const message = messages[i] as ChatMessage;
      const normalized = this.#message(message, counter);
      if (normalized !== message && copy === undefined) copy = messages.slice(0, i);
      copy?.push(normalized);
    }
    return copy ?? messages;
  }

  #message(message: ChatMessage, counter: ChangeCounter | undefined): ChatMessage {
    if (message === null || typeof message !== 'object') return message;
    const { content } = message;
    if (typeof content === 'string') {
      const text = this.#text(content, counter);
      return text === content && isPlainObject(message) ? message : { ...message, content: text };
    }
    if (!Array.isArray(content)) return message;
    let parts: ChatContentPart[] | undefined;
    for (let i = 0; i < content.length; i++) {
      const part = content[i] as ChatContentPart;
      let normalized = part;
      if (part !== null && typeof part === 'object' && part.type === 'text' && typeof part.text === 'string') {
        const text = this.#text(part.text, counter);
        if (text !== part.text || !isPlainObject(part)) normalized = { ...part, text };
      }
      if (normalized !== part && parts === undefined) parts = content.slice(0, i);
      parts?.push(normalized);
    }
    return parts === undefined && isPlainObject(message) ? message : { ...message, content: parts ?? content };
  }

  #text(s: string, counter: ChangeCounter | undefined): string {
    const remember = s.length <= REMEMBERED_TEXT;
    let out = remember ? this.#texts.get(s) : undefined;
    if (out === undefined) {
      const n = this.#n;
      out = n.nfc && MAYBE_NOT_NFC.test(s) ? s.normalize('NFC') : s;
      if (n.whitespace && untidy(out)) out = out.replace(/\s+/g, ' ').trim();
      if (n.lowercase) out = out.toLowerCase();
      if (remember) {
        if (this.#texts.size >= REMEMBERED_TEXTS) this.#texts.clear();
        this.#texts.set(s, out);
      }
    }
    if (counter !== undefined && out !== s) counter.changed++;
    return out;
  }
}

/**
 * Whether whitespace normalisation would change `s`. For Latin-1 text, a few `includes` scans: 2.6x
 * faster than {@link UNTIDY_WHITESPACE}, whose alternatives are tried at every position of a long text.
 */
function untidy(s: string): boolean {
  if (WIDE.test(s)) return UNTIDY_WHITESPACE.test(s);
  if (s.charCodeAt(0) === 32 || s.charCodeAt(s.length - 1) === 32) return true;
  for (const mark of UNTIDY_LATIN1) if (s.includes(mark)) return true;
  return false;
}
