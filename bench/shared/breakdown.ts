import {
  diffHistograms,
  emptyHistogram,
  summariseHistogram,
  type FineHistogramSnapshot,
  type HistogramSummary,
} from '../../core/fine-histogram.ts';
import {
  longestBusyStretches,
  summariseProfile,
  type BusyStretch,
  type CpuProfile,
  type ProfileSummary,
} from './cpu-profile.ts';
import { summariseAllocations, type AllocationSummary, type SamplingHeapProfile } from './heap-profile.ts';
import { inspectorSession } from './inspector.ts';

/**
 * The cause breakdown of a bench window (docs/benchmarks.md): what the platform's main thread and
 * its SQLite writer thread did while the latency was measured. Histogram figures come from the
 * platform's `GET /metrics.json` (`runtime`: cumulative fine histograms), read at the start and the
 * end of the window; the CPU profile from the platform's inspector (started with
 * `--inspect=127.0.0.1:0`), `Profiler.start` … `Profiler.stop` around the window.
 */
export interface Breakdown {
  /** Broker: a QoS 1 message's wait in the platform, authorizePublish → verdict (what its PUBACK waited for). */
  puback: HistogramSummary | null;
  /** Main thread: event-loop delay (lag per 10 ms tick, core/runtime-stats.ts). */
  eventLoopDelay: HistogramSummary | null;
  /** Main thread: GC pauses. */
  gc: HistogramSummary | null;
  /** Of those, the full collections (mark-compact); null from a platform that does not tell them apart. */
  gcMajor: HistogramSummary | null;
  /** Writer thread: one insert transaction with its COMMIT (and fsync). */
  commit: HistogramSummary | null;
  /** Writer thread: WAL checkpoints. */
  checkpoint: HistogramSummary | null;
  /** Writer thread: rolling-up turns. */
  rollupTurn: HistogramSummary | null;
  /** Writer thread: saves of the confirmation marks (upsert and COMMIT with its fsync). */
  marksSave: HistogramSummary | null;
  /** Main thread's top self-time functions in the profiled stretch (`profiledHow`: the window, or the 5 s after it). */
  profile: ProfileSummary | null;
  /**
   * The main thread's longest stretches without going idle in the profiled stretch (from the same
   * profile), with what ran in them: the kind of work an event-loop delay maximum waits behind.
   */
  busy: BusyStretch[] | null;
  /**
   * What the main thread allocated in the profiled stretch (V8's sampling heap profiler beside the CPU
   * profiler): bytes per acknowledged message and the largest sites. The GC pauses' cause, by its size.
   */
  allocation: AllocationSummary | null;
  /** When the profile was taken: in the window, or a stretch of the same load right after it. */
  profiledHow: string | null;
  /** Why a part is missing, if one is (an older platform, no inspector …). */
  notes: string[];
}

interface RuntimeMetrics {
  eventLoopDelay?: FineHistogramSnapshot;
  gc?: FineHistogramSnapshot;
  /** Absent from a platform of before 2026-12-07. */
  gcMajor?: FineHistogramSnapshot;
  puback?: FineHistogramSnapshot;
  telemetryWriter?: {
    commit: FineHistogramSnapshot;
    checkpoint: FineHistogramSnapshot;
    rollupTurn: FineHistogramSnapshot;
    /** Absent from a platform that saved the marks in records.db, on its main thread. */
    marksSave?: FineHistogramSnapshot;
  };
}

export interface BreakdownSource {
  /** The platform's base URL and the bearer token of its `/metrics.json`. */
  baseUrl: string;
  metricsToken?: string;
  /** The platform's inspector WebSocket URL (`Debugger listening on ws://…`), if it has one. */
  inspectorUrl?: string;
}

async function runtimeMetrics(src: BreakdownSource): Promise<RuntimeMetrics | undefined> {
  try {
    const res = await fetch(`${src.baseUrl}/metrics.json`, {
      headers: src.metricsToken ? { authorization: `Bearer ${src.metricsToken}` } : {},
      signal: AbortSignal.timeout(10_000),
    });
    if (!res.ok) return undefined;
    return ((await res.json()) as { runtime?: RuntimeMetrics }).runtime;
  } catch {
    return undefined;
  }
}

/**
 * The sampling heap profiler's mean interval: one sample per 32 KiB allocated on average (≈ 8,000 a
 * second at 250 MB/s), a stack each; its cost stays in the profiled stretch, outside the window.
 */
const HEAP_SAMPLING_BYTES = 32 * 1024;

/** What a profiled stretch of the platform's main thread says (bench/shared/cpu-profile.ts). */
export interface ProfiledPart {
  profile: ProfileSummary | null;
  busy: BusyStretch[] | null;
  allocation: AllocationSummary | null;
  /** How the profile was taken (printed with it). */
  how: string | null;
  notes: string[];
}

