import type { RedisConnection } from '../redis';

/** One Redis server's figures from `INFO`, as `cachet stats` shows them. */
export interface ServerInfo {
  /** `host:port`. */
  readonly address: string;
  readonly version: string;
  readonly usedMemoryBytes: number;
  /** Keys in every database together. */
  readonly keys: number;
  /** Lookups of existing keys (`keyspace_hits`), by every client of the server, cachet's or not. */
  readonly keyspaceHits: number;
  /** Lookups of missing keys (`keyspace_misses`). */
  readonly keyspaceMisses: number;
  readonly connectedClients: number;
  /** Commands per second, as the server sampled them lately (`instantaneous_ops_per_sec`). */
  readonly opsPerSecond: number;
  readonly totalCommandsProcessed: number;
}

/** `INFO` of every master (the one server, or each master of a cluster), in address order. */
export async function readServerInfo(redis: RedisConnection): Promise<ServerInfo[]> {
  const nodes = await redis.nodes();
  const infos = await Promise.all(
    nodes.map(async ({ address, client }) => parseInfo(address, await client.sendCommand<string>(['INFO']))),
  );
  return infos.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
}

/** The figures of {@link ServerInfo} from the text of `INFO`. */
export function parseInfo(address: string, text: string): ServerInfo {
  const field = (name: string) => new RegExp(`^${name}:(.*)$`, 'm').exec(text)?.[1]?.trim() ?? '';
  const number = (name: string) => Number(field(name)) || 0;
  let keys = 0;
  for (const match of text.matchAll(/^db\d+:keys=(\d+)/gm)) keys += Number(match[1]);
  return {
    address,
    version: field('redis_version'),
    usedMemoryBytes: number('used_memory'),
    keys,
    keyspaceHits: number('keyspace_hits'),
    keyspaceMisses: number('keyspace_misses'),
    connectedClients: number('connected_clients'),
    opsPerSecond: number('instantaneous_ops_per_sec'),
    totalCommandsProcessed: number('total_commands_processed'),
  };
}
