import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { withTimeout } from '../helpers/platform.ts';

/** What the kill -9 tests of test/reliability share: the platform as its own process, a seeded PRNG, polling and ports. */

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** mulberry32: a small seeded PRNG, [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Polls `cond` every 50 ms until it holds; fails after `ms` naming `what`. */
export async function until(cond: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = performance.now() + ms;
  while (!(await cond())) {
    if (performance.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', () => resolve()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/**
 * Starts the platform as its own process (`node --import tsx platform/main.ts`, as `npm start` runs
 * it) on `dataDir`, listening on 127.0.0.1 (ports 0 unless `env` names them), with `env` added;
 * the child is pushed onto `children` (for the caller's clean-up) and resolves once it logged
 * "platform started".
 */
const outputs = new WeakMap<ChildProcess, () => string>();

/** What a process started by startPlatformProcess printed (its first 200,000 characters), for a failure's message. */
export function outputOf(p: ChildProcess): string {
  return outputs.get(p)?.() ?? '';
}

export function startPlatformProcess(
  children: ChildProcess[],
  dataDir: string,
  env: Record<string, string>,
): Promise<ChildProcess> {
  const p = spawn(process.execPath, ['--import', 'tsx', 'platform/main.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      MQTT_PORT: '0',
      MQTT_HOST: '127.0.0.1',
      HTTP_PORT: '0',
      HTTP_HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(p);
  let out = '';
  outputs.set(p, () => out);
  return withTimeout(
    new Promise<ChildProcess>((resolve, reject) => {
      p.stdout!.on('data', (c: Buffer) => {
        if (out.length < 200_000) out += c.toString('utf8');
        if (out.includes('platform started')) resolve(p);
      });
      p.stderr!.on('data', (c: Buffer) => {
        if (out.length < 200_000) out += c.toString('utf8');
      });
      p.on('exit', (code) => reject(new Error(`platform exited (${code}) before it started: ${out.slice(-2000)}`)));
    }),
    60_000,
    'the platform process to start',
  );
}

/** SIGKILL, resolved once the process is gone. */
export async function kill9(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const gone = new Promise((resolve) => p.once('exit', resolve));
  p.kill('SIGKILL');
  await gone;
}
