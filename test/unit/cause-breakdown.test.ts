import { mkdtempSync, rmSync } from 'node:fs';
import { Session } from 'node:inspector';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it, vi } from 'vitest';
import { longestBusyStretches, summariseProfile, type CpuProfile } from '../../bench/shared/cpu-profile.ts';
import { summariseAllocations, type HeapProfileNode } from '../../bench/shared/heap-profile.ts';
import {
  bucketOf,
  bucketUpperMs,
  createFineHistogram,
  diffHistograms,
  summariseHistogram,
} from '../../core/fine-histogram.ts';
import { createRuntimeStats } from '../../core/runtime-stats.ts';
import { createSqliteTelemetryStore } from '../../telemetry/sqlite-store.ts';
import type { TelemetryFrame } from '../../protocol/index.ts';
import { frame } from '../helpers/platform.ts';

describe('fine histograms (the cause breakdown of the benches)', () => {
  it('puts a value in a bucket at most 9 % wider than it, and reports percentiles within that', () => {
    for (const v of [0.002, 0.37, 1, 4.2, 55, 999, 12_345]) {
      const b = bucketOf(v);
      expect(bucketUpperMs(b)).toBeGreaterThanOrEqual(v);
      expect(bucketUpperMs(b) / v).toBeLessThan(1.1);
    }
    const h = createFineHistogram();
    for (let i = 1; i <= 100; i++) h.record(i); // 1 … 100 ms
    const s = summariseHistogram(h.snapshot());
    expect(s.count).toBe(100);
    expect(s.totalMs).toBe(5050);
    expect(s.maxMs).toBe(100);
    expect(s.p50Ms).toBeGreaterThanOrEqual(50);
    expect(s.p50Ms).toBeLessThan(55);
    expect(s.p99Ms).toBeGreaterThanOrEqual(99);
    expect(s.p99Ms).toBeLessThanOrEqual(100); // capped at the max
  });

  it('reports a window as the difference of two cumulative snapshots, the max exact when set in it', () => {
    const h = createFineHistogram();
    h.record(200);
    for (let i = 0; i < 50; i++) h.record(2);
    const before = h.snapshot();
    for (let i = 0; i < 99; i++) h.record(3);
    h.record(40);
    const window = summariseHistogram(diffHistograms(before, h.snapshot()));
    expect(window.count).toBe(100);
    expect(window.p50Ms).toBeGreaterThanOrEqual(3);
    expect(window.p50Ms).toBeLessThan(3.3);
    // the 200 ms before the window is not its max: the highest bucket that grew is (40 ms)
    expect(window.maxMs).toBeGreaterThanOrEqual(40);
    expect(window.maxMs).toBeLessThan(44);
    expect(window.totalMs).toBeCloseTo(99 * 3 + 40, 6);
    h.record(500);
    const later = summariseHistogram(diffHistograms(before, h.snapshot()));
    expect(later.maxMs).toBe(500);
    expect(summariseHistogram(diffHistograms(h.snapshot(), h.snapshot()))).toEqual({
      count: 0,
      p50Ms: 0,
      p99Ms: 0,
      maxMs: 0,
      totalMs: 0,
    });
  });

  it('measures the event-loop delay of a blocked loop, also a block that comes right after a read', async () => {
    const stats = createRuntimeStats({ resolutionMs: 5 });
    stats.start();
    try {
      await new Promise((r) => setTimeout(r, 30));
      // read right before the block (a scrape, a bench's window edge): when the delay came from
      // monitorEventLoopDelay, a read emptied its histogram with reset(), which also forgot when its
      // timer last fired, and the delay of the period the read fell in (this block) was lost
      const before = stats.snapshot();
      const end = performance.now() + 120;
      while (performance.now() < end) {
        // block the loop
      }
      await new Promise((r) => setTimeout(r, 30));
      const window = summariseHistogram(diffHistograms(before.eventLoopDelay, stats.snapshot().eventLoopDelay));
      expect(window.count).toBeGreaterThan(0);
      expect(window.maxMs).toBeGreaterThanOrEqual(100);
      expect(window.maxMs).toBeLessThan(1000);
    } finally {
      stats.stop();
    }
  });
});

describe('GC pauses by kind', () => {
  it('tells the full collections among the pauses: forced scavenges are not, a forced full collection is', async () => {
    // V8's gc() in this process (the test runner does not expose it): a scavenge or a mark-compact on demand
    setFlagsFromString('--expose_gc');
    const gc = runInNewContext('gc') as (o?: { type: 'minor' }) => void;
    const stats = createRuntimeStats();
    stats.start();
    try {
      const counts = () => {
        const s = stats.snapshot();
        return { all: summariseHistogram(s.gc).count, major: summariseHistogram(s.gcMajor).count };
      };
      const start = counts();
      for (let i = 0; i < 3; i++) gc({ type: 'minor' });
      // the entries reach the observer on a later turn
      await vi.waitFor(() => expect(counts().all - start.all).toBeGreaterThanOrEqual(3));
      const scavenged = counts();
      // three scavenges and at most a full collection of V8's own in between
      expect(scavenged.major - start.major).toBeLessThan(scavenged.all - start.all);
      gc(); // a full collection
      await vi.waitFor(() => expect(counts().major - scavenged.major).toBeGreaterThanOrEqual(1));
      expect(counts().all - scavenged.all).toBeGreaterThanOrEqual(counts().major - scavenged.major);
    } finally {
      stats.stop();
    }
  });
});

