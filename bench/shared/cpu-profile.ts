/** The parts of a V8 CPU profile (`.cpuprofile`, the inspector's `Profiler.stop`) the summary reads. */
export interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number; columnNumber?: number };
    children?: number[];
  }[];
  /** µs, on the same monotonic clock as the samples. */
  startTime: number;
  endTime: number;
  /** Node id of each sample. */
  samples?: number[];
  /** µs since the previous sample (the first: since startTime). */
  timeDeltas?: number[];
}

export interface SelfTime {
  /**
   * `name (file:line)`; a native function as `name ← its nearest JavaScript caller (file:line)`;
   * V8's own entries as V8 names them: (garbage collector), (program).
   */
  fn: string;
  selfMs: number;
  /** Share of the profiled time (%). */
  pct: number;
}

export interface ProfileSummary {
  /** Length of the profiled span (ms). */
  spanMs: number;
  /** Share of the span the thread was idle (V8's `(idle)` samples), %. */
  idlePct: number;
  top: SelfTime[];
}

/** A function's place, short: the path from the project's folders on, or the package's. */
function where(url: string, line: number): string {
  if (!url) return '';
  const path = url.replace(/^file:\/\//, '');
  const pkg = path.lastIndexOf('/node_modules/');
  const short = pkg >= 0 ? path.slice(pkg + '/node_modules/'.length) : path.split('/').slice(-2).join('/');
  return `${short}:${line + 1}`;
}

/**
 * The functions with the most self time in a profile (samples attributed to the node on top of
 * the stack, each worth the time to the next sample), merged by function and place, the top `n`,
 * with their share of the whole span. `(idle)` is left out of the list (its share is `idlePct`);
 * `(garbage collector)` and `(program)` (V8 and native code outside JS) stay in it.
 * Where `from`/`to` (µs, the profile's clock) are given, only samples in that span count.
 */
export function summariseProfile(profile: CpuProfile, n = 10, span?: { from: number; to: number }): ProfileSummary {
  const byNode = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const c of node.children ?? []) parent.set(c, node.id);
  // a native function (no place of its own: better-sqlite3's run, postMessage, writev …) is named
  // with the nearest JavaScript caller, which says whose it is
  const caller = (id: number): string => {
    for (let p = parent.get(id); p !== undefined; p = parent.get(p)) {
      const f = byNode.get(p)!.callFrame;
      if (f.url) return ` ← ${f.functionName || '(anonymous)'} (${where(f.url, f.lineNumber)})`;
    }
    return '';
  };
  const selfUs = new Map<string, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  let t = profile.startTime;
  let total = 0;
  let idle = 0;
  for (let i = 0; i < samples.length; i++) {
    t += deltas[i] ?? 0;
    // a sample's time is the gap to the next one (the last: to the profile's end)
    const next = i + 1 < samples.length ? t + (deltas[i + 1] ?? 0) : profile.endTime;
    const us = Math.max(0, next - t);
    if (span && (t < span.from || t >= span.to)) continue;
    const node = byNode.get(samples[i]!);
    if (!node) continue;
    total += us;
    const { functionName, url, lineNumber } = node.callFrame;
    const name = functionName || '(anonymous)';
    if (name === '(idle)') {
      idle += us;
      continue;
    }
    const key = url ? `${name} (${where(url, lineNumber)})` : name.startsWith('(') ? name : name + caller(node.id);
    selfUs.set(key, (selfUs.get(key) ?? 0) + us);
  }
  const round1 = (x: number) => Math.round(x * 10) / 10;
  const top = [...selfUs.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([fn, us]) => ({ fn, selfMs: round1(us / 1000), pct: total ? round1((100 * us) / total) : 0 }));
  return { spanMs: round1(total / 1000), idlePct: total ? round1((100 * idle) / total) : 0, top };
}
