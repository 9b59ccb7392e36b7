import { refusal, type Guard } from './guard';
import { normalise } from './text';

const QUOTED =
  /"([^"]+)"|“([^”]+)”|「([^」]+)」|『([^』]+)』|《([^》]+)》|‘([^’]+)’|(?<![\p{L}\p{N}])'([^']+)'(?![\p{L}\p{N}])/gu;

/** Quoted strings longer than this are quoted speech, not a literal the answer depends on. */
const MAX_QUOTED = 40;

/** Letters and digits only, words separated by one space: `Oh, my God.` -> `oh my god`. */
function bare(text: string): string {
  return ` ${normalise(text)
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim()} `;
}

/**
 * The quoted strings of a text ("…", '…', “…”, ‘…’, 「…」, 『…』, 《…》) of at most 40 characters, as
 * letters and digits. CSV-doubled quotes (`""word""`) count as one. Exported for the specs.
 */
export function quotedStrings(text: string): string[] {
  const found: string[] = [];
  for (const match of text.normalize('NFKC').replace(/""/g, '"').matchAll(QUOTED)) {
    const inner = match.slice(1).find((group) => group !== undefined);
    if (inner === undefined || inner.length > MAX_QUOTED) continue;
    const literal = bare(inner);
    if (literal.trim() !== '') found.push(literal.trim());
  }
  return found;
}

/** A string quoted on either side must appear in the other (compared as letters and digits, whole words). */
export const quotesGuard: Guard = (query, candidate) => {
  const q = quotedStrings(query);
  const c = quotedStrings(candidate);
  const nq = bare(query);
  const nc = bare(candidate);
  const ok =
    q.every((s) => nc.includes(` ${s} `) || (/\p{Script=Han}/u.test(s) && nc.includes(s))) &&
    c.every((s) => nq.includes(` ${s} `) || (/\p{Script=Han}/u.test(s) && nq.includes(s)));
  return ok ? undefined : refusal('quotes', q, c);
};
