import { extname } from 'node:path';

/**
 * Where a worker thread's module is, beside the module that starts it (`from`: its
 * import.meta.url), and how the worker runs it: the .ts module under tsx or vitest, where a first
 * module registers tsx's loader in the worker (worker-tsx-loader.mjs); the .js module when built,
 * which needs nothing (the worker inherits the process's flags, as any worker does).
 */
export function workerModule(from: string, name: string): { url: URL; execArgv: string[] | undefined } {
  const ext = extname(new URL(from).pathname);
  return {
    url: new URL(`./${name}${ext}`, from),
    execArgv: ext === '.ts' ? ['--import', new URL('./worker-tsx-loader.mjs', import.meta.url).href] : undefined,
  };
}
