// Another instance: loads a Bm25Index snapshot from Redis and answers queries with it.
// Env: REDIS_URL, KEY, QUERIES (JSON array). Prints `ready`, waits for `go`, prints `{ result }`.
import { createInterface } from 'node:readline';
import { RedisBlobStore } from '../../../lib/redis';
import { loadSnapshot } from '../../../lib/retrieval';

async function main(): Promise<void> {
  const blobs = new RedisBlobStore({ url: process.env.REDIS_URL! });
  process.stdout.write('ready\n');
  await new Promise<void>((resolve) => createInterface({ input: process.stdin }).once('line', () => resolve()));
  const index = await loadSnapshot(blobs, process.env.KEY!);
  const queries = JSON.parse(process.env.QUERIES!) as string[];
  const answers = queries.map((q) =>
    index.search(q, { topK: 5 }).map((hit) => [hit.docId, hit.start, hit.end, hit.score]),
  );
  process.stdout.write(JSON.stringify({ result: { version: index.version, answers } }) + '\n');
  await blobs.close();
  process.exit(0);
}

main().catch((error: unknown) => {
  process.stderr.write(String((error as Error)?.stack ?? error));
  process.exit(1);
});
