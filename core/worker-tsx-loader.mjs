// Loaded with `--import` by the writer thread when the platform runs from its TypeScript sources
// (tsx, vitest; see core/worker-module.ts): registers tsx's loader in the
// worker, so that it can load .ts modules. (`--import tsx` does not: on Node 20 tsx registers
// itself in the main thread only.) The built JavaScript never loads this file.
import { register } from 'tsx/esm/api';

register();
