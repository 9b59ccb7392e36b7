import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { summarize } from '../support/measure';
import { atMost, exactly, row, type BenchContext, type Result, type Scenario } from '../support/scenario';

const NAME = 'import-cost';
const ROOT = resolve(__dirname, '..', '..');
/** The package built as users get it (CommonJS), inside the repository so that its dependencies resolve. */
const OUT = join(ROOT, '.bench-dist');
const RUNS = 7;

/**
 * Recorded at 78f7d9a, the commit before the entry points were split, on the project's 2-vCPU VM:
 * `require('cachet')` loaded the Redis client and undici with everything else. Not measured in this run.
 */
const BEFORE = {
  label: 'before (recorded at 78f7d9a)',
  modules: 877,
  redisModules: 647,
  undiciModules: 110,
  coldMs: 309,
} as const;

interface Load {
  readonly ms: number;
  readonly modules: number;
  readonly redis: number;
  readonly undici: number;
}

/**
 * Each case runs in a fresh Node process and times its own code there (Node's start-up excluded), then
 * counts the modules in `require.cache`. `$OUT` stands for the built package.
 */
const CASES = {
  cachet: `require('$OUT')`,
  // What `import { Cached } from 'cachet'` costs until the first hit: the legacy (NestJS) decorator call,
  // on the default cache, which must stay in memory and load nothing more when REDIS_URL is unset.
  cachedHit: `
    const { Cached, getDefaultCache } = require('$OUT');
    class Faq { async answer(question) { return question.length; } }
    const method = Object.getOwnPropertyDescriptor(Faq.prototype, 'answer');
    Object.defineProperty(Faq.prototype, 'answer', Cached({ ttl: '1m' })(Faq.prototype, 'answer', method) ?? method);
    const faq = new Faq();
    await faq.answer('What is the refund policy?');
    await faq.answer('What is the refund policy?');
    if (getDefaultCache().stats().total.hits !== 1) throw new Error('the second call was not a hit');`,
  cachetRedis: `require('$OUT/redis')`,
  cachetLlm: `require('$OUT/llm')`,
  redis: `require('redis')`,
  redisClient: `require('@redis/client')`,
  undici: `require('undici')`,
} as const;
type Case = keyof typeof CASES;

