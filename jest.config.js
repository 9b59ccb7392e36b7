const { redisSpecs } = require('./spec/support/redis-specs');

// Every suite runs once with legacy decorators (experimentalDecorators, the NestJS dialect); the decorator
// suites (`*.decorators.spec.ts`, beside each feature's specs) run a second time with TC39 standard decorators.
// Each dialect is two projects: the specs that need Redis (they import spec/support/redis*.ts, see
// spec/support/redis-specs.js) and the others. Only the Redis projects have the global setup that starts
// redis-server, and Jest runs a project's global setup only when one of its specs is selected: `npm run
// test:unit` (the projects `legacy` and `standard`), or any selection of specs that need no Redis, runs
// without a Redis.
// p-limit, its dependency yocto-queue and stemmer ship ESM only, so ts-jest transpiles them to CommonJS; so
// are ai 7 and @ai-sdk/openai-compatible 3 (the ai-v7 and @ai-sdk/openai-compatible-v3 aliases the AI SDK
// spec runs against), with every package under them, and what their provider-utils imports as ESM:
// @workflow/serde, and zod's `.js` files (`zod/v4/locales/en.js`; `require('zod')` loads zod's `.cjs` files,
// which stay as they are).
const esmOnly = ['p-limit', 'yocto-queue', 'stemmer'];
const esmOnlyTrees = ['ai-v7', '@ai-sdk/openai-compatible-v3', '@workflow/serde', 'zod'];
const transform = (tsconfig) => ({
  '^.+\\.ts$': ['ts-jest', { tsconfig, isolatedModules: false }],
  '^.+\\.js$': [
    'ts-jest',
    { tsconfig: { allowJs: true, module: 'commonjs', target: 'ES2022' }, isolatedModules: true },
  ],
});

const dialects = [
  { name: 'legacy', specs: '.spec.ts', tsconfig: '<rootDir>/tsconfig.json' },
  { name: 'standard', specs: '.decorators.spec.ts', tsconfig: '<rootDir>/spec/tsconfig.standard.json' },
];
const needRedis = redisSpecs(`${__dirname}/spec`);
const escape = (path) => path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

module.exports = {
  testTimeout: 30_000,
  projects: dialects.flatMap(({ name, specs, tsconfig }) => {
    const common = {
      testEnvironment: 'node',
      transformIgnorePatterns: [
        `^(?!.*/node_modules/(${esmOnlyTrees.join('|')})/).*/node_modules/(?!(${esmOnly.join('|')})/)`,
      ],
      globals: { __DECORATOR_DIALECT__: name },
      transform: transform(tsconfig),
    };
    return [
      {
        ...common,
        displayName: name,
        testMatch: [`<rootDir>/spec/**/*${specs}`],
        testPathIgnorePatterns: ['/node_modules/', ...needRedis.map((path) => `^${escape(path)}$`)],
      },
      {
        ...common,
        displayName: `${name}+redis`,
        testMatch: needRedis.filter((path) => path.endsWith(specs)),
        // One Redis for the whole run (see spec/support/global-setup.ts).
        globalSetup: '<rootDir>/spec/support/global-setup.ts',
        globalTeardown: '<rootDir>/spec/support/global-teardown.ts',
      },
    ];
  }),
};
