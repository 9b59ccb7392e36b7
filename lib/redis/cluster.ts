import type { RedisClientLike } from './connection';

/**
 * The slice of a node-redis cluster client (`createCluster()` from `redis` or `@redis/client`) that cachet
 * uses. Typed structurally, like {@link RedisClientLike}, to keep node-redis's generics out of cachet's
 * public types.
 */
export interface RedisClusterLike {
  readonly isOpen: boolean;
  readonly isReady: boolean;
  /** The master nodes as the client last discovered them; its presence tells a cluster from a client. */
  readonly masters: readonly unknown[];
  getSlotMaster(slot: number): unknown;
  /** A connected client of one node (from `masters`), for commands every master must run (`SCAN`). */
  nodeClient(node: unknown): Promise<unknown> | unknown;
  sendCommand<T = unknown>(
    firstKey: string | undefined,
    isReadonly: boolean | undefined,
    args: string[],
    options?: { timeout?: number },
  ): Promise<T>;
  duplicate(): RedisClusterLike;
  connect(): Promise<unknown>;
  on(event: string, listener: (...args: any[]) => void): unknown;
  subscribe(channel: string, listener: (message: string, channel: string) => void): Promise<void>;
  close(): Promise<void>;
  destroy(): void;
}

/** Tells a node-redis cluster client from a single-node client by shape (it knows its masters and slots). */
export function isClusterClient(client: unknown): client is RedisClusterLike {
  if (typeof client !== 'object' || client === null) return false;
  const candidate = client as Partial<RedisClusterLike>;
  return (
    typeof candidate.getSlotMaster === 'function' &&
    'masters' in candidate &&
    typeof candidate.sendCommand === 'function'
  );
}

/** Number of hash slots in a Redis Cluster. */
export const HASH_SLOTS = 16384;

const CRC16_TABLE = (() => {
  // CRC-16/XMODEM: polynomial 0x1021, initial value 0, no reflection, as the Redis Cluster spec requires.
  const table = new Uint16Array(256);
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    table[byte] = crc;
  }
  return table;
})();

/** CRC-16/XMODEM of `bytes` from `start` (inclusive) to `end` (exclusive). */
export function crc16(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let crc = 0;
  for (let i = start; i < end; i++) {
    crc = ((crc << 8) & 0xffff) ^ (CRC16_TABLE[((crc >> 8) ^ (bytes[i] as number)) & 0xff] as number);
  }
  return crc;
}

const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/**
 * The hash slot of a key (0 to 16383): CRC16 of its UTF-8 bytes modulo 16384. When the key holds a hash
 * tag — a `{` followed later by a `}` with at least one byte between them (the first `{` and the first `}`
 * after it) — only the tag is hashed, so `{user1}:a` and `{user1}:b` share a slot.
 */
export function hashSlot(key: string): number {
  const bytes = Buffer.from(key, 'utf8');
  const open = bytes.indexOf(OPEN_BRACE);
  if (open !== -1) {
    const close = bytes.indexOf(CLOSE_BRACE, open + 1);
    if (close > open + 1) return crc16(bytes, open + 1, close) % HASH_SLOTS;
  }
  return crc16(bytes) % HASH_SLOTS;
}

/** Positions of `keys` grouped by hash slot, in order of first appearance (positions ascending in each group). */
export function groupBySlot(keys: readonly string[]): number[][] {
  const groups = new Map<number, number[]>();
  keys.forEach((key, i) => {
    const slot = hashSlot(key);
    const group = groups.get(slot);
    if (group === undefined) groups.set(slot, [i]);
    else group.push(i);
  });
  return [...groups.values()];
}

/** Commands that name no key: node-redis routes them by its own command table (a random node, or all). */
const KEYLESS = new Set([
  'PING',
  'ECHO',
  'INFO',
  'TIME',
  'PUBLISH',
  'SCRIPT',
  'FUNCTION',
  'CLUSTER',
  'CONFIG',
  'COMMAND',
  'CLIENT',
  'DBSIZE',
  'FLUSHALL',
  'FLUSHDB',
  'RANDOMKEY',
  'SCAN',
  'KEYS',
  'WAIT',
  'LASTSAVE',
  'HELLO',
  'LATENCY',
  'SLOWLOG',
]);
/** Multi-key commands whose reply is one value per key, in order: sent once per slot, then reassembled. */
const PER_KEY_REPLY = new Set(['MGET']);
/** Multi-key commands whose reply is a count: sent once per slot, then summed. */
const COUNTING = new Set(['DEL', 'UNLINK', 'EXISTS', 'TOUCH']);
/** Script and function calls: `<command> <script|sha|name> <numkeys> <key>... <arg>...`. */
const SCRIPTED = new Set(['EVAL', 'EVALSHA', 'EVAL_RO', 'EVALSHA_RO', 'FCALL', 'FCALL_RO']);

