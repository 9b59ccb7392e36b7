import { createClient } from 'redis';
import { startRedisServer, type TestRedisServer } from '../../spec/support/redis-server';

/** Baseline keys expire on their own after this long, in case a run is killed before its clean-up. */
export const SAFETY_TTL_S = 600;

/** The baseline client: node-redis 6 exactly as `createClient({ url })` makes it (default options). */
const rawClient = (url: string) => createClient({ url });
export type RawClient = ReturnType<typeof rawClient>;

/** A Redis for the run: REDIS_URL when set, else a redis-server of our own on a free port. */
export interface BenchRedis {
  readonly url: string;
  /** `own` when this run started the server (and will stop it). */
  readonly origin: 'REDIS_URL' | 'own';
  stop(): Promise<void>;
}

export async function provideRedis(): Promise<BenchRedis> {
  const fromEnv = process.env.REDIS_URL;
  if (fromEnv) return { url: fromEnv, origin: 'REDIS_URL', stop: async () => {} };
  const server: TestRedisServer = await startRedisServer();
  return { url: server.url, origin: 'own', stop: () => server.stop() };
}

export async function connectRaw(url: string): Promise<RawClient> {
  const client = rawClient(url);
  client.on('error', () => {});
  await client.connect();
  return client;
}

/** The same client with node-redis's per-command timeout turned off, as RedisStore configures its own. */
export async function connectRawWithoutTimeout(url: string): Promise<RawClient> {
  const client = createClient({ url, commandOptions: { timeout: 0 } });
  client.on('error', () => {});
  await client.connect();
  return client as unknown as RawClient;
}

/** Deletes every key starting with `prefix`; returns how many there were. */
export async function deleteKeys(client: RawClient, prefix: string): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  do {
    const reply = await client.scan(cursor, { MATCH: `${prefix}*`, COUNT: 1_000 });
    cursor = String(reply.cursor);
    if (reply.keys.length > 0) deleted += await client.unlink(reply.keys);
  } while (cursor !== '0');
  return deleted;
}

/** `7.0.15` */
export async function serverVersion(client: RawClient): Promise<string> {
  const info = await client.info('server');
  return /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
}
