import { randomBytes } from 'node:crypto';
import { defineConfig } from 'vitest/config';

// the records on PostgreSQL (test/helpers/records.ts): one server, a database per test, all dropped at the end
process.env.TEST_DATABASE_URL ??= 'postgres://postgres@127.0.0.1:5432/postgres';
// the run's database name prefix, shared with the test workers (they inherit the environment)
process.env.PW_PG_RUN ??= randomBytes(4).toString('hex');

/** The records suites again with the records on PostgreSQL, and the PostgreSQL telemetry store (`npm run test:postgres`). */
export default defineConfig({
  test: {
    include: [
      'test/records/**/*.test.ts',
      'test/unit/registry.test.ts',
      'test/web/**/*.test.ts',
      'test/diagnostics/**/*.test.ts',
      'test/service/**/*.test.ts',
      'test/notifications/**/*.test.ts',
      'test/remote/**/*.test.ts',
      // /readyz's records check against a PostgreSQL that refuses connections
      'test/integration/readiness.test.ts',
      // the PostgreSQL telemetry store (skipped by npm test, which has no TEST_DATABASE_URL)
      'test/telemetry/postgres-*.test.ts',
      // several nodes on one PostgreSQL and one Redis (REDIS_URL; test/helpers/cluster.ts)
      'test/cluster/**/*.test.ts',
    ],
    exclude: [
      '**/node_modules/**',
      'test/**/*.slow.test.ts',
      // these never open the records (rule engine, limits, templates, configuration): npm test runs them
      'test/diagnostics/automatic-need.test.ts',
      'test/diagnostics/engine.test.ts',
      'test/diagnostics/limits.test.ts',
      'test/diagnostics/rule-files.test.ts',
      'test/diagnostics/scenarios.test.ts',
      'test/diagnostics/simulated-week.test.ts',
      'test/notifications/channel-config.test.ts',
      'test/notifications/config.test.ts',
      'test/notifications/templates.test.ts',
      'test/remote/roster.test.ts',
      'test/remote/telemetry-rate.test.ts',
    ],
    globalSetup: ['test/helpers/postgres-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // as npm test (vitest.config.ts): the modules are loaded once, not once per file
    isolate: false,
  },
});