/** A node of a CPU profile's call tree (line = id, so places read `file:id+1`). */
const node = (id: number, functionName: string, url = '', children: number[] = []) => ({
  id,
  callFrame: { functionName, url, lineNumber: id },
  children,
});

describe('CPU profile summary (top self time)', () => {
  // root → main (a.js) → decode (ingest/decode.js) and run (native, called by main); (idle); (garbage collector)
  const profile: CpuProfile = {
    nodes: [
      node(1, '(root)', '', [2, 5, 6]),
      node(2, 'main', 'file:///srv/dist/platform/a.js', [3, 4]),
      node(3, 'decode', 'file:///srv/dist/ingest/decode.js'),
      node(4, 'run', ''),
      node(5, '(idle)'),
      node(6, '(garbage collector)'),
    ],
    startTime: 1_000_000,
    endTime: 1_010_000,
    // 10 samples 1 ms apart: decode ×4, run ×2, idle ×3, gc ×1
    samples: [3, 3, 4, 5, 5, 3, 6, 4, 5, 3],
    timeDeltas: [0, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000],
  };

  it('lists functions by self time with their share, natives named with their JavaScript caller, idle apart', () => {
    const s = summariseProfile(profile, 10);
    expect(s.spanMs).toBe(10);
    expect(s.idlePct).toBe(30);
    expect(s.top).toEqual([
      { fn: 'decode (ingest/decode.js:4)', selfMs: 4, pct: 40 },
      { fn: 'run ← main (platform/a.js:3)', selfMs: 2, pct: 20 },
      { fn: '(garbage collector)', selfMs: 1, pct: 10 },
    ]);
    expect(summariseProfile(profile, 1).top).toHaveLength(1);
  });

  it('counts only the samples of a span when one is given', () => {
    // samples at 1,000,000 … 1,009,000 µs; the span [1,005,000, 1,008,000) holds decode, gc, run
    const s = summariseProfile(profile, 10, { from: 1_005_000, to: 1_008_000 });
    expect(s.spanMs).toBe(3);
    expect(s.top.map((f) => f.fn).sort()).toEqual([
      '(garbage collector)',
      'decode (ingest/decode.js:4)',
      'run ← main (platform/a.js:3)',
    ]);
  });
});

describe('allocation profile summary (bytes per message, largest sites)', () => {
  const heapNode = (functionName: string, url: string, selfSize: number, children: HeapProfileNode[] = []) => ({
    callFrame: { functionName, url, lineNumber: 9 },
    selfSize,
    children,
  });

  it('adds up each site, names natives by their JavaScript caller, and divides by the messages answered', () => {
    const head = heapNode('(root)', '', 0, [
      heapNode('handle', 'file:///srv/dist/ingest/ingest.js', 6000, [
        heapNode('parse', '', 3000), // native: JSON.parse under handle
        heapNode('decode', 'node:internal/encoding', 1000),
      ]),
      heapNode('copy', 'file:///srv/node_modules/bl/BufferList.js', 2000, [
        heapNode('handle', 'file:///srv/dist/ingest/ingest.js', 1000),
      ]),
      heapNode('(V8 API)', '', 1000),
    ]);
    const a = summariseAllocations({ head }, 10, 3);
    expect(a.sampledBytes).toBe(14_000);
    expect(a.bytesPerMessage).toBe(1400);
    expect(a.top).toEqual([
      { fn: 'handle (ingest/ingest.js:10)', bytes: 7000, pct: 50 },
      { fn: 'parse ← handle (ingest/ingest.js:10)', bytes: 3000, pct: 21.4 },
      { fn: 'copy (bl/BufferList.js:10)', bytes: 2000, pct: 14.3 },
    ]);
    // messages unknown: the bytes only
    expect(summariseAllocations({ head }, null).bytesPerMessage).toBeNull();
    expect(summariseAllocations({ head }, 0).bytesPerMessage).toBeNull();
  });

  it("reads V8's own sampling heap profile, freed objects included, with the allocating function on top", async () => {
    const session = new Session();
    session.connect();
    const post = <T>(method: string, params?: object) =>
      new Promise<T>((resolve, reject) =>
        session.post(method, params ?? {}, (err, r) => (err ? reject(err) : resolve(r as T))),
      );
    try {
      await post('HeapProfiler.enable');
      await post('HeapProfiler.startSampling', {
        samplingInterval: 1024,
        includeObjectsCollectedByMajorGC: true,
        includeObjectsCollectedByMinorGC: true,
      });
      // each object escapes into \`sink\` (so the compiler cannot leave it out) and is garbage at the next
      let sink: { i: number; list: number[] } | undefined;
      function makeGarbageForTheProfile() {
        for (let i = 0; i < 200_000; i++) sink = { i, list: [i, i + 1] };
      }
      makeGarbageForTheProfile();
      const { profile } = await post<{ profile: { head: HeapProfileNode } }>('HeapProfiler.stopSampling');
      const a = summariseAllocations(profile, 200_000, 5);
      expect(sink?.i).toBe(199_999);
      // far more than the heap ever held at once: the scavenged objects are counted
      expect(a.sampledBytes).toBeGreaterThan(5_000_000);
      expect(a.top[0]!.fn).toMatch(/^makeGarbageForTheProfile \(.*cause-breakdown\.test\.ts:\d+\)$/);
      expect(a.bytesPerMessage).toBeGreaterThan(50);
    } finally {
      await post('HeapProfiler.disable').catch(() => undefined);
      session.disconnect();
    }
  });
});

