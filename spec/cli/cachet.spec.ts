import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cache, formatLedgerReport, PriceTable } from '../../lib';
import { chatKeyPolicy, type ChatCompletion, type ChatRequest } from '../../lib/llm';
import { RedisCostLedger, RedisStore } from '../../lib/redis';
import { LocalProvider } from '../../lib/testing';
import { cleanUpKeys, connectTestClient, testRedisUrl, uniquePrefix } from '../support/redis';
import { startRedisCluster, type TestRedisCluster } from '../support/redis-cluster';
import { freePort, startRedisServer } from '../support/redis-server';
import { connectCluster } from '../support/redis-target';
import { deferred, eventually } from '../support/async';
import { buildCli, type BuiltCli } from './cli-runner';

// The command line runs as a child process, built once, against the Redis of the run, which each test
// fills through the library as a service would.

let cli: BuiltCli;
beforeAll(() => {
  cli = buildCli();
}, 120_000);
afterAll(() => cli.remove());

const url = () => testRedisUrl();

/** A cache over the run's Redis, as a service makes it; closed (and its counters flushed) by the test. */
function serviceCache(prefix: string, sharedStats = false): Cache {
  return new Cache({ store: new RedisStore({ url: url() }), prefix, sharedStats });
}

describe('cachet: commands, options and help', () => {
  it('lists the commands with --help and exits 0; without a command it prints the same and exits 2', async () => {
    const help = await cli.run(['--help']);
    expect(help.code).toBe(0);
    for (const name of ['stats', 'ledger', 'keys', 'inspect', 'invalidate', 'warm'])
      expect(help.stdout).toMatch(new RegExp(`^  ${name} `, 'm'));
    expect(help.stdout).toContain('--url URL');
    const bare = await cli.run([]);
    expect(bare.code).toBe(2);
    expect(bare.stdout).toBe(help.stdout);
  });

  it('shows the options of one command with `<command> --help`, without connecting', async () => {
    const help = await cli.run(['invalidate', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: cachet invalidate --tag T\.\.\. \| --namespace N \| --key K\.\.\. \[--yes\]/);
    expect(help.stdout).toMatch(/^ {2}-y, --yes +Remove them$/m);
  });

  it('refuses an unknown command and an unknown option with exit code 2 and says what was wrong', async () => {
    const command = await cli.run(['stat']);
    expect(command.code).toBe(2);
    expect(command.stderr).toBe(
      'cachet: Unknown command `stat`: expected one of stats, ledger, keys, inspect, invalidate, warm (see `cachet --help`)\n',
    );
    const option = await cli.run(['stats', '--verbose', '--url', url()]);
    expect(option.code).toBe(2);
    expect(option.stderr).toMatch(/^cachet: Unknown option '--verbose'.*\(see `cachet stats --help`\)\n$/);
    const timeout = await cli.run(['stats', '--timeout', 'soon', '--url', url()]);
    expect(timeout.code).toBe(2);
    expect(timeout.stderr).toContain('Expected --timeout to be a duration such as 5s, 250ms or 2m, got `soon`');
  });

  it('asks for a Redis when neither --url nor REDIS_URL is given', async () => {
    const run = await cli.run(['stats']);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe('cachet: No Redis to talk to: pass --url redis://host:port or set REDIS_URL\n');
  });
});

describe('cachet: connection errors', () => {
  it('says the host cannot be reached, with exit code 3, for a port where no Redis listens', async () => {
    const port = await freePort();
    const run = await cli.run(['stats', '--url', `redis://127.0.0.1:${port}`]);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(new RegExp(`^cachet: Cannot reach Redis at 127\\.0\\.0\\.1:${port} \\(ECONNREFUSED`));
  });

  it('says the host name does not resolve, with exit code 3, for a name under .invalid', async () => {
    // `.invalid` is reserved (RFC 2606): the resolver answers that it does not exist without asking anyone.
    const run = await cli.run(['stats', '--url', 'redis://cachet-cli-test.invalid:6379']);
    expect(run.code).toBe(3);
    // ENOTFOUND from a resolver that answers; EAI_AGAIN from one with no DNS server to ask.
    expect(run.stderr).toMatch(
      new RegExp(
        '^cachet: Cannot reach Redis at cachet-cli-test\\.invalid:6379: the host name cachet-cli-test\\.invalid ' +
          'could not be resolved \\((ENOTFOUND|EAI_AGAIN)\\): check the host in the URL\n$',
      ),
    );
  });

  it('refuses a URL that is not redis://, with exit code 2', async () => {
    const run = await cli.run(['stats', '--url', 'http://127.0.0.1:6379']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('Expected `url` to be a redis:// or rediss:// URL');
  });

  it('says the credentials were refused, with exit code 4, for no password and for a wrong one', async () => {
    // Started open (the helper's readiness check is a PING), then closed with a password.
    const server = await startRedisServer();
    try {
      const admin = await connectTestClient(server.url);
      await admin.sendCommand(['CONFIG', 'SET', 'requirepass', 's3cret']);
      admin.destroy();
      const none = await cli.run(['stats', '--url', server.url]);
      expect(none.code).toBe(4);
      expect(none.stderr).toMatch(/^cachet: Redis at 127\.0\.0\.1:\d+ refused the credentials \(NOAUTH /);
      const wrong = await cli.run(['stats', '--url', `redis://:wrong@127.0.0.1:${server.port}`]);
      expect(wrong.code).toBe(4);
      expect(wrong.stderr).toMatch(/refused the credentials \(WRONGPASS .*check the password in the URL/);
      const right = await cli.run(['stats', '--url', `redis://:s3cret@127.0.0.1:${server.port}`]);
      expect(right.code).toBe(0);
    } finally {
      await server.stop();
    }
  });

  it('says a single server is not a cluster when --cluster is given, with exit code 3', async () => {
    const run = await cli.run(['stats', '--cluster', '--url', url()]);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/is a single Redis server, not a cluster/);
  });
});

describe('cachet stats', () => {
  const prefix = uniquePrefix('cli-stats');
  afterAll(() => cleanUpKeys(prefix));

  it('shows the shared counters by namespace and method, with hit rates, and each server’s INFO', async () => {
    const cache = serviceCache(prefix, true);
    const answer = cache.wrap(async (q: string) => q.toUpperCase(), { name: 'Faq.answer', namespace: 'faq' });
    const lookup = cache.wrap(async (id: number) => id * 2, { name: 'Users.lookup', namespace: 'users' });
    for (const q of ['a', 'a', 'a', 'b']) await answer(q); // 2 misses, 2 hits
    for (const id of [1, 2]) await lookup(id); // 2 misses
    await cache.close(); // sends the counters

    const json = await cli.run(['stats', '--url', url(), '--prefix', prefix, '--json']);
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout);
    expect(report.prefix).toBe(prefix);
    expect(report.namespaces.faq).toMatchObject({ hits: 2, misses: 2, fills: 2, hitRate: 0.5 });
    expect(report.namespaces.users).toMatchObject({ hits: 0, misses: 2, fills: 2, hitRate: 0 });
    expect(report.total).toMatchObject({ hits: 2, misses: 4, fills: 4 });
    expect(Object.keys(report.methods)).toEqual(['faq:Faq.answer', 'users:Users.lookup']);
    expect(report.servers).toHaveLength(1);
    expect(report.servers[0]).toMatchObject({ address: url().replace('redis://', '') });
    expect(report.servers[0].usedMemoryBytes).toBeGreaterThan(0);
    expect(report.servers[0].keys).toBeGreaterThan(0);
    expect(report.servers[0].keyspaceHits).toBeGreaterThan(0);
    expect(report.servers[0].connectedClients).toBeGreaterThan(0);

    // REDIS_URL and CACHET_PREFIX stand for --url and --prefix.
    const fromEnv = await cli.run(['stats', '--json'], { REDIS_URL: url(), CACHET_PREFIX: prefix });
    expect(JSON.parse(fromEnv.stdout).namespaces).toEqual(report.namespaces);

    const table = await cli.run(['stats', '--url', url(), '--prefix', prefix]);
    expect(table.code).toBe(0);
    const lines = table.stdout.split('\n');
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^namespace +lookups +hits +misses +coalesced +fills +bypassed +errors +hit rate +store hit rate$/,
      ),
    );
    expect(lines).toContainEqual(expect.stringMatching(/^faq +4 +2 +2 +0 +2 +0 +0 +50\.0% +50\.0%$/));
    expect(lines).toContainEqual(expect.stringMatching(/^users +2 +0 +2 +0 +2 +0 +0 +0\.0% +0\.0%$/));
    expect(lines).toContainEqual(expect.stringMatching(/^TOTAL +6 +2 +4 +0 +4 +0 +0 +33\.3% +33\.3%$/));
    expect(lines).toContainEqual(expect.stringMatching(/^faq:Faq\.answer +4 +2 +2 /));
    expect(lines).toContainEqual(
      expect.stringMatching(/^redis +version +used memory +keys +keyspace hits +keyspace misses +clients +ops\/sec$/),
    );
    // Aligned: every line of a table is as wide as its header, or narrower only by trailing spaces.
    const header = lines.findIndex((line) => line.startsWith('namespace'));
    const faqColumn = lines[header]!.indexOf('hit rate') + 'hit rate'.length;
    expect(lines[header + 1]!.slice(0, faqColumn)).toMatch(/%$/);
  });

  it('says when there are no shared counters under the prefix', async () => {
    const run = await cli.run(['stats', '--url', url(), '--prefix', uniquePrefix('cli-empty')]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      /^No shared counters in cli-empty-\w+:stats \(are the caches made with `sharedStats: true`\?\)/,
    );
  });
});

