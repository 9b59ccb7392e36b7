import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnv } from 'node:util';

/** Settings read from the environment (and a `.env` file), for the default cache. */
export interface Settings {
  /** From `REDIS_URL`, or built from `REDIS_HOST`, `REDIS_PORT`, `REDIS_PASSWORD`, `REDIS_DB`. */
  readonly redisUrl: string | undefined;
  /** `CACHET_PREFIX`: first part of every key. */
  readonly prefix: string | undefined;
  /** `CACHET_TTL`: default time to live, e.g. `10m`. */
  readonly ttl: string | undefined;
}

/**
 * Reads cachet's settings. Variables already in the environment win over the `.env` file in `cwd`,
 * which is only read, never loaded into `process.env`.
 */
export function readSettings(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Settings {
  const file = join(cwd, '.env');
  const merged: Record<string, string | undefined> = existsSync(file)
    ? { ...parseEnv(readFileSync(file, 'utf8')), ...env }
    : env;
  return {
    redisUrl: redisUrlFrom(merged),
    prefix: merged.CACHET_PREFIX || undefined,
    ttl: merged.CACHET_TTL || undefined,
  };
}

function redisUrlFrom(env: Record<string, string | undefined>): string | undefined {
  if (env.REDIS_URL) return env.REDIS_URL;
  if (!env.REDIS_HOST) return undefined;
  const url = new URL('redis://');
  url.hostname = env.REDIS_HOST;
  if (env.REDIS_PORT) url.port = env.REDIS_PORT;
  if (env.REDIS_PASSWORD) url.password = env.REDIS_PASSWORD;
  if (env.REDIS_DB) url.pathname = `/${env.REDIS_DB}`;
  return url.toString();
}
