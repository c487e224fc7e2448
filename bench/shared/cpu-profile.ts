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

/** A profile's call frame (the CPU profile's and the sampling heap profile's alike). */
export interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

/** `name (place)` of a JavaScript function; undefined for one without a place (a native, V8's own entries). */
export function placedName(f: CallFrame): string | undefined {
  return f.url ? `${f.functionName || '(anonymous)'} (${where(f.url, f.lineNumber)})` : undefined;
}

/**
 * How the summaries name a function: `name (place)`; V8's own entries as V8 names them; a native
 * function (no place of its own: better-sqlite3's run, postMessage, writev …) with its nearest
 * JavaScript caller (`caller()`: that caller's `placedName`), which says whose it is.
 */
export function siteName(f: CallFrame, caller: () => string | undefined): string {
  const placed = placedName(f);
  if (placed) return placed;
  const name = f.functionName || '(anonymous)';
  if (name.startsWith('(')) return name;
  const c = caller();
  return c ? `${name} ← ${c}` : name;
}

/** The profile's call tree, and how the summaries name a sample's function. */
function profileTree(profile: CpuProfile) {
  const byNode = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const c of node.children ?? []) parent.set(c, node.id);
  /** A sample's function as the summaries name it (`siteName`), a native's caller found up the tree. */
  const selfName = (id: number): string =>
    siteName(byNode.get(id)!.callFrame, () => {
      for (let p = parent.get(id); p !== undefined; p = parent.get(p)) {
        const placed = placedName(byNode.get(p)!.callFrame);
        if (placed) return placed;
      }
      return undefined;
    });
  return { byNode, parent, selfName };
}

/**
 * Calls `visit` for each sample (within `span` if given, µs on the profile's clock) with its node,
 * its time and its length: the gap to the next sample (the last one's: to the profile's end).
 */
function eachSample(
  profile: CpuProfile,
  span: { from: number; to: number } | undefined,
  visit: (nodeId: number, t: number, us: number) => void,
): void {
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  let t = profile.startTime;
  for (let i = 0; i < samples.length; i++) {
    t += deltas[i] ?? 0;
    const next = i + 1 < samples.length ? t + (deltas[i + 1] ?? 0) : profile.endTime;
    if (span && (t < span.from || t >= span.to)) continue;
    visit(samples[i]!, t, Math.max(0, next - t));
  }
}

const round1 = (x: number) => Math.round(x * 10) / 10;
const isIdle = (tree: ReturnType<typeof profileTree>, id: number) =>
  tree.byNode.get(id)?.callFrame.functionName === '(idle)';

/**
 * The functions with the most self time in a profile (samples attributed to the node on top of
 * the stack, each worth the time to the next sample), merged by function and place, the top `n`,
 * with their share of the whole span. `(idle)` is left out of the list (its share is `idlePct`);
 * `(garbage collector)` and `(program)` (V8 and native code outside JS) stay in it.
 * Where `from`/`to` (µs, the profile's clock) are given, only samples in that span count.
 */
export function summariseProfile(profile: CpuProfile, n = 10, span?: { from: number; to: number }): ProfileSummary {
  const tree = profileTree(profile);
  const selfUs = new Map<string, number>();
  let total = 0;
  let idle = 0;
  eachSample(profile, span, (id, _t, us) => {
    if (!tree.byNode.has(id)) return;
    total += us;
    if (isIdle(tree, id)) idle += us;
    else {
      const key = tree.selfName(id);
      selfUs.set(key, (selfUs.get(key) ?? 0) + us);
    }
  });
  const top = [...selfUs.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([fn, us]) => ({ fn, selfMs: round1(us / 1000), pct: total ? round1((100 * us) / total) : 0 }));
  return { spanMs: round1(total / 1000), idlePct: total ? round1((100 * idle) / total) : 0, top };
}

/** One stretch of the profile in which the thread never went idle: nothing else could run meanwhile. */
export interface BusyStretch {
  /** Its length (ms): how long a PUBACK, a socket.io frame or an HTTP answer due in it waited at most. */
  ms: number;
  /** When it began, ms after the span's start. */
  atMs: number;
  /** The functions with the most self time in it (as in `summariseProfile`), at most 3, with ms. */
  self: { fn: string; ms: number }[];
  /**
   * Whose work it was: the outermost function of the project on each sample's stack (not a
   * dependency's, not Node's), at most 3 with their ms — e.g. `flushFleet (live/fleet-batches.js:40)`;
   * `(outside the project)` when a stack held none (GC, a dependency's own timer).
   */
  via: { fn: string; ms: number }[];
}

/** Whether a script belongs to the project (not node_modules, not Node's own `node:` modules). */
const isProjectUrl = (url: string) => url.startsWith('file://') && !url.includes('/node_modules/');

/**
 * The `n` longest stretches without an idle sample (V8's `(idle)`: the event loop waiting for
 * work), longest first — what a latency maximum waited behind. Within a span if one is given.
 */
export function longestBusyStretches(profile: CpuProfile, n = 3, span?: { from: number; to: number }): BusyStretch[] {
  const tree = profileTree(profile);
  const outermostProject = new Map<number, string>();
  const viaName = (id: number): string => {
    const known = outermostProject.get(id);
    if (known !== undefined) return known;
    let found = '(outside the project)';
    for (let p: number | undefined = id; p !== undefined; p = tree.parent.get(p)) {
      const f = tree.byNode.get(p)!.callFrame;
      if (isProjectUrl(f.url)) found = `${f.functionName || '(anonymous)'} (${where(f.url, f.lineNumber)})`;
    }
    outermostProject.set(id, found);
    return found;
  };

  const stretches: { from: number; to: number; samples: [node: number, us: number][] }[] = [];
  let open: (typeof stretches)[number] | undefined;
  eachSample(profile, span, (id, t, us) => {
    if (!tree.byNode.has(id)) return;
    if (isIdle(tree, id)) {
      if (open) stretches.push(open);
      open = undefined;
      return;
    }
    open ??= { from: t, to: t, samples: [] };
    open.to = t + us;
    open.samples.push([id, us]);
  });
  if (open) stretches.push(open);

  const from = span?.from ?? profile.startTime;
  const top = (m: Map<string, number>) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 3)
      .map(([fn, us]) => ({ fn, ms: round1(us / 1000) }));
  return stretches
    .sort((a, b) => b.to - b.from - (a.to - a.from))
    .slice(0, n)
    .map((s) => {
      const self = new Map<string, number>();
      const via = new Map<string, number>();
      for (const [id, us] of s.samples) {
        const a = tree.selfName(id);
        self.set(a, (self.get(a) ?? 0) + us);
        const b = viaName(id);
        via.set(b, (via.get(b) ?? 0) + us);
      }
      return {
        ms: round1((s.to - s.from) / 1000),
        atMs: round1((s.from - from) / 1000),
        self: top(self),
        via: top(via),
      };
    });
}