describe('cachet ledger', () => {
  const key = `${uniquePrefix('cli-ledger')}`;
  afterAll(() => cleanUpKeys(key));

  it('shows spent and saved by namespace, tenant and model, as formatLedgerReport does, and as JSON', async () => {
    const prices = new PriceTable({ 'gpt-4o-mini': { inputPer1K: 0.00015, outputPer1K: 0.0006 } });
    const ledger = new RedisCostLedger({ url: url(), key, prices });
    const usage = { promptTokens: 1000, completionTokens: 500 };
    ledger.recordFill({ namespace: 'chat', tenant: 'acme', model: 'gpt-4o-mini', usage });
    for (let i = 0; i < 3; i++) ledger.recordHit({ namespace: 'chat', tenant: 'acme', model: 'gpt-4o-mini', usage });
    ledger.recordFill({ namespace: 'search', tenant: 'zeta', model: 'gpt-4o-mini', usage });
    const expected = await ledger.report();
    await ledger.close();

    const table = await cli.run(['ledger', '--url', url(), '--ledger-key', key]);
    expect(table.code).toBe(0);
    expect(table.stdout).toBe(`${formatLedgerReport(expected)}\n`);
    expect(table.stdout).toMatch(
      /^chat \/ acme \/ gpt-4o-mini +4 +75\.0% +3 +1,500 +4,500 +\$0\.000450 +\$0\.001350$/m,
    );

    const json = await cli.run(['ledger', '--url', url(), '--ledger-key', key, '--tenant', 'zeta', '--json']);
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout);
    expect(report.rows).toEqual([expect.objectContaining({ namespace: 'search', tenant: 'zeta', fills: 1, hits: 0 })]);
    expect(report.total).toMatchObject({ calls: 1, tokensSpent: 1500, spentNanos: 450_000 });
  });

  it('says when the ledger has no rows', async () => {
    const run = await cli.run(['ledger', '--url', url(), '--ledger-key', uniquePrefix('cli-noledger')]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^No ledger rows in cli-noledger-\w+\n$/);
  });
});

