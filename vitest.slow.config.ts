import { defineConfig } from 'vitest/config';

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