/**
 * Presents a node-redis cluster client as a {@link RedisClientLike}, so the Redis components built on
 * single-node commands run unchanged on a cluster:
 * - a command is routed by its first key (`args[1]`, or the first of a script's KEYS); keyless commands are
 *   left to node-redis's routing; MOVED and ASK redirects are followed by node-redis;
 * - `MGET`, `DEL`, `UNLINK`, `EXISTS` and `TOUCH` over keys of several slots are split into one command per
 *   slot (a cluster refuses them with CROSSSLOT otherwise) and the replies joined back: values in key order,
 *   counts summed;
 * - `EVALSHA` goes to the node of its key, so the NOSCRIPT fallback to `EVAL` (see `runLua`) loads the
 *   script on that same node;
 * - every command goes to a master (`isReadonly: false`), even for a cluster made with `useReplicas`: a
 *   replica lags, and a cache must read its own writes and see live fill leases.
 *
 * The adapter owns nothing: closing it closes the cluster client it wraps.
 */
export class ClusterClientAdapter implements RedisClientLike {
  constructor(readonly cluster: RedisClusterLike) {}

  get isOpen(): boolean {
    return this.cluster.isOpen;
  }

  get isReady(): boolean {
    return this.cluster.isReady;
  }

  async sendCommand<T = unknown>(args: readonly string[], options?: { timeout?: number }): Promise<T> {
    const name = (args[0] ?? '').toUpperCase();
    if (PER_KEY_REPLY.has(name) && args.length > 2) return (await this.#perSlot(args, options, joinInKeyOrder)) as T;
    if (COUNTING.has(name) && args.length > 2) return (await this.#perSlot(args, options, sum)) as T;
    return this.cluster.sendCommand<T>(firstKeyOf(name, args), false, [...args], options);
  }

  duplicate(): RedisClientLike {
    return new ClusterClientAdapter(this.cluster.duplicate());
  }

  /** The addresses (`host:port`) of the masters, as the client last discovered them. */
  masterAddresses(): string[] {
    return this.cluster.masters.map((node) => (node as { address?: string }).address ?? '');
  }

  /**
   * The address (`host:port`) of the master that serves `key`, as the client last discovered the
   * topology; `undefined` before discovery. After a failover it names the promoted replica.
   */
  nodeOf(key: string): string | undefined {
    return (this.cluster.getSlotMaster(hashSlot(key)) as { address?: string } | undefined)?.address;
  }

  /** A client of the master at `address` (`host:port`), for a command any master can run (`PUBLISH`). */
  async masterClient(address: string): Promise<RedisClientLike> {
    const node = this.cluster.masters.find((master) => (master as { address?: string }).address === address);
    if (node === undefined) throw new Error(`No master at ${address}`);
    return (await this.cluster.nodeClient(node)) as RedisClientLike;
  }

  /** A client per master, for commands that must run on every one of them (`SCAN` for a prefix clear). */
  async masterClients(): Promise<RedisClientLike[]> {
    return Promise.all(
      this.cluster.masters.map(async (node) => (await this.cluster.nodeClient(node)) as RedisClientLike),
    );
  }

  connect(): Promise<unknown> {
    return this.cluster.connect();
  }

  on(event: 'error' | 'ready' | 'end', listener: (...args: any[]) => void): unknown {
    // A cluster client reports its own lifecycle as `connect` and `disconnect`.
    const mapped = event === 'ready' ? 'connect' : event === 'end' ? 'disconnect' : event;
    this.cluster.on(mapped, listener);
    return this;
  }

  /** Classic pub/sub: in a cluster a PUBLISH on any node reaches the subscribers of every node. */
  subscribe(channel: string, listener: (message: string, channel: string) => void): Promise<void> {
    return this.cluster.subscribe(channel, listener);
  }

  close(): Promise<void> {
    return this.cluster.close();
  }

  destroy(): void {
    this.cluster.destroy();
  }

  /** Sends `<command> <key>...` once per hash slot, concurrently, and combines the replies. */
  async #perSlot(
    args: readonly string[],
    options: { timeout?: number } | undefined,
    combine: (replies: unknown[], groups: number[][], keyCount: number) => unknown,
  ): Promise<unknown> {
    const [command, ...keys] = args as [string, ...string[]];
    const groups = groupBySlot(keys);
    if (groups.length === 1) return this.cluster.sendCommand(keys[0], false, [...args], options);
    const replies = await Promise.all(
      groups.map((positions) => {
        const slice = positions.map((i) => keys[i] as string);
        return this.cluster.sendCommand<unknown>(slice[0], false, [command, ...slice], options);
      }),
    );
    return combine(replies, groups, keys.length);
  }
}

function firstKeyOf(name: string, args: readonly string[]): string | undefined {
  if (KEYLESS.has(name)) return undefined;
  if (SCRIPTED.has(name)) return Number(args[2]) > 0 ? args[3] : undefined;
  return args[1];
}

function joinInKeyOrder(replies: unknown[], groups: number[][], keyCount: number): unknown[] {
  const values = new Array<unknown>(keyCount);
  groups.forEach((positions, g) => {
    const reply = replies[g] as unknown[];
    positions.forEach((position, j) => (values[position] = reply[j]));
  });
  return values;
}

function sum(replies: unknown[]): number {
  return replies.reduce<number>((total, reply) => total + Number(reply), 0);
}