describe('cachet keys and inspect', () => {
  const prefix = uniquePrefix('cli-keys');
  afterAll(() => cleanUpKeys(prefix));

  it('lists entry keys by namespace and method, up to --limit, and shows one entry with inspect', async () => {
    const cache = serviceCache(prefix);
    const answer = cache.wrap(async (q: string) => ({ text: q.toUpperCase() }), {
      name: 'Faq.answer',
      namespace: 'faq',
      ttl: '1h',
      tags: ['faq-set'],
    });
    const lookup = cache.wrap(async (id: number) => id, { name: 'Users.lookup', namespace: 'users' });
    for (const q of ['a', 'b', 'c']) await answer(q);
    await lookup(7);
    const details = await cache.peek(answer, 'b');
    await cache.close();

    const all = await cli.run(['keys', '--url', url(), '--prefix', prefix, '--json']);
    expect(all.code).toBe(0);
    const listed = JSON.parse(all.stdout);
    expect(listed.keys).toHaveLength(4);
    expect(listed.more).toBe(false);

    const faq = await cli.run(['keys', '--url', url(), '--prefix', prefix, '--namespace', 'faq']);
    const rows = faq.stdout.trimEnd().split('\n');
    expect(rows[0]).toMatch(/^namespace +method +kind +key$/);
    expect(rows.slice(1)).toHaveLength(3);
    for (const row of rows.slice(1))
      expect(row).toMatch(new RegExp(`^faq +Faq\\.answer +entry +${prefix}:faq:Faq\\.answer:`));

    const limited = await cli.run([
      'keys',
      '--url',
      url(),
      '--prefix',
      prefix,
      '--method',
      'Faq.answer',
      '--limit',
      '2',
    ]);
    expect(limited.stdout.trimEnd().split('\n')).toHaveLength(3);
    expect(limited.stderr).toBe('cachet: more than 2 keys match; showing the first 2 (raise --limit)\n');

    const inspected = await cli.run(['inspect', details!.key, '--url', url(), '--prefix', prefix, '--json']);
    expect(inspected.code).toBe(0);
    expect(JSON.parse(inspected.stdout)).toMatchObject({
      key: details!.key,
      namespace: 'faq',
      method: 'Faq.answer',
      value: { text: 'B' },
      tags: ['faq-set'],
      state: 'fresh',
      store: 'redis',
    });
    const table = await cli.run(['inspect', details!.key, '--url', url(), '--prefix', prefix]);
    expect(table.stdout).toMatch(/^value +\{"text":"B"\}$/m);
    expect(table.stdout).toMatch(/^expires +\d{4}-\d\d-\d\dT[\d:.]+Z \(in 59m \d+s\)$/m);
    expect(table.stdout).toMatch(/^tags +faq-set$/m);
  });

  it('says no entry is under a key with exit code 5, and refuses a key that is not an entry’s with exit code 2', async () => {
    const missing = `${prefix}:faq:Faq.answer:${'A'.repeat(43)}`;
    const none = await cli.run(['inspect', missing, '--url', url(), '--prefix', prefix]);
    expect(none.code).toBe(5);
    expect(none.stderr).toBe(`cachet: No entry under key \`${missing}\` (expired, removed, or never stored)\n`);
    const foreign = await cli.run(['inspect', 'cachet-ledger', '--url', url(), '--prefix', prefix]);
    expect(foreign.code).toBe(2);
    expect(foreign.stderr).toContain('Expected the key of a cachet entry');
    const noKey = await cli.run(['inspect', '--url', url()]);
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toContain('`cachet inspect` takes 1 argument, got 0');
  });
});

