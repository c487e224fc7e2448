import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Children } from './procs.ts';

/**
 * A bench run's child processes and temp dir, both removed on every way out: the end of `main`,
 * an error, Ctrl-C (SIGINT, SIGTERM, SIGHUP) and, as a last resort, the process's 'exit'.
 * `name` is what the messages call the run ("bench", "soak"); with `keepData` the temp dir stays
 * and its path is printed at the end.
 */
export function benchLifecycle(options: { name: string; tempPrefix: string; keepData: boolean }) {
  const { name, keepData } = options;
  const note = (text: string) => process.stderr.write(text + '\n');
  const children = new Children();
  let tempDir: string | undefined;
  let cleaned = false;
  let cleaning: Promise<void> | undefined;
  const hooks: (() => Promise<void>)[] = [];

  // one clean-up, which every way out waits for: after Ctrl-C, `main` fails too (its children
  // are gone) and must not exit before the hooks (e.g. dropping the run's database) are done
  function cleanup(): Promise<void> {
    cleaning ??= (async () => {
      cleaned = true;
      await children.stopAll();
      for (const hook of hooks) await hook().catch((err: unknown) => note(`cleanup: ${String(err)}`));
      if (tempDir && !keepData) rmSync(tempDir, { recursive: true, force: true });
    })();
    return cleaning;
  }
  process.on('exit', () => {
    children.killAllNow();
    if (!cleaned && tempDir && !keepData) rmSync(tempDir, { recursive: true, force: true });
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      note(`\n${sig}: stopping the ${name}`);
      void cleanup().finally(() => process.exit(130));
    });
  }

  return {
    children,
    /** Creates the run's temp dir (once). */
    tempDir(): string {
      tempDir ??= mkdtempSync(join(tmpdir(), options.tempPrefix));
      return tempDir;
    },
    /** Runs `hook` at clean-up, after the children stopped (e.g. dropping a database the run created). */
    onCleanup(hook: () => Promise<void>): void {
      hooks.push(hook);
    },
    /** Runs `main`, cleans up, and exits with its code (1 on an error). */
    run(main: () => Promise<number>): void {
      main().then(
        async (code) => {
          await cleanup();
          if (keepData && tempDir) note(`data kept in ${tempDir}`);
          process.exit(code);
        },
        async (err: unknown) => {
          note(`${name} failed: ${err instanceof Error ? err.message : String(err)}`);
          await cleanup();
          process.exit(1);
        },
      );
    },
  };
}
