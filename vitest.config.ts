import { defineConfig } from 'vitest/config';

/** The main suite (`npm test`). Slow reliability tests (`*.slow.test.ts`) run in `npm run test:slow`. */
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['**/node_modules/**', 'test/**/*.slow.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: 'forks',
  },
});
