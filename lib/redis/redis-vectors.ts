import type { Clock } from '../core/clock';
import type { NoticeBus } from '../ports/notice-bus';
import type { SemanticVectors, VectorRecord } from '../ports/semantic-vectors';
import { COMMAND_OPTIONS } from './connection';
import { defineLua, runLua } from './lua';
import type { GuardedSend } from './tag-index';

/** Channel on which new questions are announced to every instance. */
export const SEMANTIC_CHANNEL = 'cachet:semantic';

// Adds a question to its partition's hash and keeps the hash at least as long as the entry.
const ADD = defineLua(
  'cachet-semantic-add',
  `redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
local ttl = redis.call('PTTL', KEYS[1])
if ttl >= 0 and ttl < tonumber(ARGV[3]) or ttl == -1 then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
return 1`,
);

/**
 * The semantic cache's questions in Redis: one hash per partition (a single key, so one master on a
 * cluster), field = the entry's key, value = `<expiresAt> <base64 vector> <question>`. The hash lives as
 * long as its longest-lived entry; a field whose entry expired is skipped and removed when read, and the
 * cache removes one whose entry it finds gone. Additions are published on the store's notice bus.
 */
export class RedisVectors implements SemanticVectors {
  constructor(
    private readonly send: GuardedSend,
    private readonly notices: NoticeBus,
    private readonly clock: Clock,
  ) {}

  async add(partitionKey: string, record: VectorRecord): Promise<void> {
    const text = formatRecord(record);
    const px = String(Math.max(1, Math.ceil(record.expiresAt - this.clock.now())));
    await this.send('semantic add', partitionKey, (client) =>
      runLua<number>(client, ADD, [partitionKey], [record.key, text, px]),
    );
    await this.notices.publish(SEMANTIC_CHANNEL, JSON.stringify([partitionKey, record.key, text]));
  }

  async load(partitionKey: string): Promise<VectorRecord[]> {
    const reply = await this.send('semantic load', partitionKey, (client) =>
      client.sendCommand<string[] | Map<string, string> | Record<string, string>>(
        ['HGETALL', partitionKey],
        COMMAND_OPTIONS,
      ),
    );
    // RESP2 answers a flat array; a RESP3 client may answer a map or an object.
    const entries: [string, string][] = [];
    if (Array.isArray(reply)) {
      for (let i = 0; i + 1 < reply.length; i += 2) entries.push([String(reply[i]), String(reply[i + 1])]);
    } else if (reply instanceof Map) {
      for (const [field, value] of reply) entries.push([String(field), String(value)]);
    } else {
      for (const [field, value] of Object.entries(reply)) entries.push([field, String(value)]);
    }
    const now = this.clock.now();
    const records: VectorRecord[] = [];
    const expired: string[] = [];
    for (const [field, value] of entries) {
      const record = parseRecord(field, value);
      if (record === undefined || record.expiresAt <= now) expired.push(field);
      else records.push(record);
    }
    if (expired.length > 0) await this.#hdel(partitionKey, expired);
    return records;
  }

  remove(partitionKey: string, key: string): Promise<void> {
    return this.#hdel(partitionKey, [key]);
  }

  subscribe(listener: (partitionKey: string, record: VectorRecord) => void): Promise<() => void> {
    return this.notices.subscribe(SEMANTIC_CHANNEL, (message) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(message);
      } catch {
        return;
      }
      if (!Array.isArray(parsed) || parsed.length !== 3) return;
      const [partitionKey, key, text] = parsed as unknown[];
      if (typeof partitionKey !== 'string' || typeof key !== 'string' || typeof text !== 'string') return;
      const record = parseRecord(key, text);
      if (record !== undefined && record.expiresAt > this.clock.now()) listener(partitionKey, record);
    });
  }

  async #hdel(partitionKey: string, keys: readonly string[]): Promise<void> {
    await this.send('semantic remove', partitionKey, (client) =>
      client.sendCommand<number>(['HDEL', partitionKey, ...keys], COMMAND_OPTIONS),
    );
  }
}

function formatRecord(record: VectorRecord): string {
  const { vector } = record;
  const base64 = Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength).toString('base64');
  return `${record.expiresAt} ${base64} ${record.question}`;
}

function parseRecord(key: string, text: string): VectorRecord | undefined {
  const first = text.indexOf(' ');
  const second = first < 0 ? -1 : text.indexOf(' ', first + 1);
  if (second < 0) return undefined;
  const expiresAt = Number(text.slice(0, first));
  const bytes = Buffer.from(text.slice(first + 1, second), 'base64');
  if (!Number.isFinite(expiresAt) || bytes.length === 0 || bytes.length % 4 !== 0) return undefined;
  // A copy: the buffer may sit at an offset not aligned for a Float32Array.
  const vector = new Float32Array(bytes.length / 4);
  new Uint8Array(vector.buffer).set(bytes);
  return { key, question: text.slice(second + 1), vector, expiresAt };
}
