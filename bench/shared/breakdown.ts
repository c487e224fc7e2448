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
import { inspectorSession } from './inspector.ts';

/**
 * The cause breakdown of a bench window (docs/benchmarks.md): what the platform's main thread and
 * its SQLite writer thread did while the latency was measured. Histogram figures come from the
 * platform's `GET /metrics.json` (`runtime`: cumulative fine histograms), read at the start and the
 * end of the window; the CPU profile from the platform's inspector (started with
 * `--inspect=127.0.0.1:0`), `Profiler.start` … `Profiler.stop` around the window.
 */
export interface Breakdown {
  /** Main thread: event-loop delay (monitorEventLoopDelay, lag per 10 ms tick). */
  eventLoopDelay: HistogramSummary | null;
  /** Main thread: GC pauses. */
  gc: HistogramSummary | null;
  /** Writer thread: one insert transaction with its COMMIT (and fsync). */
  commit: HistogramSummary | null;
  /** Writer thread: WAL checkpoints. */
  checkpoint: HistogramSummary | null;
  /** Writer thread: rolling-up turns. */
  rollupTurn: HistogramSummary | null;
  /** Main thread's top self-time functions in the window. */
  profile: ProfileSummary | null;
  /**
   * The main thread's longest stretches without going idle in the window (from the same profile),
   * with what ran in them: what the event-loop delay's maximum and the latency's tail waited behind.
   */
  busy: BusyStretch[] | null;
  /** Why a part is missing, if one is (an older platform, no inspector …). */
  notes: string[];
}

interface RuntimeMetrics {
  eventLoopDelay?: FineHistogramSnapshot;
  gc?: FineHistogramSnapshot;
  telemetryWriter?: {
    commit: FineHistogramSnapshot;
    checkpoint: FineHistogramSnapshot;
    rollupTurn: FineHistogramSnapshot;
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

/** Starts measuring a window; `end()` returns its breakdown. Never throws: a part it cannot get is noted. */
export async function beginBreakdown(src: BreakdownSource): Promise<{ end: () => Promise<Breakdown> }> {
  const notes: string[] = [];
  const before = await runtimeMetrics(src);
  if (!before) notes.push('no runtime figures in /metrics.json (an older platform, or no metrics token)');
  let session: Awaited<ReturnType<typeof inspectorSession>> | undefined;
  if (src.inspectorUrl) {
    try {
      session = await inspectorSession(src.inspectorUrl);
      await session.call('Profiler.enable');
      await session.call('Profiler.setSamplingInterval', { interval: 1000 });
      await session.call('Profiler.start');
    } catch (err) {
      notes.push(`no CPU profile: ${(err as Error).message}`);
      await session?.close();
      session = undefined;
    }
  } else notes.push('no CPU profile: the platform has no inspector (started without --inspect)');

  return {
    async end(): Promise<Breakdown> {
      let profile: ProfileSummary | null = null;
      let busy: BusyStretch[] | null = null;
      if (session) {
        try {
          const { profile: p } = await session.call<{ profile: CpuProfile }>('Profiler.stop');
          profile = summariseProfile(p, 10);
          busy = longestBusyStretches(p, 3);
        } catch (err) {
          notes.push(`no CPU profile: ${(err as Error).message}`);
        } finally {
          await session.close();
        }
      }
      const after = before ? await runtimeMetrics(src) : undefined;
      const d = (pick: (r: RuntimeMetrics) => FineHistogramSnapshot | undefined): HistogramSummary | null => {
        const a = after && pick(after);
        return a && before ? summariseHistogram(diffHistograms(pick(before) ?? emptyHistogram(), a)) : null;
      };
      if (before && after && !after.telemetryWriter)
        notes.push('no writer-thread figures (inline writer, or the PostgreSQL store)');
      return {
        eventLoopDelay: d((r) => r.eventLoopDelay),
        gc: d((r) => r.gc),
        commit: d((r) => r.telemetryWriter?.commit),
        checkpoint: d((r) => r.telemetryWriter?.checkpoint),
        rollupTurn: d((r) => r.telemetryWriter?.rollupTurn),
        profile,
        busy,
        notes,
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
    `  main thread event-loop delay   ${hist(b.eventLoopDelay, ' ticks')}`,
    `  main thread GC pauses          ${hist(b.gc, ' pauses')}`,
    `  writer thread commits          ${hist(b.commit, ' commits')}`,
    `  writer thread checkpoints      ${hist(b.checkpoint, ' checkpoints')}`,
    `  writer thread rollup turns     ${hist(b.rollupTurn, ' turns')}`,
  ];
  if (b.profile) {
    lines.push(
      `  main thread CPU profile        ${Math.round(b.profile.spanMs)} ms profiled, idle ${b.profile.idlePct}%; top self time:`,
    );
    for (const f of b.profile.top)
      lines.push(`    ${String(f.pct).padStart(5)}%  ${String(f.selfMs).padStart(8)} ms  ${f.fn}`);
  }
  if (b.busy?.length) {
    lines.push(`  main thread longest busy       (no idle sample: what the delay maximum waited behind)`);
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
    eventLoopDelay: b.eventLoopDelay,
    gc: b.gc,
    commit: b.commit,
    checkpoint: b.checkpoint,
    rollupTurn: b.rollupTurn,
    profileIdlePct: b.profile?.idlePct ?? null,
    topSelf: b.profile?.top.map((f) => [f.fn, f.pct] as const) ?? null,
    longestBusy: b.busy?.map((s) => ({ ms: s.ms, via: s.via.map((v) => [v.fn, v.ms] as const) })) ?? null,
  };
}

/** The inspector URL a node process prints on stderr when started with --inspect. */
export function inspectorUrlIn(line: string): string | undefined {
  return /Debugger listening on (ws:\/\/\S+)/.exec(line)?.[1];
}
