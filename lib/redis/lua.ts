import { createHash } from 'node:crypto';
import type { RedisClientLike } from './connection';
import { COMMAND_OPTIONS } from './connection';

/** A Lua script with its SHA1, so it can be called by digest. */
export interface LuaScript {
  readonly name: string;
  readonly source: string;
  readonly sha1: string;
}

export function defineLua(name: string, source: string): LuaScript {
  return { name, source, sha1: createHash('sha1').update(source).digest('hex') };
}

/**
 * Runs a script by SHA (EVALSHA). Redis forgets scripts on restart or SCRIPT FLUSH; on NOSCRIPT the
 * source is sent once with EVAL, which also caches it again.
 */
export async function runLua<T>(
  client: RedisClientLike,
  script: LuaScript,
  keys: readonly string[],
  args: readonly string[],
): Promise<T> {
  const tail = [String(keys.length), ...keys, ...args];
  try {
    return await client.sendCommand<T>(['EVALSHA', script.sha1, ...tail], COMMAND_OPTIONS);
  } catch (error) {
    if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
    return client.sendCommand<T>(['EVAL', script.source, ...tail], COMMAND_OPTIONS);
  }
}
