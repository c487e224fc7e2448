import { defineConfig } from 'vitest/config';

// the slow suites start whole platforms on their embedded SQLite records; a TEST_DATABASE_URL left in
// the environment (by .ci/run's PostgreSQL step, or a shell) would send them to PostgreSQL without the
// migrated template that only vitest.postgres.config.ts's global setup creates
delete process.env.TEST_DATABASE_URL;

/** Slow reliability tests (`npm run test:slow`): kill -9 loops, link loss, fuzzing, floods. One file at a time. */
export default defineConfig({
  test: {
    include: ['test/**/*.slow.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 60_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