describe('cachet invalidate', () => {
  const prefix = uniquePrefix('cli-inv');
  afterAll(() => cleanUpKeys(prefix));

  async function keysLike(pattern: string): Promise<string[]> {
    const client = await connectTestClient();
    try {
      return await client.sendCommand<string[]>(['KEYS', pattern]);
    } finally {
      await client.close();
    }
  }

  /** Fills two tagged entries and one untagged in namespace `agents`, and one in `other`; returns their keys. */
  async function fill(): Promise<{ tagged: string[]; other: string }> {
    const cache = serviceCache(prefix);
    const config = cache.wrap(async (id: string) => ({ id }), {
      name: 'Agents.config',
      namespace: 'agents',
      tags: (_result: unknown, id: string) => (id === 'c' ? [] : ['agent-set']),
    });
    const other = cache.wrap(async (id: string) => id, { name: 'Other.get', namespace: 'other' });
    for (const id of ['a', 'b', 'c']) await config(id);
    await other('x');
    await cache.close();
    const keys = await keysLike(`${prefix}:*`);
    const agentKeys = keys.filter((k) => k.startsWith(`${prefix}:agents:`)).sort();
    expect(agentKeys).toHaveLength(3);
    return { tagged: agentKeys, other: keys.find((k) => k.startsWith(`${prefix}:other:`))! };
  }

  async function exists(...keys: string[]): Promise<number> {
    const client = await connectTestClient();
    try {
      return await client.sendCommand<number>(['EXISTS', ...keys]);
    } finally {
      await client.close();
    }
  }

  it('refuses to remove by tag without --yes, saying how many entries it would remove, then removes them with it', async () => {
    const { tagged, other } = await fill();
    const refused = await cli.run(['invalidate', '--url', url(), '--prefix', prefix, '--tag', 'agent-set']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe(
      `cachet: refusing to remove 2 entries tagged \`agent-set\` (prefix \`${prefix}\`) without --yes; run again with --yes to remove them\n`,
    );
    expect(await exists(...tagged)).toBe(3);

    const done = await cli.run(['invalidate', '--url', url(), '--prefix', prefix, '--tag', 'agent-set', '--yes']);
    expect(done.code).toBe(0);
    expect(done.stdout).toBe(`Removed 2 entries tagged \`agent-set\` (prefix \`${prefix}\`)\n`);
    expect(await exists(...tagged)).toBe(1);
    expect(await exists(other)).toBe(1);
  });

  it('refuses to clear a namespace without --yes (JSON says how many), and clears only that namespace with it', async () => {
    const { other } = await fill();
    const refused = await cli.run([
      'invalidate',
      '--url',
      url(),
      '--prefix',
      prefix,
      '--namespace',
      'agents',
      '--json',
    ]);
    expect(refused.code).toBe(2);
    expect(JSON.parse(refused.stdout)).toMatchObject({ refused: true, removed: 0, wouldRemove: 3 });
    expect(refused.stderr).toContain(`refusing to remove 3 entries of namespace \`agents\` (${prefix}:agents:*)`);

    const done = await cli.run([
      'invalidate',
      '--url',
      url(),
      '--prefix',
      prefix,
      '--namespace',
      'agents',
      '-y',
      '--json',
    ]);
    expect(done.code).toBe(0);
    expect(JSON.parse(done.stdout)).toMatchObject({ removed: 3 });
    expect(await keysLike(`${prefix}:agents:*`)).toEqual([]);
    expect(await exists(other)).toBe(1);
  });

  it('removes one entry by key with --yes, and refuses a key outside the prefix', async () => {
    const { tagged } = await fill();
    const refused = await cli.run(['invalidate', '--url', url(), '--prefix', prefix, '--key', tagged[0]!]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`refusing to remove 1 entry with key \`${tagged[0]}\``);
    const done = await cli.run(['invalidate', '--url', url(), '--prefix', prefix, '--key', tagged[0]!, '--yes']);
    expect(done.stdout).toBe(`Removed 1 entry with key \`${tagged[0]}\`\n`);
    expect(await exists(...tagged)).toBe(2);
    const outside = await cli.run([
      'invalidate',
      '--url',
      url(),
      '--prefix',
      prefix,
      '--key',
      'cachet-ledger',
      '--yes',
    ]);
    expect(outside.code).toBe(2);
    expect(outside.stderr).toContain(`Expected --key to be the key of an entry under \`${prefix}:\``);
  });

  it('invalidates a key while a service fills it: the fill running then does not store its value again', async () => {
    const cache = serviceCache(prefix);
    try {
      const gate = deferred<void>();
      let version = 1;
      let calls = 0;
      const read = cache.wrap(
        async (id: string) => {
          calls++;
          const seen = version;
          if (calls === 1) await gate.promise;
          return `${id}@${seen}`;
        },
        { name: 'Reader.read', namespace: 'reads' },
      );
      const missed: string[] = [];
      cache.on('miss', (event) => missed.push(event.key));
      const first = read('x'); // read version 1, then held before it stores it
      await eventually(() => calls === 1);
      version = 2;
      const run = await cli.run(['invalidate', '--url', url(), '--prefix', prefix, '--key', missed[0]!, '--yes']);
      expect(run.code).toBe(0);
      expect(run.stdout).toBe(`Removed 0 entries with key \`${missed[0]}\`\n`); // nothing was stored yet
      gate.resolve();
      expect(await first).toBe('x@1'); // the call made before the invalidation gets what it read...
      expect(await exists(missed[0]!)).toBe(0); // ...but its value was not stored again
      expect(await read('x')).toBe('x@2');
      expect(calls).toBe(2);
    } finally {
      await cache.close();
    }
  });

  it('says Redis did not take an invalidation, with exit code 1, when its writes time out', async () => {
    // A Redis of its own: writes are paused there, which would stall every other spec on the shared one.
    const server = await startRedisServer();
    const admin = await connectTestClient(server.url);
    try {
      const cache = new Cache({ store: new RedisStore({ url: server.url }), prefix });
      const config = cache.wrap(async (id: string) => ({ id }), { name: 'Agents.config', tags: () => ['paused'] });
      await config('a');
      await cache.close();
      // Reads and the handshake go on; INCR, scripts and UNLINK wait until the pause ends.
      await admin.sendCommand(['CLIENT', 'PAUSE', '60000', 'WRITE']);
      const run = await cli.run([
        'invalidate',
        '--url',
        server.url,
        '--prefix',
        prefix,
        '--tag',
        'paused',
        '--yes',
        '--timeout',
        '200ms',
      ]);
      expect(run.code).toBe(1);
      expect(run.stderr).toBe(
        'cachet: Redis did not take the invalidation (Store operation `invalidate` did not answer within 200 ms); ' +
          'nothing was queued: run the command again\n',
      );
      await admin.sendCommand(['CLIENT', 'UNPAUSE']);
      expect(await admin.sendCommand<number>(['SCARD', `${prefix}:tag:paused`])).toBe(1); // nothing removed
    } finally {
      await admin.sendCommand(['CLIENT', 'UNPAUSE']).catch(() => undefined);
      await admin.close();
      await server.stop();
    }
  });

  it('asks for exactly one of --tag, --namespace and --key', async () => {
    const run = await cli.run(['invalidate', '--url', url(), '--tag', 'a', '--namespace', 'b']);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      'cachet: Expected exactly one of --tag, --namespace and --key (see `cachet invalidate --help`)\n',
    );
  });
});

