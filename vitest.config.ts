import { defineConfig } from 'vitest/config';

/** The main suite (`npm test`). Slow reliability tests (`*.slow.test.ts`) run in `npm run test:slow`. */
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['**/node_modules/**', 'test/**/*.slow.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: 'forks',
    // One worker process runs the files one after another (vitest's default on 2 cores) and keeps
    // the modules it has loaded: re-importing the platform for each of the ~225 files took about
    // 5 minutes of a 16-minute run. The parts are factories over injected state (a module holds constants
    // and caches, never a test's state), so a file sees nothing of the one before; a global a file
    // stubs, it restores (vi.unstubAllGlobals).
    isolate: false,
  },
});