describe('CPU profile: the longest busy stretches', () => {
  // root → listOnTimeout (node:internal) → flushFleet (project) → emit (socket.io) → writev (native);
  // root → onData (aedes) → authorize (project) → decode (project); (idle); (garbage collector)
  const profile: CpuProfile = {
    nodes: [
      node(1, '(root)', '', [2, 6, 9, 10]),
      node(2, 'listOnTimeout', 'node:internal/timers', [3]),
      node(3, 'flushFleet', 'file:///srv/dist/web/live/fleet.js', [4]),
      node(4, 'emit', 'file:///srv/node_modules/socket.io/dist/socket.js', [5]),
      node(5, 'writev', ''),
      node(6, 'onData', 'file:///srv/node_modules/aedes/lib/client.js', [7]),
      node(7, 'authorize', 'file:///srv/dist/broker/acl.js', [8]),
      node(8, 'decode', 'file:///srv/dist/ingest/decode.js'),
      node(9, '(idle)'),
      node(10, '(garbage collector)'),
    ],
    startTime: 0,
    endTime: 12_000,
    // 1 ms apart: [decode, idle, writev, writev, gc, emit, writev, idle, decode, decode, idle, gc]
    samples: [8, 9, 5, 5, 10, 4, 5, 9, 8, 8, 9, 10],
    timeDeltas: [0, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000],
  };

  it('finds the stretches without an idle sample, longest first, with whose work and what ran in them', () => {
    const s = longestBusyStretches(profile, 2);
    expect(s).toHaveLength(2);
    // 2 … 7 ms: writev ×3, gc, emit
    expect(s[0]).toEqual({
      ms: 5,
      atMs: 2,
      self: [
        { fn: 'writev ← emit (socket.io/dist/socket.js:5)', ms: 3 },
        { fn: '(garbage collector)', ms: 1 },
        { fn: 'emit (socket.io/dist/socket.js:5)', ms: 1 },
      ],
      via: [
        { fn: 'flushFleet (live/fleet.js:4)', ms: 4 },
        { fn: '(outside the project)', ms: 1 },
      ],
    });
    // 8 … 10 ms: decode ×2, under the project's authorize (the outermost project function)
    expect(s[1]).toMatchObject({ ms: 2, atMs: 8, via: [{ fn: 'authorize (broker/acl.js:8)', ms: 2 }] });
    // a stretch cut by the span's end
    expect(longestBusyStretches(profile, 1, { from: 2000, to: 4000 })[0]).toMatchObject({ ms: 2, atMs: 0 });
  });
});

describe('the SQLite writer thread reports its timings', () => {
  it('counts each insert transaction as a commit, and checkpoints the WAL itself', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pw-writer-stats-'));
    // a checkpoint after every write (the default waits a second between two)
    const store = createSqliteTelemetryStore({ file: join(dir, 'telemetry.db'), checkpointEveryMs: 0 });
    try {
      const t0 = Date.now() - 60_000;
      const before = (await store.writerStats())!;
      for (let i = 0; i < 5; i++)
        await store.append([{ vehicleId: 'V1', receivedAt: t0 + i, frame: frame(i, t0 + i) as TelemetryFrame }]);
      let after = (await store.writerStats())!;
      // a checkpoint runs after its insert was answered, once the messages queued by then are handled
      // (one checkpoint covers the inserts handled before it)
      // (asked again for up to 5 s, not a number of times: on a loaded machine the turn may come late)
      for (const until = Date.now() + 5000; after.checkpoint.count === before.checkpoint.count && Date.now() < until;)
        after = (await store.writerStats())!;
      const commits = summariseHistogram(diffHistograms(before.commit, after.commit));
      expect(commits.count).toBe(5);
      expect(commits.maxMs).toBeGreaterThan(0);
      expect(after.checkpoint.count - before.checkpoint.count).toBeGreaterThanOrEqual(1);
      expect(after.checkpoint.count - before.checkpoint.count).toBeLessThanOrEqual(5);
      expect(after.checkpointedPages).toBeGreaterThan(before.checkpointedPages);
      const inline = createSqliteTelemetryStore({ file: join(dir, 'inline.db'), writer: 'inline' });
      expect(await inline.writerStats()).toBeUndefined();
      await inline.close();
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
