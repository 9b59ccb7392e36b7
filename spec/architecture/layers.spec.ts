import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

// The dependency rule (docs/architecture.md) is checked by `npm run deps` on lib/. These tests prove the
// check would fail the build: each runs the same configuration on a small tree with one violation.

const ROOT = join(__dirname, '..', '..');
const CLI = join(ROOT, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');

/** Runs dependency-cruiser with the project's configuration on `files` (path -> source); returns the rules broken. */
function violations(files: Record<string, string>): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'cachet-layers-'));
  try {
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { module: 'commonjs', moduleResolution: 'node10' } }),
    );
    for (const [path, source] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), source);
    }
    let output: string;
    try {
      output = execFileSync(
        process.execPath,
        [CLI, '--config', join(ROOT, '.dependency-cruiser.cjs'), '--output-type', 'json', 'lib'],
        {
          cwd: dir,
          encoding: 'utf8',
        },
      );
    } catch (error) {
      // Violations make the command exit non-zero; its report is still on stdout.
      output = (error as { stdout: string }).stdout;
    }
    const report = JSON.parse(output) as { summary: { violations: { rule: { name: string } }[] } };
    return report.summary.violations.map((v) => v.rule.name).sort();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('the dependency rule', () => {
  it('accepts imports that point down the layers', () => {
    expect(
      violations({
        'lib/core/clock.ts': 'export const now = () => 1;',
        'lib/ports/store.ts': "import { now } from '../core/clock';\nexport const t = now;",
        'lib/cache/cache.ts': "import { t } from '../ports/store';\nexport const c = t;",
        'lib/redis/store.ts': "import { c } from '../cache/cache';\nexport const r = c;",
        'lib/index.ts': "export { c } from './cache/cache';",
      }),
    ).toEqual([]);
  });

  it('refuses a feature that imports a Redis backend, and a cycle between two features', () => {
    expect(
      violations({
        'lib/redis/store.ts': 'export const r = 1;',
        'lib/cache/cache.ts':
          "import { r } from '../redis/store';\nimport { l } from '../rate-limit/limiter';\nexport const c = r + l;",
        'lib/rate-limit/limiter.ts': "import { c } from '../cache/cache';\nexport const l = () => c;",
      }),
    ).toEqual([
      'backends-behind-ports',
      'independent-cache',
      'independent-rate-limit',
      'layer-cache-rate-limit-concurrency-resilience-ledger',
      'no-circular',
    ]);
  });

  it('keeps the semantic pieces on core alone: a port import is refused, a core import accepted', () => {
    expect(
      violations({
        'lib/core/clock.ts': 'export const now = () => 1;',
        'lib/ports/store.ts': 'export const t = 1;',
        'lib/semantic/guards.ts':
          "import { now } from '../core/clock';\nimport { t } from '../ports/store';\nexport const g = now() + t;",
      }),
    ).toEqual(['layer-decorate-codec-keys-semantic', 'semantic-core-only']);
  });

  it('refuses a lower layer that imports a higher one', () => {
    expect(
      violations({
        'lib/core/errors.ts': "import { x } from '../cache/cache';\nexport const e = x;",
        'lib/cache/cache.ts': 'export const x = 1;',
      }),
    ).toEqual(['layer-core']);
  });

  it('lets the command line reach Redis through cachet/redis alone, and nothing below it import the command line', () => {
    expect(
      violations({
        'lib/redis/store.ts': 'export const r = 1;',
        'lib/redis/index.ts': "export { r } from './store';",
        'lib/cli/stats.ts': "import { r } from '../redis';\nexport const s = r;",
        'lib/cli/keys.ts': "import { r } from '../redis/store';\nexport const k = r;",
        'lib/nestjs/module.ts': "import { s } from '../cli/stats';\nexport const m = s;",
      }),
    ).toEqual(['cli-through-redis-entry', 'layer-nestjs-ai-sdk-otel']);
  });
});
