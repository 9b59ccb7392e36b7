import { gunzipSync, gzipSync } from 'node:zlib';
import { CachetError } from '../core/errors';
import type { Bm25Options, ResolvedBm25 } from './bm25-options';

/**
 * The snapshot format of {@link Bm25Index}: gzipped JSON holding the options, a dictionary of terms, and
 * per document its text and, per chunk, its bounds and term frequencies (by term number).
 */

/** A snapshot that is not one, or was made by an incompatible version. */
export class SnapshotError extends CachetError {
  readonly code = 'ERR_CACHET_SNAPSHOT';
}

const SNAPSHOT_FORMAT = 'cachet-bm25';

/**
 * Changes whenever the terms of a text change (a snapshot holds terms, not text), and is part of
 * {@link Bm25Index.version}, so that instances tokenising differently never share cached searches.
 * 2: stemming by the `stemmer` package (version 1's own Porter code stemmed 16 reference words apart).
 */
export const SNAPSHOT_VERSION = 2;

/** A snapshot as stored. */
export interface SnapshotBody {
  readonly format: string;
  readonly version: number;
  readonly options: Bm25Options;
  readonly terms: readonly string[];
  readonly docs: readonly {
    readonly id: string;
    readonly text: string;
    readonly chunks: readonly [number, number, number[], number[]][];
  }[];
}

/** A document to store: its text and, per chunk, its bounds and term frequencies. */
export interface SnapshotDocument {
  readonly id: string;
  readonly text: string;
  readonly chunks: readonly {
    readonly start: number;
    readonly end: number;
    readonly terms: ReadonlyMap<string, number>;
  }[];
}

/** The snapshot of `docs` indexed with `options`, numbering terms in the order they are met. */
export function encodeSnapshot(options: ResolvedBm25, documents: readonly SnapshotDocument[]): Buffer {
  const dictionary = new Map<string, number>();
  const docs = documents.map((doc) => ({
    id: doc.id,
    text: doc.text,
    chunks: doc.chunks.map((stored) => {
      const termIds: number[] = [];
      const tfs: number[] = [];
      for (const [term, tf] of stored.terms) {
        let termId = dictionary.get(term);
        if (termId === undefined) dictionary.set(term, (termId = dictionary.size));
        termIds.push(termId);
        tfs.push(tf);
      }
      return [stored.start, stored.end, termIds, tfs];
    }),
  }));
  const body = {
    format: SNAPSHOT_FORMAT,
    version: SNAPSHOT_VERSION,
    options,
    terms: [...dictionary.keys()],
    docs,
  };
  return gzipSync(JSON.stringify(body));
}

/** The body of a snapshot; throws {@link SnapshotError} for bytes that are not one, or of another version. */
export function decodeSnapshot(snapshot: Buffer | Uint8Array): SnapshotBody {
  let body: SnapshotBody;
  try {
    body = JSON.parse(gunzipSync(snapshot).toString('utf8')) as SnapshotBody;
  } catch (error) {
    throw new SnapshotError('Expected a Bm25Index snapshot (gzipped JSON), got bytes that are not one', {
      cause: error,
    });
  }
  if (body?.format !== SNAPSHOT_FORMAT || body.version !== SNAPSHOT_VERSION) {
    throw new SnapshotError(
      `Expected a ${SNAPSHOT_FORMAT} snapshot of version ${SNAPSHOT_VERSION}, got ${String(body?.format)} ${String(body?.version)}`,
    );
  }
  return body;
}
