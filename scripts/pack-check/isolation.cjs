// Loads each entry point of the installed package in a fresh process and checks what it brings in: the
// Redis client only with `cachet/redis`, the HTTP client (undici) only once a ChatClient is made,
// @opentelemetry only with `cachet/otel`, and no change to any global for any entry point.
// Run without arguments; it starts one child per case.
'use strict';
const { execFileSync } = require('node:child_process');

const CASES = [
  { specifier: 'cachet', format: 'commonjs', redis: false, undici: false },
  { specifier: 'cachet', format: 'module', redis: false, undici: false },
  { specifier: 'cachet/redis', format: 'commonjs', redis: true, undici: false },
  { specifier: 'cachet/llm', format: 'commonjs', redis: false, undici: false },
  { specifier: 'cachet/router', format: 'commonjs', redis: false, undici: false },
  { specifier: 'cachet/retrieval', format: 'commonjs', redis: false, undici: false },
  { specifier: 'cachet/testing', format: 'commonjs', redis: false, undici: false },
  { specifier: 'cachet/nestjs', format: 'commonjs', redis: false, undici: false },
  { specifier: 'cachet/nestjs', format: 'module', redis: false, undici: false },
  { specifier: 'cachet/ai-sdk', format: 'commonjs', redis: false, undici: false, ai: false },
  { specifier: 'cachet/ai-sdk', format: 'module', redis: false, undici: false, ai: false },
  { specifier: 'cachet/otel', format: 'commonjs', redis: false, undici: false, otel: true },
  { specifier: 'cachet/otel', format: 'module', redis: false, undici: false, otel: true },
];

// Global changes known to come from the library or its dependencies, with where they come from. They are
// reported, not failed on; any other change fails the check. Remove an entry once nothing makes it.
const KNOWN = [
  {
    test: /^Reflect(\.(decorate|metadata|defineMetadata|hasMetadata|hasOwnMetadata|getMetadata|getOwnMetadata|getMetadataKeys|getOwnMetadataKeys|deleteMetadata)|\[Symbol\(@reflect-metadata:registry\)\])$/,
    from: "reflect-metadata's global API, which @nestjs/common and @nestjs/core load (cachet/nestjs imports them); cachet itself only reads it",
  },
  {
    test: /^globalThis\.__[a-zA-Z]+$/,
    from: "tslib's CommonJS build (tslib.js) puts its helpers on the global object; async-mutex loads it, imported by lib/cache/fill-table.ts",
  },
  {
    test: /^globalThis\[Symbol\(undici\.globalDispatcher\.[12]\)\]$/,
    from: "undici installs its global dispatcher when it loads (undici/lib/global.js), so Node's fetch then uses it; loaded by the first ChatClient (lib/llm/chat-client.ts)",
  },
];

// The objects whose own properties are compared, by name: a new, removed or replaced property is a change.
const WATCHED = [
  'globalThis',
  'Reflect',
  'Symbol',
  'Object',
  'Object.prototype',
  'Function.prototype',
  'Array.prototype',
  'String.prototype',
  'Promise',
  'Promise.prototype',
  'Map.prototype',
  'Set.prototype',
  'Error',
  'JSON',
  'Math',
  'process',
];

