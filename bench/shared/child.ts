/** What every bench child process (load generators, fleets, consoles) does the same way. */
import type { Message } from './procs.ts';

/** A bench child never outlives the bench: it exits when the IPC channel to the bench closes. */
export function exitWithParent(): void {
  process.on('disconnect', () => process.exit(3));
}

/** In a child: sends a message to the bench and resolves once it is handed over. */
export function sendToParent(m: Message): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send || !process.connected) return resolve();
    process.send(m, undefined, {}, () => resolve());
  });
}

/** Reads parsed command-line flags as non-negative numbers: `num('duration')`, throwing on anything else. */
export function numberFlags<F extends Record<string, unknown>>(flags: F): (name: keyof F & string) => number {
  return (name) => {
    const n = Number(flags[name]);
    if (!Number.isFinite(n) || n < 0)
      throw new Error(`--${name} must be a non-negative number, got ${String(flags[name])}`);
    return n;
  };
}
