import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

// @opentelemetry/api is an optional peer: nothing but cachet/otel may load it. One child process loads
// every entry point from source in turn and counts the @opentelemetry modules in require.cache after each.
// (The pack check does the same for the built package, in both module formats.)

const ROOT = join(__dirname, '..', '..');
const ENTRY_POINTS = ['index', 'redis', 'llm', 'router', 'retrieval', 'testing', 'nestjs', 'ai-sdk', 'otel'];

const CHILD = `
require('ts-node').register({ transpileOnly: true, project: ${JSON.stringify(join(ROOT, 'tsconfig.json'))} });
const loaded = () => Object.keys(require.cache).filter((path) => /[\\\\/]node_modules[\\\\/]@opentelemetry[\\\\/]/.test(path)).length;
const counts = {};
for (const entry of ${JSON.stringify(ENTRY_POINTS)}) {
  require(${JSON.stringify(join(ROOT, 'lib'))} + (entry === 'index' ? '/index.ts' : '/' + entry + '/index.ts'));
  counts[entry] = loaded();
}
process.stdout.write(JSON.stringify(counts));
`;

describe('cachet/otel isolation', () => {
  it('loads @opentelemetry only with cachet/otel: every other entry point loads none of it', () => {
    const counts = JSON.parse(execFileSync(process.execPath, ['-e', CHILD], { cwd: ROOT, encoding: 'utf8' })) as Record<
      string,
      number
    >;
    const { otel, ...others } = counts;
    expect(others).toEqual(Object.fromEntries(ENTRY_POINTS.filter((e) => e !== 'otel').map((e) => [e, 0])));
    // The count can see a load: cachet/otel brings in the API.
    expect(otel).toBeGreaterThan(0);
  });
});