describe('cachet warm', () => {
  const prefix = uniquePrefix('cli-warm');
  const provider = new LocalProvider();
  let baseURL: string;
  beforeAll(async () => {
    baseURL = await provider.start();
  });
  afterAll(async () => {
    await provider.close();
    await cleanUpKeys(prefix);
  });

  /** A deterministic chat request (`temperature: 0`), or with `null` one that samples, which is not cached. */
  const ask = (text: string, temperature: 0 | null = 0): ChatRequest => ({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: text }],
    ...(temperature === null ? {} : { temperature }),
  });

  function writeLog(lines: readonly object[]): string {
    const path = join(tmpdir(), `${uniquePrefix('warm-log')}.jsonl`);
    writeFileSync(path, `${lines.map((line) => JSON.stringify(line)).join('\n')}\n`);
    return path;
  }

  it('fills the cache from a log so the service hits; a second run finds every call already cached', async () => {
    const log = writeLog([
      { namespace: 'support', method: 'Assistant.complete', tenant: 'acme', request: ask('Where is my order?') },
      { namespace: 'support', method: 'Assistant.complete', tenant: 'acme', request: ask('Where is my order?') },
      { namespace: 'support', method: 'Assistant.complete', tenant: 'acme', request: ask('How do I return it?') },
      { namespace: 'support', method: 'Assistant.complete', tenant: 'zeta', request: ask('Where is my order?') },
      { namespace: 'support', method: 'Assistant.complete', tenant: 'acme', request: ask('Tell me a joke', null) },
    ]);
    const args = ['warm', '--url', url(), '--prefix', prefix, '--from', log, '--provider-url', baseURL];
    const first = await cli.run([...args, '--json']);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toEqual({
      lines: 5,
      distinct: 3,
      warmed: 3,
      alreadyCached: 0,
      failed: 0,
      notCacheable: 1,
      errors: [],
    });
    expect(provider.requests).toBe(3);

    const second = await cli.run(args);
    expect(second.code).toBe(0);
    expect(second.stderr).toBe(''); // no progress bar when stdout is not a terminal
    expect(second.stdout).toMatch(
      /^calls +distinct +warmed +already cached +failed +not cacheable\n +5 +3 +0 +3 +0 +1\n$/,
    );
    expect(provider.requests).toBe(3);

    // The service, keyed as the log says, hits what the command filled.
    const cache = serviceCache(prefix);
    let called = 0;
    const complete = cache.wrap(
      async (_request: ChatRequest): Promise<ChatCompletion> => {
        called++;
        throw new Error('the provider should not be called');
      },
      { name: 'Assistant.complete', namespace: 'support', ttl: '1h', ...chatKeyPolicy({ tenant: () => 'acme' }) },
    );
    try {
      const answer = await complete(ask('How do I return it?'));
      expect(answer.choices[0]?.message.content).toEqual(expect.any(String));
      expect(called).toBe(0);
    } finally {
      await cache.close();
    }
  });

  it('counts a call the provider fails as failed, with exit code 1, and says why', async () => {
    provider.failNext(1, 400);
    const log = writeLog([{ namespace: 'support', request: ask('Never answered') }]);
    const run = await cli.run(['warm', '--url', url(), '--prefix', prefix, '--from', log, '--provider-url', baseURL]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/\n +1 +1 +0 +0 +1 +0\n$/);
    expect(run.stderr).toMatch(/^failed: support:ChatClient\.complete: .*400/);
  });

  it('refuses a log line that is not a call, naming the file and line, before calling anything', async () => {
    const log = writeLog([
      { namespace: 'support', request: ask('fine') },
      { namespace: 'support', prompt: 'hi' },
    ]);
    const before = provider.requests;
    const run = await cli.run(['warm', '--url', url(), '--from', log, '--provider-url', baseURL]);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      `cachet: ${log}:2: unknown field \`prompt\`; expected namespace, method, tenant, request\n`,
    );
    expect(provider.requests).toBe(before);
  });
});