/** What loading cachet costs a process: modules and cold time of each entry point, in fresh processes. */
export const importCost: Scenario = {
  name: NAME,
  measures: `modules loaded and cold load time (median of ${RUNS} fresh processes) of require('cachet'), of a first @Cached hit, and of cachet/redis and cachet/llm`,
  baseline: `${BEFORE.label}: ${BEFORE.modules} modules (${BEFORE.redisModules} Redis client, ${BEFORE.undiciModules} undici), cold require ${BEFORE.coldMs} ms; same run: require('redis'), require('@redis/client'), require('undici')`,
  async run(ctx: BenchContext): Promise<Result[]> {
    build();
    const runs = Math.max(3, Math.round(RUNS * ctx.ms(1)));
    const names = Object.keys(CASES) as Case[];
    for (const name of names) load(name); // warm-up: file system caches alike for every case
    const samples = Object.fromEntries(names.map((name) => [name, [] as Load[]])) as Record<Case, Load[]>;
    for (let round = 0; round < runs; round++) for (const name of names) samples[name].push(load(name));

    const m = Object.fromEntries(names.map((name) => [name, median(samples[name])])) as Record<
      Case,
      Load & { spread: number; range: string }
    >;
    const timing = (c: Case): string => `${m[c].range} ms over ${runs} runs, spread ±${(m[c].spread * 50).toFixed(0)}%`;
    const loads = (c: Case): string => `${m[c].modules} modules (${m[c].redis} Redis client, ${m[c].undici} undici)`;
    return [
      row(
        NAME,
        `require('cachet') vs ${BEFORE.label}`,
        'ms',
        m.cachet.ms,
        BEFORE.coldMs,
        atMost(0.3),
        `${timing('cachet')}; ${loads('cachet')}; before: 279–389 ms over 5 runs`,
      ),
      row(
        NAME,
        `require('cachet'): modules vs ${BEFORE.label}`,
        'modules',
        m.cachet.modules,
        BEFORE.modules,
        undefined,
        loads('cachet'),
      ),
      row(
        NAME,
        `require('cachet'): Redis client modules vs before`,
        'modules',
        m.cachet.redis,
        BEFORE.redisModules,
        exactly(0),
      ),
      row(
        NAME,
        `require('cachet'): undici modules vs before`,
        'modules',
        m.cachet.undici,
        BEFORE.undiciModules,
        exactly(0),
      ),
      row(
        NAME,
        `require('cachet') vs require('redis') (same run)`,
        'ms',
        m.cachet.ms,
        m.redis.ms,
        undefined,
        `require('redis'): ${timing('redis')}, ${loads('redis')}`,
      ),
      row(
        NAME,
        'require + @Cached + first hit vs require alone',
        'ms',
        m.cachedHit.ms,
        m.cachet.ms,
        undefined,
        `${timing('cachedHit')}; ${loads('cachedHit')}`,
      ),
      row(
        NAME,
        `@Cached first hit: Redis + undici modules`,
        'modules',
        m.cachedHit.redis + m.cachedHit.undici,
        BEFORE.redisModules + BEFORE.undiciModules,
        exactly(0),
        'the default cache without REDIS_URL loads no client',
      ),
      row(
        NAME,
        `require('cachet/redis') vs require('redis')`,
        'ms',
        m.cachetRedis.ms,
        m.redis.ms,
        undefined,
        `${timing('cachetRedis')}; ${loads('cachetRedis')}`,
      ),
      row(
        NAME,
        `require('@redis/client') vs require('redis')`,
        'ms',
        m.redisClient.ms,
        m.redis.ms,
        undefined,
        `${timing('redisClient')}; ${loads('redisClient')} vs ${loads('redis')}`,
      ),
      row(
        NAME,
        `require('cachet/llm') vs require('undici')`,
        'ms',
        m.cachetLlm.ms,
        m.undici.ms,
        undefined,
        `${timing('cachetLlm')}; ${loads('cachetLlm')}; undici: ${timing('undici')}`,
      ),
    ];
  },
};

/** Compiles lib/ as the package build does, incrementally, without declarations or maps. */
function build(): void {
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const flags = [
    '--outDir',
    OUT,
    '--declaration',
    'false',
    '--declarationMap',
    'false',
    '--sourceMap',
    'false',
    '--inlineSources',
    'false',
  ];
  execFileSync(
    process.execPath,
    [
      tsc,
      '-p',
      join(ROOT, 'tsconfig.build.json'),
      ...flags,
      '--incremental',
      '--tsBuildInfoFile',
      join(OUT, '.tsbuildinfo'),
    ],
    { cwd: ROOT, stdio: 'inherit' },
  );
}

function load(name: Case): Load {
  const code = CASES[name].replaceAll('$OUT', OUT);
  const script = `(async () => {
    const started = process.hrtime.bigint();
    ${code};
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    const loaded = Object.keys(require.cache);
    const count = (pattern) => loaded.filter((path) => pattern.test(path)).length;
    process.stdout.write(JSON.stringify({
      ms,
      modules: loaded.length,
      redis: count(/[\\\\/]node_modules[\\\\/](redis|@redis[\\\\/][^\\\\/]+)[\\\\/]/),
      undici: count(/[\\\\/]node_modules[\\\\/]undici[\\\\/]/),
    }));
  })().catch((error) => { console.error(error); process.exit(1); });`;
  const env = { ...process.env };
  delete env.REDIS_URL; // the default cache must be the memory one
  return JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd: ROOT, env, encoding: 'utf8' })) as Load;
}

function median(samples: readonly Load[]): Load & { spread: number; range: string } {
  const times = summarize(samples.map((s) => s.ms));
  const sorted = samples.map((s) => s.ms).sort((a, b) => a - b);
  const first = samples[0] as Load;
  if (samples.some((s) => s.modules !== first.modules)) throw new Error(`${NAME}: module counts differ between runs`);
  return {
    ...first,
    ms: times.median,
    spread: times.spread,
    range: `${(sorted[0] as number).toFixed(0)}–${(sorted.at(-1) as number).toFixed(0)}`,
  };
}
