// The dependency rule of lib/ (docs/architecture.md draws it): every folder may import only from the
// layers below it, and the features of one layer never import each other. `npm test` runs this check.
//
//   0  core                                       clock, durations, events, validation, errors, signals
//   1  decorate · codec · keys · semantic         the two-dialect decorator helper; value codec; cache keys;
//                                               semantic (guards, offline embedder, calibration: pure, core only,
//                                               used by the cache's semantic lookup)
//   2  ports                                      the interfaces backends implement
//   3  resources                                  named shared resources, looked up at call time
//   4  cache · rate-limit · concurrency · resilience · ledger   features, each with its decorator and memory backend
//   5  redis                                      every Redis backend (behind ports: only entry points name it)
//   6  llm                                        chat keys, the chat client, provider errors
//   7  router · retrieval · testing               services
//   8  nestjs · ai-sdk · otel                     the NestJS module (cachet/nestjs), the only importer of @nestjs/*;
//                                               the AI SDK middleware (cachet/ai-sdk), the only importer of ai, @ai-sdk/*;
//                                               OpenTelemetry (cachet/otel), the only importer of @opentelemetry/*
//   9  cli                                        the `cachet` command line (bin): an application of the library, above
//                                               every part of it; it reaches Redis through cachet/redis like users do
//  10  lib/*.ts                                   entry points
const LAYERS = [
  ['core'],
  ['decorate', 'codec', 'keys', 'semantic'],
  ['ports'],
  ['resources'],
  ['cache', 'rate-limit', 'concurrency', 'resilience', 'ledger'],
  ['redis'],
  ['llm'],
  ['router', 'retrieval', 'testing'],
  ['nestjs', 'ai-sdk', 'otel'],
  ['cli'],
];

const folder = (names) => `^lib/(${names.join('|')})/`;

const layerRules = LAYERS.flatMap((names, rank) => {
  const above = LAYERS.slice(rank + 1).flat();
  const rules = [];
  if (above.length > 0) {
    rules.push({
      name: `layer-${names.join('-')}`,
      comment: `${names.join(', ')} may not depend on a higher layer (${above.join(', ')}) or on an entry point`,
      severity: 'error',
      from: { path: folder(names) },
      to: { path: [folder(above), '^lib/[^/]+\\.ts$'] },
    });
  }
  for (const name of names) {
    const siblings = names.filter((other) => other !== name);
    if (siblings.length === 0) continue;
    rules.push({
      name: `independent-${name}`,
      comment: `${name} may not depend on another part of its layer (${siblings.join(', ')})`,
      severity: 'error',
      from: { path: folder([name]) },
      to: { path: folder(siblings) },
    });
  }
  return rules;
});

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'Modules must not load each other in a cycle (type-only imports vanish at run time)',
      severity: 'error',
      from: { path: '^lib/' },
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    ...layerRules,
    {
      name: 'semantic-core-only',
      comment: 'The semantic cache pieces are pure: of cachet they import core only (no ports, keys or codec yet)',
      severity: 'error',
      from: { path: '^lib/semantic/' },
      to: { path: '^lib/', pathNot: ['^lib/core/', '^lib/semantic/'] },
    },
    {
      name: 'hnswlib-behind-its-loader',
      comment: 'hnswlib-node is an optional peer: only its loader (lib/semantic/hnswlib.ts) requires it, on first use',
      severity: 'error',
      from: { path: '^lib/', pathNot: '^lib/semantic/hnswlib\\.ts$' },
      to: { path: 'hnswlib-node' },
    },
    {
      name: 'yaml-behind-the-config-file',
      comment:
        'yaml is an optional peer: only routerFromFile (lib/router/router-config-file.ts) requires it, for a .yaml file',
      severity: 'error',
      from: { path: '^lib/', pathNot: '^lib/router/router-config-file\\.ts$' },
      to: { path: 'node_modules/yaml/' },
    },
    {
      name: 'backends-behind-ports',
      comment:
        'Features and services reach Redis only through ports; only the entry points cachet and cachet/nestjs (lazily) and the command line name a Redis class',
      severity: 'error',
      from: { path: '^lib/', pathNot: ['^lib/redis/', '^lib/index\\.ts$', '^lib/nestjs/', '^lib/cli/'] },
      to: { path: '^lib/redis/' },
    },
    {
      name: 'cli-through-redis-entry',
      comment:
        'The command line uses Redis as users do: through cachet/redis (lib/redis/index.ts), never its inner files',
      severity: 'error',
      from: { path: '^lib/cli/' },
      to: { path: '^lib/redis/', pathNot: '^lib/redis/index\\.ts$' },
    },
    {
      name: 'redis-client-only-in-redis',
      comment: 'Only lib/redis talks to Redis: nothing else imports the Redis client',
      severity: 'error',
      from: { path: '^lib/', pathNot: '^lib/redis/' },
      to: { path: '^node_modules/(redis|@redis/[^/]+)/' },
    },
    {
      name: 'nestjs-only-in-nestjs',
      comment: 'Only lib/nestjs (cachet/nestjs) imports NestJS: the rest of cachet works without it',
      severity: 'error',
      from: { path: '^lib/', pathNot: '^lib/nestjs/' },
      to: { path: '^node_modules/@nestjs/' },
    },
    {
      name: 'ai-sdk-only-in-ai-sdk',
      comment: 'Only lib/ai-sdk (cachet/ai-sdk) imports the Vercel AI SDK: the rest of cachet works without it',
      severity: 'error',
      from: { path: '^lib/', pathNot: '^lib/ai-sdk/' },
      to: { path: '^node_modules/(ai|@ai-sdk/[^/]+)/' },
    },
    {
      name: 'otel-only-in-otel',
      comment: 'Only lib/otel (cachet/otel) imports OpenTelemetry: the rest of cachet loads nothing of it',
      severity: 'error',
      from: { path: '^lib/', pathNot: '^lib/otel/' },
      to: { path: '^node_modules/@opentelemetry/' },
    },
    {
      name: 'http-client-only-in-llm',
      comment: 'Only lib/llm sends HTTP to providers: nothing else imports undici',
      severity: 'error',
      from: { path: '^lib/', pathNot: '^lib/llm/' },
      to: { path: '^node_modules/undici/' },
    },
    {
      name: 'ports-are-types',
      comment: 'Ports hold interfaces and constants; they import nothing but core',
      severity: 'error',
      from: { path: '^lib/ports/' },
      to: { path: '^node_modules/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    includeOnly: ['^lib/', '^node_modules/'],
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
    },
    reporterOptions: {
      dot: { collapsePattern: '^lib/[^/]+/|^node_modules/(@[^/]+/)?[^/]+' },
    },
  },
};