/**
 * Starts the platform's CPU profiler (1 ms sampling); `end()` stops it and summarises. Never throws:
 * what it cannot get is noted.
 *
 * The profiler disturbs what it watches: `Profiler.start` blocks the platform's main thread while
 * V8 logs its compiled code (≈ 0.3–0.5 s under load), and the 1 ms sampling costs main-thread time
 * all along. Measured with bench:ingest at 15,000 frames/s: publish → PUBACK p99 320 ms with the
 * profiler in the window (489 ms in its first second), 75 ms without. So the benches take their
 * latency and histogram figures in a window without it and profile a stretch of the same load
 * right after (`how` says which).
 */
export async function beginProfile(
  src: BreakdownSource,
  how = 'profiled in the window',
): Promise<{ end: () => Promise<ProfiledPart> }> {
  const notes: string[] = [];
  let session: Awaited<ReturnType<typeof inspectorSession>> | undefined;
  let sampling = false;
  let answeredBefore: number | undefined;
  if (src.inspectorUrl) {
    try {
      session = await inspectorSession(src.inspectorUrl);
      await session.call('Profiler.enable');
      await session.call('Profiler.setSamplingInterval', { interval: 1000 });
      await session.call('Profiler.start');
      // what the main thread allocates, freed objects included (what the scavenges had to deal with)
      try {
        await session.call('HeapProfiler.enable');
        await session.call('HeapProfiler.startSampling', {
          samplingInterval: HEAP_SAMPLING_BYTES,
          includeObjectsCollectedByMajorGC: true,
          includeObjectsCollectedByMinorGC: true,
        });
        sampling = true;
        answeredBefore = (await runtimeMetrics(src))?.puback?.count;
      } catch (err) {
        notes.push(`no allocation profile: ${(err as Error).message}`);
      }
    } catch (err) {
      notes.push(`no CPU profile: ${(err as Error).message}`);
      await session?.close();
      session = undefined;
    }
  } else notes.push('no CPU profile: the platform has no inspector (started without --inspect)');
  return {
    async end(): Promise<ProfiledPart> {
      if (!session) return { profile: null, busy: null, allocation: null, how: null, notes };
      let allocation: AllocationSummary | null = null;
      if (sampling) {
        try {
          const answeredAfter = answeredBefore === undefined ? undefined : (await runtimeMetrics(src))?.puback?.count;
          const { profile: h } = await session.call<{ profile: SamplingHeapProfile }>('HeapProfiler.stopSampling');
          const answered =
            answeredBefore !== undefined && answeredAfter !== undefined ? answeredAfter - answeredBefore : null;
          allocation = summariseAllocations(h, answered, 5);
        } catch (err) {
          notes.push(`no allocation profile: ${(err as Error).message}`);
        }
      }
      try {
        const { profile: p } = await session.call<{ profile: CpuProfile }>('Profiler.stop');
        return { profile: summariseProfile(p, 10), busy: longestBusyStretches(p, 3), allocation, how, notes };
      } catch (err) {
        notes.push(`no CPU profile: ${(err as Error).message}`);
        return { profile: null, busy: null, allocation, how: null, notes };
      } finally {
        await session.close();
      }
    },
  };
}

/** The breakdown with a profile taken separately (`beginProfile`) in its place. */
export function withProfile(b: Breakdown, p: ProfiledPart): Breakdown {
  return {
    ...b,
    profile: p.profile,
    busy: p.busy,
    allocation: p.allocation,
    profiledHow: p.how,
    notes: [...b.notes, ...p.notes],
  };
}

/**
 * Starts measuring a window; `end()` returns its breakdown. Never throws: a part it cannot get is
 * noted. With `profile: false` the window's figures come without a CPU profile (see `beginProfile`
 * for why the benches profile a separate stretch and add it with `withProfile`).
 */
export async function beginBreakdown(
  src: BreakdownSource,
  opts: { profile?: boolean } = {},
): Promise<{ end: () => Promise<Breakdown> }> {
  const notes: string[] = [];
  const before = await runtimeMetrics(src);
  if (!before) notes.push('no runtime figures in /metrics.json (an older platform, or no metrics token)');
  const profiling = opts.profile === false ? undefined : await beginProfile(src);

  return {
    async end(): Promise<Breakdown> {
      // the window's figures first: stopping the profiler blocks the platform while it sends the profile
      const after = before ? await runtimeMetrics(src) : undefined;
      const profiled = profiling ? await profiling.end() : undefined;
      const d = (pick: (r: RuntimeMetrics) => FineHistogramSnapshot | undefined): HistogramSummary | null => {
        const a = after && pick(after);
        return a && before ? summariseHistogram(diffHistograms(pick(before) ?? emptyHistogram(), a)) : null;
      };
      if (before && after && !after.telemetryWriter)
        notes.push('no writer-thread figures (inline writer, or the PostgreSQL store)');
      return {
        puback: d((r) => r.puback),
        eventLoopDelay: d((r) => r.eventLoopDelay),
        gc: d((r) => r.gc),
        gcMajor: d((r) => r.gcMajor),
        commit: d((r) => r.telemetryWriter?.commit),
        checkpoint: d((r) => r.telemetryWriter?.checkpoint),
        rollupTurn: d((r) => r.telemetryWriter?.rollupTurn),
        marksSave: d((r) => r.telemetryWriter?.marksSave),
        profile: profiled?.profile ?? null,
        busy: profiled?.busy ?? null,
        allocation: profiled?.allocation ?? null,
        profiledHow: profiled?.how ?? null,
        notes: [...notes, ...(profiled?.notes ?? [])],
      };
    },
  };
}

