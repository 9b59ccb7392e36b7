import { readFile, rename, writeFile } from 'node:fs/promises';
import type { BlobStore } from '../ports/blob-store';
import { Bm25Index } from './bm25-index';
import { SnapshotError } from './bm25-snapshot';

/**
 * Writes an index snapshot to a file, atomically: a reader never sees half a snapshot.
 * @example await saveSnapshotFile(index, '/var/lib/app/faq.bm25');
 */
export async function saveSnapshotFile(index: Bm25Index, path: string): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, index.toSnapshot());
  await rename(temporary, path);
}

/** Loads an index from {@link saveSnapshotFile}'s file. */
export async function loadSnapshotFile(path: string): Promise<Bm25Index> {
  return Bm25Index.fromSnapshot(await readFile(path));
}

/**
 * Stores an index snapshot in a shared {@link BlobStore} (a `RedisBlobStore`), so that several instances
 * share one build.
 * @example await saveSnapshot(index, new RedisBlobStore({ url: process.env.REDIS_URL }), 'faq:index');
 */
export async function saveSnapshot(index: Bm25Index, store: BlobStore, key: string): Promise<void> {
  await store.setBlob(key, index.toSnapshot());
}

/** Loads an index stored by {@link saveSnapshot}; throws {@link SnapshotError} when there is none under `key`. */
export async function loadSnapshot(store: BlobStore, key: string): Promise<Bm25Index> {
  const stored = await store.getBlob(key);
  if (stored === undefined) throw new SnapshotError(`Expected an index snapshot under "${key}", found none`);
  return Bm25Index.fromSnapshot(stored);
}
