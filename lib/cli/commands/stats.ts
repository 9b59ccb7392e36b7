import { addCounters, newCounters, withRates, type RatedCounters } from '../../cache/stats';
import { EXIT, type ExitCode } from '../cli-error';
import type { Command, CommandContext } from '../command';
import { bytes, formatTable, grouped, percent } from '../format';
import { readServerInfo, type ServerInfo } from '../server-info';

/** `cachet stats`: the shared counters of every instance, by namespace and method, and Redis's `INFO`. */
export const statsCommand: Command = {
  name: 'stats',
  summary: 'Hit rates of every instance (sharedStats), by namespace and method, and Redis INFO figures',
  usage: '',
  details: [
    'Reads the counters that caches with `sharedStats: true` add up in Redis (<prefix>:stats), so the',
    "figures are those of every instance together, and each master's INFO: memory used, keys,",
    'keyspace hits and misses, connected clients and commands per second.',
  ].join('\n'),
  options: {},
  async run({ out, session }: CommandContext): Promise<ExitCode> {
    const s = await session();
    // A cache with sharedStats reads the totals through the same code the instances write them with.
    const report = await s.cache({ sharedStats: true }).report();
    const servers = await readServerInfo(s.redis);
    const namespaces = byNamespace(report.methods);
    if (out.json) {
      out.data({ prefix: s.prefix, total: report.total, namespaces, methods: report.methods, servers });
      return EXIT.ok;
    }
    const methods = Object.keys(report.methods).sort();
    if (methods.length === 0) {
      out.print(`No shared counters in ${s.prefix}:stats (are the caches made with \`sharedStats: true\`?)`);
    } else {
      out.print(`Shared counters of prefix \`${s.prefix}\`, every instance:\n`);
      out.print(counterTable('namespace', [...Object.entries(namespaces), ['TOTAL', report.total]]));
      out.print('');
      out.print(
        counterTable(
          'method',
          methods.map((m) => [m, report.methods[m]!] as const),
        ),
      );
    }
    out.print('');
    out.print(serverTable(servers));
    return EXIT.ok;
  },
};

/** Counters summed per namespace (the part of `namespace:Class.method` before the first `:`), sorted. */
function byNamespace(methods: Readonly<Record<string, RatedCounters>>): Record<string, RatedCounters> {
  const sums = new Map<string, ReturnType<typeof newCounters>>();
  for (const [method, counters] of Object.entries(methods)) {
    const namespace = method.slice(0, Math.max(0, method.indexOf(':'))) || '(none)';
    let sum = sums.get(namespace);
    if (sum === undefined) sums.set(namespace, (sum = newCounters()));
    addCounters(sum, counters);
  }
  return Object.fromEntries([...sums.keys()].sort().map((name) => [name, withRates(sums.get(name)!)]));
}

function counterTable(label: string, rows: readonly (readonly [string, RatedCounters])[]): string {
  return formatTable(
    [label, 'lookups', 'hits', 'misses', 'coalesced', 'fills', 'bypassed', 'errors', 'hit rate', 'store hit rate'].map(
      (header) => ({ header }),
    ),
    rows.map(([name, c]) => [
      name,
      grouped(c.hits + c.semanticHits + c.misses),
      grouped(c.hits),
      grouped(c.misses),
      grouped(c.coalesced),
      grouped(c.fills),
      grouped(c.bypassed),
      grouped(c.storeErrors + c.decodeErrors + c.encodeErrors),
      percent(c.hitRate),
      percent(c.storeHitRate),
    ]),
  );
}

function serverTable(servers: readonly ServerInfo[]): string {
  return formatTable(
    ['redis', 'version', 'used memory', 'keys', 'keyspace hits', 'keyspace misses', 'clients', 'ops/sec'].map(
      (header) => ({ header }),
    ),
    servers.map((s) => [
      s.address,
      s.version,
      bytes(s.usedMemoryBytes),
      grouped(s.keys),
      grouped(s.keyspaceHits),
      grouped(s.keyspaceMisses),
      grouped(s.connectedClients),
      grouped(s.opsPerSecond),
    ]),
  );
}
