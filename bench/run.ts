/**
 * cachet benchmarks. `npm run bench` runs every scenario; `npm run bench -- redis` runs those whose name
 * contains `redis` (several words select the union). Each scenario reports our figure beside a baseline
 * measured in the same run, and the target it should meet. `BENCH_SCALE=0.3` shortens every measurement.
 * Results also go to `$BENCH_JSON` (default: cachet-bench-latest.json in the OS temp directory).
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { aiSdk } from './scenarios/ai-sdk';
import { chatClient } from './scenarios/chat-client';
import { chatHit } from './scenarios/chat-hit';
import { clusterFailover } from './scenarios/cluster-failover';
import { importCost } from './scenarios/import-cost';
import { keyDerivation } from './scenarios/key-derivation';
import { keyListing } from './scenarios/key-listing';
import { memoryHit } from './scenarios/memory-hit';
import { otel } from './scenarios/otel';
import { rateLimit } from './scenarios/rate-limit';
import { redisHitLatency } from './scenarios/redis-hit-latency';
import { retrieval } from './scenarios/retrieval';
import { semantic } from './scenarios/semantic';
import { redisHitThroughput } from './scenarios/redis-hit-throughput';
import { router } from './scenarios/router';
import { stampede } from './scenarios/stampede';
import { semanticLookup } from './scenarios/semantic-lookup';
import { streamReplay } from './scenarios/stream-replay';
import { taggedWrites } from './scenarios/tagged-writes';
import { tiered } from './scenarios/tiered';
import { valueSizes } from './scenarios/value-sizes';
import { elapsedMs } from './support/measure';
import { connectRaw, deleteKeys, provideRedis, serverVersion, type BenchRedis } from './support/redis';
import { markdownTable, printScenarioResults, printScenarioStart, printSummary } from './support/reporter';
import type { BenchContext, Result, Scenario } from './support/scenario';

const SCENARIOS: readonly Scenario[] = [
  memoryHit,
  chatHit,
  aiSdk,
  redisHitLatency,
  redisHitThroughput,
  stampede,
  keyDerivation,
  rateLimit,
  chatClient,
  streamReplay,
  router,
  retrieval,
  semantic,
  semanticLookup,
  tiered,
  valueSizes,
  taggedWrites,
  keyListing,
  importCost,
  clusterFailover,
  otel,
];

async function main(): Promise<number> {
  const filters = process.argv.slice(2);
  const selected = SCENARIOS.filter((s) => filters.length === 0 || filters.some((f) => s.name.includes(f)));
  if (selected.length === 0) {
    console.error(`No scenario matches ${filters.join(', ')}. Scenarios: ${SCENARIOS.map((s) => s.name).join(', ')}`);
    return 2;
  }
  const scale = Number(process.env.BENCH_SCALE ?? '1');
  if (!(scale > 0)) throw new Error(`Expected BENCH_SCALE to be a positive number, got ${process.env.BENCH_SCALE}`);

  const runPrefix = `cachet-bench-${randomUUID().slice(0, 8)}`;
  let redis: Promise<BenchRedis> | undefined;
  // Ctrl-C must not leave our redis-server running.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.error(`\nbench: ${signal}, stopping`);
      void (redis ?? Promise.resolve(undefined)).then((r) => r?.stop()).finally(() => process.exit(130));
    });
  }
  const ctx: BenchContext = {
    redisUrl: async () => (await (redis ??= provideRedis())).url,
    prefix: (label) => `${runPrefix}-${label}`,
    ms: (ms) => ms * scale,
  };

  const started = process.hrtime.bigint();
  const lib = libVersion();
  console.log(
    `cachet bench · lib ${lib} · Node ${process.version} · ${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'} · scale ${scale}`,
  );
  console.log(`scenarios: ${selected.map((s) => s.name).join(', ')}`);

  const results: Result[] = [];
  const failures: string[] = [];
  try {
    for (const scenario of selected) {
      printScenarioStart(scenario);
      const scenarioStarted = process.hrtime.bigint();
      try {
        const rows = await scenario.run(ctx);
        results.push(...rows);
        printScenarioResults(rows);
        console.log(`  (${(elapsedMs(scenarioStarted) / 1000).toFixed(1)} s)`);
      } catch (error) {
        failures.push(`${scenario.name}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
        console.log(`  ERROR ${String(error)}`);
      }
    }
  } finally {
    if (redis !== undefined) await cleanUpRedis(await redis, runPrefix);
  }

  printSummary(results, failures);
  const file = process.env.BENCH_JSON || join(tmpdir(), 'cachet-bench-latest.json');
  const report = {
    date: new Date().toISOString(),
    lib,
    node: process.version,
    cpu: { model: cpus()[0]?.model.trim(), cores: cpus().length },
    scale,
    filters,
    durationMs: Math.round(elapsedMs(started)),
    results,
    errors: failures,
    markdown: markdownTable(results),
  };
  writeFileSync(file, JSON.stringify(report, null, 2) + '\n');
  console.log(`\n  ${(report.durationMs / 1000).toFixed(1)} s in total · JSON: ${file}`);
  return failures.length > 0 ? 1 : 0;
}

/** The commit measured, and which files under lib/ differ from it: `cbb24a8` or `cbb24a8+2 changed`. */
function libVersion(): string {
  const git = (...args: string[]): string =>
    execFileSync('git', args, {
      cwd: join(__dirname, '..'),
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  try {
    const changed = git('status', '--porcelain', '--', 'lib').split('\n').filter(Boolean).length;
    return git('rev-parse', '--short', 'HEAD') + (changed > 0 ? `+${changed} changed` : '');
  } catch {
    return 'unknown';
  }
}

/** Deletes this run's keys, and stops the redis-server if this run started it. */
async function cleanUpRedis(redis: BenchRedis, runPrefix: string): Promise<void> {
  try {
    const client = await connectRaw(redis.url);
    const version = await serverVersion(client);
    const deleted = await deleteKeys(client, runPrefix);
    await client.close();
    const where =
      redis.origin === 'own' ? `own redis-server ${version} at ${redis.url}` : `REDIS_URL (Redis ${version})`;
    console.log(`\n  Redis: ${where}; deleted ${deleted} bench keys`);
  } finally {
    await redis.stop();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
    // A scenario that leaked a socket or timer must not hang the run; say so instead.
    setTimeout(() => {
      console.error('bench: handles still open 2 s after the end; exiting anyway');
      process.exit(code);
    }, 2_000).unref();
  },
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);
