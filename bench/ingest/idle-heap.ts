/**
 * What an idle vehicle connection costs the platform: `npx tsx bench/ingest/idle-heap.ts`.
 *
 * Provisions `--connections` vehicles (default 10,000) into a temp dir, starts the built platform
 * (bench/platform-process.ts) with its inspector, and measures before and after connecting them
 * idle as bench:ingest's idle phase does (bench/shared/vehicle-connections.ts, keepalive 10 s):
 * RSS, `process.memoryUsage()` and the V8 heap spaces, once as they are (what bench:ingest's idle
 * figure sees: the connect storm's garbage included) and once after two forced full GCs (what the
 * connections themselves keep). With `--snapshots DIR` it also writes a heap snapshot at 0 and at N
 * connections (after the forced GCs; load both in Chrome DevTools → Memory → Comparison for the
 * objects by constructor). The figures in docs/benchmarks.md, "What an idle connection costs".
 *
 *   --connections N   idle connections (default 10000)
 *   --snapshots DIR   write idle-0.heapsnapshot and idle-N.heapsnapshot there
 *   --sampling KIND   a sampling heap profile of the connect storm, its top allocation sites printed:
 *                     `promoted` — what is kept after the storm plus what died in the old generation
 *                     (promoted, then collected by a full GC: the storm garbage the idle RSS holds);
 *                     `all` — everything allocated, young garbage included
 */
import { createWriteStream } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startPlatform } from '../platform-process.ts';
import { inspectorSession } from '../shared/inspector.ts';
import { benchLifecycle } from '../shared/lifecycle.ts';
import { fileLimits, memoryOf, sleep } from '../shared/procs.ts';
import { provisionVehicles } from '../shared/provision.ts';
import { connectVehicles } from '../shared/vehicle-connections.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const { values: flags } = parseArgs({
  options: {
    connections: { type: 'string', default: '10000' },
    snapshots: { type: 'string' },
    sampling: { type: 'string' },
  },
});
const count = Number(flags.connections);
if (!Number.isInteger(count) || count < 1) throw new Error(`--connections must be a whole number >= 1`);
const lifecycle = benchLifecycle({ name: 'idle-heap', tempPrefix: 'powerwatch-idle-heap-', keepData: false });
const say = (text = '') => process.stdout.write(text + '\n');
const MB = 2 ** 20;

interface Sample {
  rssMB: number;
  heapUsedMB: number;
  heapTotalMB: number;
  externalMB: number;
  /** V8 heap spaces: [name, size MB, used MB]. */
  spaces: [string, number, number][];
}

/** The platform's inspector, with a heap snapshot written to a file. */
async function inspector(url: string) {
  const session = await inspectorSession(url);
  return {
    call: session.call,
    async snapshot(file: string): Promise<void> {
      const out = createWriteStream(file);
      session.on('HeapProfiler.addHeapSnapshotChunk', (p) => out.write((p as { chunk: string }).chunk));
      await session.call('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
      session.on('HeapProfiler.addHeapSnapshotChunk');
      await new Promise((r) => out.end(r));
    },
    close: session.close,
  };
}

interface SamplingNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: SamplingNode[];
}

/** The sampling profile's top allocation sites (a site: the function and its nearest project caller), per connection. */
function printSampling(head: SamplingNode, connections: number): void {
  const sites = new Map<string, number>();
  let total = 0;
  const name = (f: SamplingNode['callFrame']) =>
    `${f.functionName || '(anonymous)'} (${f.url.replace(/^.*\/node_modules\//, '').replace(/^file:\/\/.*\/dist\//, '')}:${f.lineNumber + 1})`;
  const walk = (n: SamplingNode, project: string) => {
    const own = name(n.callFrame);
    const here = n.callFrame.url.includes('/dist/') && !n.callFrame.url.includes('/node_modules/') ? own : project;
    if (n.selfSize) {
      const key = here && here !== own ? `${own} ← ${here}` : own;
      sites.set(key, (sites.get(key) ?? 0) + n.selfSize);
      total += n.selfSize;
    }
    for (const c of n.children) walk(c, here);
  };
  walk(head, '');
  say(`  sampling heap profile (${flags.sampling}): ${Math.round(total / connections)} B per connection; top sites:`);
  for (const [site, bytes] of [...sites].sort((a, b) => b[1] - a[1]).slice(0, 25))
    say(`    ${String(Math.round(bytes / connections)).padStart(6)} B  ${site}`);
}

