import { escapeGlob, globMatcher } from '../../lib/keys/glob';

describe('Redis globs', () => {
  const matches = (pattern: string, text: string): boolean => globMatcher(pattern)(text);

  it('lets `*` cross `:` and `/`, and `?` stand for exactly one character', () => {
    expect(matches('a*z', 'a:b/c:z')).toBe(true);
    expect(matches('a?c', 'abc')).toBe(true);
    expect(matches('a?c', 'ac')).toBe(false);
    expect(matches('a*', 'b')).toBe(false);
  });

  it('reads sets, ranges (either way round) and negated sets', () => {
    expect(matches('h[ae]llo', 'hallo')).toBe(true);
    expect(matches('h[ae]llo', 'hillo')).toBe(false);
    expect(matches('h[a-c]llo', 'hbllo')).toBe(true);
    expect(matches('h[c-a]llo', 'hbllo')).toBe(true);
    expect(matches('h[^e]llo', 'hello')).toBe(false);
    expect(matches('h[^e]llo', 'hallo')).toBe(true);
  });

  it('takes a character after `\\` literally, and treats regular-expression characters as text', () => {
    expect(matches('a\\*b', 'a*b')).toBe(true);
    expect(matches('a\\*b', 'axb')).toBe(false);
    expect(matches('a.b(c)+$', 'a.b(c)+$')).toBe(true);
    expect(matches('a.b', 'axb')).toBe(false);
  });

  it('compares UTF-8 bytes, as Redis does: `?` is one byte, `é` two', () => {
    expect(matches('h?llo', 'héllo')).toBe(false);
    expect(matches('h??llo', 'héllo')).toBe(true);
    expect(matches('h[^e]llo', 'héllo')).toBe(false);
    expect(matches('héllo*', 'héllo wörld')).toBe(true);
  });

  it('escapes text so that it matches only itself', () => {
    const text = 'p:[x]*?\\y';
    expect(matches(escapeGlob(text), text)).toBe(true);
    expect(matches(`${escapeGlob(text)}*`, `${text}:more`)).toBe(true);
    expect(matches(escapeGlob(text), 'p:x')).toBe(false);
  });
});
