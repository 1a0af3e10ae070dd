// Three projects: unit specs sit beside the code and need nothing running; integration and e2e
// specs talk to a real PostgreSQL and a real nats-server (started privately when
// DATABASE_URL / NATS_URL are not given, see test/support/global-setup.mjs).
const fs = require('node:fs');
const swcConfig = JSON.parse(fs.readFileSync(`${__dirname}/.swcrc`, 'utf8'));
delete swcConfig.$schema;
delete swcConfig.jsc.baseUrl;
delete swcConfig.jsc.paths;

const shared = {
  rootDir: __dirname,
  testEnvironment: 'node',
  transform: { '^.+\\.(t|j)s$': ['@swc/jest', { ...swcConfig, swcrc: false }] },
  // jose 6 and content-disposition 2 (under @fastify/static 10) ship ESM only: let swc turn
  // them into CommonJS for jest, wherever npm nested them.
  transformIgnorePatterns: ['/node_modules/(?!(?:.*/node_modules/)?(?:jose|content-disposition)/)'],
  moduleNameMapper: {
    '^@app/security(|/.*)$': '<rootDir>/libs/security/src$1',
    '^@app/platform(|/.*)$': '<rootDir>/libs/platform/src$1',
  },
  modulePathIgnorePatterns: ['<rootDir>/dist/', '<rootDir>/.data/'],
};

module.exports = {
  // Specs run on two cores; integration specs each get their own databases and broker.
  maxWorkers: process.env.NATS_URL ? 1 : 2,
  // Integration specs start servers; a generous per-test limit (jest reads it from the root only).
  testTimeout: 30_000,
  projects: [
    { ...shared, displayName: 'unit', testMatch: ['<rootDir>/**/*.spec.ts'] },
    {
      ...shared,
      displayName: 'integration',
      testMatch: ['<rootDir>/**/*.int-spec.ts', '<rootDir>/**/*.e2e-spec.ts'],
      globalSetup: '<rootDir>/test/support/global-setup.mjs',
      globalTeardown: '<rootDir>/test/support/global-teardown.mjs',
    },
  ],
};
