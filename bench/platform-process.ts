import { execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Children, exited, freePort, nodeCommand, sleep, waitForPort } from './shared/procs.ts';
import { inspectorUrlIn, type BreakdownSource } from './shared/breakdown.ts';

/** The platform as its own process, for the benches that measure it from outside (bench:live, bench:soak). */
export interface PlatformProcess {
  child: ChildProcess;
  pid: number;
  mqttPort: number;
  httpPort: number;
  baseUrl: string;
  /** The bearer token its `GET /metrics` takes (METRICS_TOKEN: the bench's own, or one made for this run). */
  metricsToken: string;
  /** What it logged (warn and above) since it was ready: the first 100 and the latest 100 lines. */
  warnings: () => string[];
  /** How many lines it logged since it was ready. */
  warningCount: () => number;
  /** Where the cause breakdown (shared/breakdown.ts) reads: /metrics.json, and the inspector when started with `inspect`. */
  source: BreakdownSource;
}

/**
 * What `npm start` runs in the checkout at `root`: `dist/platform/main.js`, its build brought up to
 * date first (`npm run build:server`, incremental; once per bench run), so that the benches measure
 * the built JavaScript. A checkout from before the build existed (bench:ingest --platform-dir, for
 * before/after figures) runs `platform/main.ts` under tsx, as its `npm start` did.
 */
export function platformEntry(root: string): string {
  let entry = entries.get(root);
  if (!entry) entries.set(root, (entry = buildPlatform(root)));
  return entry;
}
const entries = new Map<string, string>();

function scriptsOf(root: string): Record<string, string> | undefined {
  return (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts?: Record<string, string> }).scripts;
}

/**
 * The Node.js flags `npm start` runs the platform with in the checkout at `root` (its package.json's
 * `start`: `node <flags> dist/platform/main.js`), so that a bench runs it with the same ones, a
 * checkout from before any (bench:ingest --platform-dir) without.
 */
export function platformNodeFlags(root: string): string[] {
  return nodeFlagsOfStart(scriptsOf(root)?.start ?? '');
}

/** The flags between `node` and `dist/platform/main.js` in a start command (none when it is not of that shape). */
export function nodeFlagsOfStart(start: string): string[] {
  const words = start.trim().split(/\s+/);
  if (words[0] !== 'node' || words.at(-1) !== 'dist/platform/main.js') return [];
  const flags = words.slice(1, -1);
  return flags.every((w) => w.startsWith('--')) ? flags : [];
}

function buildPlatform(root: string): string {
  const scripts = scriptsOf(root);
  if (!scripts?.['build:server']) return join(root, 'platform/main.ts');
  execFileSync('npm', ['run', '--silent', 'build:server'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  return join(root, 'dist/platform/main.js');
}

/**
 * Starts the real platform as its own process (platformEntry: `node dist/platform/main.js`, with
 * `npm start`'s Node.js flags (platformNodeFlags);
 * LOG_LEVEL=warn, ports picked free on 127.0.0.1) on `dataDir`, with the bench's environment passed
 * on (so platform settings can be varied, e.g. `LIVE_MAX_SUBSCRIPTIONS=200 npm run bench:live`)
 * and a METRICS_TOKEN made for the run unless the environment has one (`/metrics` is not public);
 * `options.env` is added last (bench:cluster: DATABASE_URL, REDIS_URL, NODE_ID …). Resolves once
 * `/healthz` answers.
 */
export async function startPlatform(
  children: Children,
  root: string,
  dataDir: string,
  fdLimit: number,
  nodeArgs: string[] = [],
  options: { inspect?: boolean; env?: Record<string, string>; label?: string } = {},
): Promise<PlatformProcess> {
  const [mqttPort, httpPort] = [await freePort(), await freePort()];
  // the inspector, on a free port, idle until the cause breakdown profiles the window
  const { command, args } = nodeCommand(platformEntry(root), [], fdLimit, [
    ...platformNodeFlags(root),
    ...(options.inspect ? ['--inspect=127.0.0.1:0'] : []),
    ...nodeArgs,
  ]);
  let inspectorUrl: string | undefined;
  const metricsToken = process.env.METRICS_TOKEN || randomBytes(24).toString('base64url');
  const child = children.spawn(options.label ?? 'platform', command, args, {
    cwd: root,
    env: {
      ...process.env,
      MQTT_PORT: String(mqttPort),
      MQTT_HOST: '127.0.0.1',
      HTTP_PORT: String(httpPort),
      HTTP_HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
      LOG_PRETTY: 'false',
      METRICS_TOKEN: metricsToken,
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let count = 0;
  let partial = '';
  const collect = (chunk: Buffer) => {
    const parts = (partial + chunk.toString('utf8')).split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) {
      if (!line.trim()) continue;
      const url = inspectorUrlIn(line);
      if (url) inspectorUrl ??= url;
      // the inspector's own notices are not warnings
      if (
        url ||
        /^For help, see: https:\/\/nodejs.org|^Debugger (attached|ending)|^Waiting for the debugger/.test(line)
      )
        continue;
      count++;
      if (lines.length >= 200) lines.splice(100, 1);
      lines.push(line);
    }
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const baseUrl = `http://127.0.0.1:${httpPort}`;
  try {
    await waitForPort(mqttPort, child, 60_000, 'the platform');
    const deadline = Date.now() + 30_000;
    while (!(await healthy(baseUrl))) {
      if (exited(child) || Date.now() > deadline) throw new Error(`the platform's /healthz did not answer`);
      await sleep(100);
    }
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${lines.slice(-20).join('\n')}`);
  }
  lines.length = 0;
  count = 0;
  return {
    child,
    pid: child.pid!,
    mqttPort,
    httpPort,
    baseUrl,
    metricsToken,
    warnings: () => lines,
    warningCount: () => count,
    source: { baseUrl, metricsToken, ...(inspectorUrl ? { inspectorUrl } : {}) },
  };
}

async function healthy(baseUrl: string): Promise<boolean> {
  try {
    return (await fetch(`${baseUrl}/healthz`, { signal: AbortSignal.timeout(5000) })).ok;
  } catch {
    return false;
  }
}
