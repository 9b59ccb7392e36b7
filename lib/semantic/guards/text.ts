/** Text helpers the guards share: one normal form to compare in, and set equality. */

/** NFKC, lower case, straight apostrophes, single spaces: the form every guard compares in. */
export function normalise(text: string): string {
  return text.normalize('NFKC').toLowerCase().replace(/[’‘]/g, "'").replace(/\s+/g, ' ').trim();
}

/** Whether `x` and `y` hold the same items, ignoring order and repeats. */
export function sameSet(x: readonly string[], y: readonly string[]): boolean {
  const sx = new Set(x);
  const sy = new Set(y);
  return sx.size === sy.size && [...sx].every((item) => sy.has(item));
}
