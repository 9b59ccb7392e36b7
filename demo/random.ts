/**
 * Seeded randomness, so that every run of the demo sees the same questions and the same model latencies.
 */

/** A uniform generator of numbers in [0, 1). */
export type Random = () => number;

/** mulberry32: tiny, fast and good enough for simulations (not for anything secret). */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** FNV-1a, to derive a seed from a text: the same prompt always draws the same numbers. */
export function hashText(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** Picks an index with probability proportional to its weight. */
export function weightedPick(random: Random, weights: readonly number[]): number {
  const total = weights.reduce((sum, w) => sum + w, 0);
  let point = random() * total;
  for (let i = 0; i < weights.length; i++) {
    point -= weights[i] as number;
    if (point < 0) return i;
  }
  return weights.length - 1;
}