describe('cachet on a Redis Cluster', () => {
  let cluster: TestRedisCluster;
  beforeAll(async () => {
    cluster = await startRedisCluster();
  }, 60_000);
  afterAll(() => cluster.stop());

  it('detects the cluster from one node and reads stats, keys and a namespace clear across its three masters', async () => {
    const prefix = uniquePrefix('cli-cluster');
    const client = await connectCluster(cluster.urls);
    const cache = new Cache({ store: new RedisStore({ client }), prefix, sharedStats: true });
    const answer = cache.wrap(async (q: string) => q, { name: 'Faq.answer', namespace: 'faq' });
    const questions = Array.from({ length: 24 }, (_, i) => `question ${i}`);
    for (const q of questions) await answer(q);
    for (const q of questions.slice(0, 6)) await answer(q);
    await cache.close();
    await client.close();
    const seed = cluster.urls[1]!;

    const stats = await cli.run(['stats', '--url', seed, '--prefix', prefix, '--json']);
    expect(stats.code).toBe(0);
    const report = JSON.parse(stats.stdout);
    expect(report.namespaces.faq).toMatchObject({ hits: 6, misses: 24, fills: 24 });
    expect(report.servers).toHaveLength(3);
    // The 24 entries spread over the masters: each holds some of them.
    expect(report.servers.every((server: { keys: number }) => server.keys > 0)).toBe(true);

    const keys = await cli.run(['keys', '--url', seed, '--prefix', prefix, '--json', '--limit', '100']);
    expect(JSON.parse(keys.stdout).keys).toHaveLength(24);

    const refused = await cli.run(['invalidate', '--url', seed, '--prefix', prefix, '--namespace', 'faq']);
    expect(refused.stderr).toContain('refusing to remove 24 entries of namespace `faq`');
    const cleared = await cli.run(['invalidate', '--url', seed, '--prefix', prefix, '--namespace', 'faq', '--yes']);
    expect(cleared.stdout).toBe(`Removed 24 entries of namespace \`faq\` (${prefix}:faq:*)\n`);
    const after = await cli.run(['keys', '--url', seed, '--prefix', prefix, '--json']);
    expect(JSON.parse(after.stdout).keys).toEqual([]);
  }, 60_000);
});