const hist = (h: HistogramSummary | null, what = '') =>
  h
    ? `${h.count}${what} p50 ${h.p50Ms} ms, p99 ${h.p99Ms} ms, max ${h.maxMs} ms, total ${Math.round(h.totalMs)} ms`
    : 'n/a';

/** The breakdown as report lines (each prefixed with `indent`). */
export function breakdownLines(b: Breakdown, indent = '  '): string[] {
  const lines = [
    `cause breakdown (platform, this window):`,
    `  in the platform to PUBACK      ${hist(b.puback, ' messages')}`,
    `  main thread event-loop delay   ${hist(b.eventLoopDelay, ' ticks')}`,
    `  main thread GC pauses          ${hist(b.gc, ' pauses')}`,
    `    of which full collections    ${hist(b.gcMajor, ' pauses')}`,
    `  writer thread commits          ${hist(b.commit, ' commits')}`,
    `  writer thread checkpoints      ${hist(b.checkpoint, ' checkpoints')}`,
    `  writer thread rollup turns     ${hist(b.rollupTurn, ' turns')}`,
    `  writer thread marks saves      ${hist(b.marksSave, ' saves')}`,
  ];
  if (b.profile) {
    lines.push(
      `  main thread CPU profile        ${Math.round(b.profile.spanMs)} ms ${b.profiledHow ?? 'profiled'}, idle ${b.profile.idlePct}%; top self time:`,
    );
    for (const f of b.profile.top)
      lines.push(`    ${String(f.pct).padStart(5)}%  ${String(f.selfMs).padStart(8)} ms  ${f.fn}`);
  }
  if (b.allocation) {
    const a = b.allocation;
    const mb = (a.sampledBytes / 1e6).toFixed(1);
    lines.push(
      a.bytesPerMessage === null
        ? `  main thread allocation         ${mb} MB sampled in the same stretch (messages answered: unknown); top sites:`
        : `  main thread allocation         ${a.bytesPerMessage} bytes per answered message (${mb} MB sampled over ${a.messages} messages in the same stretch); top sites:`,
    );
    for (const x of a.top) {
      const per = a.messages ? `${String(Math.round(x.bytes / a.messages)).padStart(6)} B/message  ` : '';
      lines.push(`    ${String(x.pct).padStart(5)}%  ${per}${x.fn}`);
    }
  }
  if (b.busy?.length) {
    lines.push(`  main thread longest busy       (no idle sample: the work a delay maximum waits behind)`);
    const parts = (xs: { fn: string; ms: number }[]) => xs.map((x) => `${x.fn} ${x.ms} ms`).join('; ');
    for (const s of b.busy) {
      lines.push(`    ${String(s.ms).padStart(7)} ms at +${s.atMs} ms, whose: ${parts(s.via)}`);
      lines.push(`               self: ${parts(s.self)}`);
    }
  }
  for (const n of b.notes) lines.push(`  (${n})`);
  return lines.map((l) => indent + l);
}

/** The breakdown for the JSON last line: histogram summaries, and the top functions as [name, %]. */
export function breakdownJson(b: Breakdown) {
  return {
    puback: b.puback,
    eventLoopDelay: b.eventLoopDelay,
    gc: b.gc,
    gcMajor: b.gcMajor,
    commit: b.commit,
    checkpoint: b.checkpoint,
    rollupTurn: b.rollupTurn,
    marksSave: b.marksSave,
    profiled: b.profiledHow,
    profileIdlePct: b.profile?.idlePct ?? null,
    topSelf: b.profile?.top.map((f) => [f.fn, f.pct] as const) ?? null,
    longestBusy: b.busy?.map((s) => ({ ms: s.ms, via: s.via.map((v) => [v.fn, v.ms] as const) })) ?? null,
    allocBytesPerMessage: b.allocation?.bytesPerMessage ?? null,
    allocTop: b.allocation?.top.map((x) => [x.fn, x.pct] as const) ?? null,
  };
}

/** The inspector URL a node process prints on stderr when started with --inspect. */
export function inspectorUrlIn(line: string): string | undefined {
  return /Debugger listening on (ws:\/\/\S+)/.exec(line)?.[1];
}
