/** Deterministic unit vectors for the semantic lookup bench (xorshift), so runs compare. */

function xorshift(seed: number): () => number {
  let state = seed;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return ((state >>> 0) / 0xffffffff) * 2 - 1;
  };
}

function normalise(vector: Float32Array): Float32Array {
  let sum = 0;
  for (let i = 0; i < vector.length; i++) sum += (vector[i] as number) ** 2;
  const scale = 1 / Math.sqrt(sum);
  for (let i = 0; i < vector.length; i++) vector[i] = (vector[i] as number) * scale;
  return vector;
}

/** `count` random unit vectors (uniform in each coordinate, then normalised). */
export function unitVectors(count: number, dimensions: number, seed = 7): Float32Array[] {
  const next = xorshift(seed);
  return Array.from({ length: count }, () => normalise(Float32Array.from({ length: dimensions }, next)));
}

/** `vector` plus `weight` times a random unit vector, normalised: 0.2 gives a cosine of about 0.98 with it. */
export function nearby(vector: Float32Array, seed: number, weight = 0.2): Float32Array {
  const [noise] = unitVectors(1, vector.length, seed) as [Float32Array];
  return normalise(Float32Array.from(vector, (v, i) => v + weight * (noise[i] as number)));
}

/**
 * `count` vectors in clusters of about 100 around random centres (a cosine of about 0.6 with their
 * centre, as questions on one topic): neighbours that are close but not obvious, so recall means something.
 */
export function clusteredVectors(count: number, dimensions: number, seed = 13): Float32Array[] {
  const centres = unitVectors(Math.max(1, Math.round(count / 100)), dimensions, seed);
  const noise = unitVectors(count, dimensions, seed + 1);
  return noise.map((n, i) => {
    const centre = centres[i % centres.length] as Float32Array;
    return normalise(Float32Array.from(centre, (c, d) => c + 0.8 * (n[d] as number)));
  });
}
