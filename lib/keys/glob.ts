/**
 * Redis's glob patterns (`SCAN ... MATCH`, `KEYS`), so that the memory store lists exactly the keys
 * Redis would: `*` any run of characters (`:` included), `?` one character, `[abc]`, `[a-z]` and
 * `[^a]` sets, `\` makes the next character literal, all on UTF-8 bytes, as Redis compares (`?` is one
 * byte, so `h?llo` does not match `héllo`). Written here rather than taken from a glob library:
 * those follow shell or path rules (`*` stops at `/`, `**`, braces), which Redis does not.
 */

const GLOB_SPECIAL = /[*?[\]\\]/g;
const REGEXP_SPECIAL = /[.*+?^${}()|[\]\\/-]/g;

/** `text` as a glob that matches only itself. */
export function escapeGlob(text: string): string {
  return text.replace(GLOB_SPECIAL, (c) => `\\${c}`);
}

const NON_ASCII = /[^\x00-\x7f]/;

/** A string's UTF-8 bytes, one character each (latin1), so that a regular expression reads bytes. */
function bytes(text: string): string {
  return NON_ASCII.test(text) ? Buffer.from(text, 'utf8').toString('latin1') : text;
}

/** Tells whether a string matches `pattern` as Redis would match it. */
export function globMatcher(pattern: string): (text: string) => boolean {
  const regExp = globToRegExp(bytes(pattern));
  return (text) => regExp.test(bytes(text));
}

/** A regular expression matching whole strings as Redis matches `pattern`, character for byte. */
function globToRegExp(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '*') source += '[\\s\\S]*';
    else if (c === '?') source += '[\\s\\S]';
    else if (c === '\\' && i + 1 < pattern.length) source += literal(pattern[++i] as string);
    else if (c === '[' && pattern.indexOf(']', i + 2) !== -1) {
      const end = closingBracket(pattern, i);
      source += set(pattern.slice(i + 1, end));
      i = end;
    } else source += literal(c);
  }
  return new RegExp(`^${source}$`);
}

/** Where the set opened at `open` closes: the first `]` after its first member (`[]]` holds `]`). */
function closingBracket(pattern: string, open: number): number {
  let i = open + 1;
  if (pattern[i] === '^') i++;
  for (i++; i < pattern.length; i++) {
    if (pattern[i] === '\\') i++;
    else if (pattern[i] === ']') return i;
  }
  return pattern.length - 1;
}

function set(body: string): string {
  let negate = false;
  let i = 0;
  if (body[0] === '^') {
    negate = true;
    i = 1;
  }
  let members = '';
  for (; i < body.length; i++) {
    let c = body[i] as string;
    if (c === '\\' && i + 1 < body.length) c = body[++i] as string;
    if (body[i + 1] === '-' && i + 2 < body.length) {
      let to = body[i + 2] as string;
      i += 2;
      if (to === '\\' && i + 1 < body.length) to = body[++i] as string;
      // Redis accepts a reversed range (`[z-a]`) as the same range.
      const [low, high] = c <= to ? [c, to] : [to, c];
      members += `${literal(low)}-${literal(high)}`;
    } else members += literal(c);
  }
  return members === '' ? (negate ? '[\\s\\S]' : '(?!)') : `[${negate ? '^' : ''}${members}]`;
}

function literal(c: string): string {
  return c.replace(REGEXP_SPECIAL, (s) => `\\${s}`);
}
