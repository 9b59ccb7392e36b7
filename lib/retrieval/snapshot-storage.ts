import { readFile, rename, writeFile } from 'node:fs/promises';
import type { RedisClientLike } from '../redis/connection';
import { Bm25Index, SnapshotError } from './bm25-index';

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
 * Stores an index snapshot under a Redis key (base64, so any client and any RESP mode reads it back
 * intact), so that several instances share one build.
 * @example await saveSnapshotToRedis(index, client, 'faq:index');
 */
export async function saveSnapshotToRedis(index: Bm25Index, client: RedisClientLike, key: string): Promise<void> {
  await client.sendCommand(['SET', key, index.toSnapshot().toString('base64')]);
}

/** Loads an index stored by {@link saveSnapshotToRedis}; throws {@link SnapshotError} when the key is empty. */
export async function loadSnapshotFromRedis(client: RedisClientLike, key: string): Promise<Bm25Index> {
  const stored = await client.sendCommand<string | null>(['GET', key]);
  if (stored === null || stored === undefined) throw new SnapshotError(`Expected an index snapshot at Redis key "${key}", found none`);
  return Bm25Index.fromSnapshot(Buffer.from(stored, 'base64'));
}