// Runs in the child, stringified: everything it needs is in its parameter.
function child(watched) {
  // Node replaces process.chdir when node:worker_threads first loads (undici loads it): Node's own doing.
  process.getBuiltinModule('node:worker_threads');
  const snapshot = () => {
    const properties = new Map();
    for (const name of watched) {
      const object = name.split('.').reduce((parent, key) => (key === 'globalThis' ? parent : parent[key]), globalThis);
      for (const key of Reflect.ownKeys(object)) {
        const label = typeof key === 'symbol' ? `${name}[${String(key)}]` : `${name}.${key}`;
        properties.set(label, { object, descriptor: Object.getOwnPropertyDescriptor(object, key) });
      }
    }
    for (const event of [
      'exit',
      'beforeExit',
      'uncaughtException',
      'unhandledRejection',
      'warning',
      'SIGINT',
      'SIGTERM',
    ]) {
      properties.set(`process.listeners('${event}').length`, { descriptor: { value: process.listenerCount(event) } });
    }
    return properties;
  };
  const same = (before, after) => {
    if (before === undefined || after === undefined) return before === after;
    const [b, a] = [before.descriptor, after.descriptor];
    if (Object.is(b.value, a.value) && b.get === a.get && b.set === a.set) return true;
    // A lazy global (AbortController, Blob...) becomes a plain value the first time anything reads it: the
    // same value its getter returns, so not a change.
    return typeof b.get === 'function' && 'value' in a && Object.is(b.get.call(before.object), a.value);
  };
  const report = (before, loaded) => {
    const after = snapshot();
    const changed = [...new Set([...before.keys(), ...after.keys()])].filter(
      (key) => !same(before.get(key), after.get(key)),
    );
    const count = (pattern) => loaded.filter((path) => pattern.test(path)).length;
    const redis = count(/[\\/]node_modules[\\/](redis|@redis[\\/][^\\/]+)[\\/]/);
    const undici = count(/[\\/]node_modules[\\/]undici[\\/]/);
    const ai = count(/[\\/]node_modules[\\/](ai|@ai-sdk[\\/][^\\/]+)[\\/]/);
    const otel = count(/[\\/]node_modules[\\/]@opentelemetry[\\/]/);
    process.stdout.write(JSON.stringify({ modules: loaded.length, redis, undici, ai, otel, changed }));
  };
  return { snapshot, report };
}

function runCase({ specifier, format }) {
  const setup = `const { snapshot, report } = (${child})(${JSON.stringify(WATCHED)}); const before = snapshot();`;
  const args =
    format === 'commonjs'
      ? ['-e', `${setup} require(${JSON.stringify(specifier)}); report(before, Object.keys(require.cache));`]
      : [
          '--input-type=module',
          '-e',
          // CommonJS modules that an import loads land in the same require.cache.
          `import { createRequire } from 'node:module'; ${setup} await import(${JSON.stringify(specifier)}); report(before, Object.keys(createRequire(process.cwd() + '/').cache));`,
        ];
  return JSON.parse(execFileSync(process.execPath, args, { encoding: 'utf8' }));
}

let failures = 0;
for (const expected of CASES) {
  const got = runCase(expected);
  const problems = [];
  if (got.redis > 0 !== expected.redis)
    problems.push(expected.redis ? 'did not load the Redis client' : `loaded ${got.redis} Redis client modules`);
  if (got.undici > 0 !== expected.undici)
    problems.push(expected.undici ? 'did not load undici' : `loaded ${got.undici} undici modules`);
  // cachet/ai-sdk imports only the AI SDK's types: loading it loads no AI SDK code.
  if (expected.ai === false && got.ai > 0) problems.push(`loaded ${got.ai} AI SDK modules`);
  // @opentelemetry/api is an optional peer: only cachet/otel loads it.
  if (got.otel > 0 !== (expected.otel === true))
    problems.push(expected.otel ? 'did not load @opentelemetry/api' : `loaded ${got.otel} @opentelemetry modules`);
  const known = [];
  for (const key of got.changed) {
    const explanation = KNOWN.find((k) => k.test.test(key));
    if (explanation === undefined) problems.push(`changed the global ${key}`);
    else known.push({ key, from: explanation.from });
  }
  const label = `${expected.format === 'commonjs' ? 'require' : 'import'}('${expected.specifier}')`;
  console.log(
    `  ${label}: ${got.modules} modules (${got.redis} Redis client, ${got.undici} undici)${problems.length === 0 ? ': ok' : ''}`,
  );
  for (const problem of problems) console.log(`    FAIL: ${problem}`);
  for (const from of new Set(known.map((k) => k.from))) {
    const keys = known.filter((k) => k.from === from).map((k) => k.key);
    console.log(
      `    known: sets ${keys.slice(0, 3).join(', ')}${keys.length > 3 ? ` and ${keys.length - 3} more` : ''}: ${from}`,
    );
  }
  failures += problems.length;
}
if (failures > 0) process.exit(1);
