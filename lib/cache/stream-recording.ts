/**
 * A stream as the cache stores it: every chunk in order, and the milliseconds before each chunk
 * (since the previous one, or since the call for the first), so that a hit can replay at the recorded pace.
 */
export interface StreamRecording<T = unknown> {
  readonly chunks: readonly T[];
  readonly gaps: readonly number[];
}

/** How a hit replays a recorded stream; see {@link CachedStreamOptions.pace}. */
export type ResolvedPace = false | 'recorded' | { readonly everyMs: number };

/** Whether a stored value is a recording (an entry written by a non-stream method is not). */
export function isStreamRecording(value: unknown): value is StreamRecording {
  if (value === null || typeof value !== 'object') return false;
  const { chunks, gaps } = value as Partial<StreamRecording>;
  return Array.isArray(chunks) && Array.isArray(gaps) && gaps.length === chunks.length;
}

/** Yields a recording's chunks in order, waiting before each one as `pace` says. */
export async function* replayRecording<T>(recording: StreamRecording<T>, pace: ResolvedPace): AsyncGenerator<T, void> {
  const { chunks, gaps } = recording;
  for (let i = 0; i < chunks.length; i++) {
    if (pace !== false) {
      const waitMs = pace === 'recorded' ? gaps[i]! : pace.everyMs;
      if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
    }
    yield chunks[i]!;
  }
}