async function main(): Promise<number> {
  const dataDir = lifecycle.tempDir();
  say(`provisioning ${count} vehicles …`);
  const creds = await provisionVehicles(ROOT, dataDir, count);
  const fdLimit = Math.min(fileLimits().hard, count + 1024);
  const platform = await startPlatform(lifecycle.children, ROOT, dataDir, fdLimit, [], { inspect: true });
  if (!platform.source.inspectorUrl) throw new Error('the platform printed no inspector URL');
  const session = await inspector(platform.source.inspectorUrl);
  const sample = async (forcedGc: boolean): Promise<Sample> => {
    if (forcedGc) {
      await session.call('HeapProfiler.collectGarbage');
      await session.call('HeapProfiler.collectGarbage');
    }
    const expression = `JSON.stringify({ m: process.memoryUsage(), s: require('v8').getHeapSpaceStatistics() })`;
    const r = await session.call<{ result: { value: string } }>('Runtime.evaluate', {
      expression,
      includeCommandLineAPI: true, // `require` in the inspector's command line
      returnByValue: true,
    });
    const { m, s } = JSON.parse(r.result.value) as {
      m: NodeJS.MemoryUsage;
      s: { space_name: string; space_size: number; space_used_size: number }[];
    };
    return {
      rssMB: memoryOf(platform.pid)?.rssMB ?? NaN,
      heapUsedMB: m.heapUsed / MB,
      heapTotalMB: m.heapTotal / MB,
      externalMB: m.external / MB,
      spaces: s.filter((x) => x.space_size > 0).map((x) => [x.space_name, x.space_size / MB, x.space_used_size / MB]),
    };
  };
  const line = (label: string, x: Sample) =>
    say(
      `  ${label.padEnd(34)} RSS ${x.rssMB.toFixed(1)} MB, heap ${x.heapUsedMB.toFixed(1)} used / ${x.heapTotalMB.toFixed(1)} MB, external ${x.externalMB.toFixed(1)} MB; spaces ${x.spaces.map(([n, size, used]) => `${n} ${used.toFixed(1)}/${size.toFixed(1)}`).join(', ')}`,
    );
  try {
    await sleep(1000);
    const before = await sample(true);
    line('0 connections, forced GC', before);
    if (flags.snapshots) await session.snapshot(join(flags.snapshots, 'idle-0.heapsnapshot'));
    if (flags.sampling)
      await session.call('HeapProfiler.startSampling', {
        samplingInterval: 4096,
        includeObjectsCollectedByMajorGC: true,
        includeObjectsCollectedByMinorGC: flags.sampling === 'all',
      });
    say(`connecting ${count} idle vehicles (200 at a time, keepalive 10 s) …`);
    const c = await connectVehicles(creds, platform.mqttPort, { concurrency: 200, timeoutMs: 300_000, keepalive: 10 });
    if (c.failed) throw new Error(`${c.failed} connections failed (first: ${c.firstError})`);
    await sleep(3000);
    line(`${count} connections, as they are`, await sample(false));
    const after = await sample(true);
    if (flags.sampling) {
      const { profile } = await session.call<{ profile: { head: SamplingNode } }>('HeapProfiler.stopSampling');
      printSampling(profile.head, count);
    }
    line(`${count} connections, forced GC`, after);
    const per = (a: number, b: number) => `${Math.round(((b - a) * MB) / count)} B`;
    say(
      `  per connection (forced GC): RSS ${per(before.rssMB, after.rssMB)}, heap ${per(before.heapUsedMB, after.heapUsedMB)}, external ${per(before.externalMB, after.externalMB)}`,
    );
    if (flags.snapshots) {
      await session.snapshot(join(flags.snapshots, `idle-${count}.heapsnapshot`));
      say(`  heap snapshots in ${flags.snapshots}`);
    }
    for (const client of c.clients) client?.end(true);
    return 0;
  } finally {
    session.close();
  }
}

lifecycle.run(main);
