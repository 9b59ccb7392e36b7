// Two projects: every suite runs once with legacy decorators (experimentalDecorators, the NestJS dialect);
// the decorator suites (`*.decorators.spec.ts`, beside each feature's specs) run a second time with TC39 standard
// decorators.
// p-limit, its dependency yocto-queue and stemmer ship ESM only, so ts-jest transpiles them to CommonJS.
const esmOnly = ['p-limit', 'yocto-queue', 'stemmer'];
const common = {
  testEnvironment: 'node',
  transformIgnorePatterns: [`/node_modules/(?!(${esmOnly.join('|')})/)`],
};
const transform = (tsconfig) => ({
  '^.+\\.ts$': ['ts-jest', { tsconfig, isolatedModules: false }],
  '^.+\\.js$': ['ts-jest', { tsconfig: { allowJs: true, module: 'commonjs', target: 'ES2022' }, isolatedModules: true }],
});

module.exports = {
  testTimeout: 30_000,
  // One Redis for the whole run (see spec/support/global-setup.ts).
  globalSetup: '<rootDir>/spec/support/global-setup.ts',
  globalTeardown: '<rootDir>/spec/support/global-teardown.ts',
  projects: [
    {
      ...common,
      displayName: 'legacy',
      globals: { __DECORATOR_DIALECT__: 'legacy' },
      testMatch: ['<rootDir>/spec/**/*.spec.ts'],
      transform: transform('<rootDir>/tsconfig.json'),
    },
    {
      ...common,
      displayName: 'standard',
      globals: { __DECORATOR_DIALECT__: 'standard' },
      testMatch: ['<rootDir>/spec/**/*.decorators.spec.ts'],
      transform: transform('<rootDir>/spec/tsconfig.standard.json'),
    },
  ],
};
