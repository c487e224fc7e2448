import { placedName, siteName, type CallFrame } from './cpu-profile.ts';

/** The parts of a V8 sampling heap profile (the inspector's `HeapProfiler.stopSampling`) the summary reads. */
export interface SamplingHeapProfile {
  head: HeapProfileNode;
}

export interface HeapProfileNode {
  callFrame: CallFrame;
  /** Bytes of the samples taken in this function itself (the sampler's estimate of what it allocated). */
  selfSize: number;
  children: HeapProfileNode[];
}

export interface AllocationSite {
  /** `name (file:line)`, a native function as `name ← its nearest JavaScript caller (file:line)`, as in the CPU profile. */
  fn: string;
  bytes: number;
  /** Share of everything sampled (%). */
  pct: number;
}

export interface AllocationSummary {
  /**
   * The bytes the main thread allocated in the stretch, as the sampling heap profiler estimates them
   * (objects a scavenge or a full collection freed since counted too: what the GC had to deal with).
   */
  sampledBytes: number;
  /** QoS 1 messages answered in the same stretch (the platform's PUBACK waits); null when unknown. */
  messages: number | null;
  /** `sampledBytes / messages`: what one message cost the young generation, all of the main thread's work included. */
  bytesPerMessage: number | null;
  /** The functions that allocated most, by the bytes of their own samples. */
  top: AllocationSite[];
}

/** The largest allocation sites of a sampling heap profile, and the bytes per message when `messages` is known. */
export function summariseAllocations(profile: SamplingHeapProfile, messages: number | null, n = 5): AllocationSummary {
  const bySite = new Map<string, number>();
  let total = 0;
  const visit = (node: HeapProfileNode, caller: string | undefined) => {
    const place = placedName(node.callFrame);
    if (node.selfSize > 0) {
      const fn = siteName(node.callFrame, () => caller);
      bySite.set(fn, (bySite.get(fn) ?? 0) + node.selfSize);
      total += node.selfSize;
    }
    for (const c of node.children) visit(c, place ?? caller);
  };
  visit(profile.head, undefined);
  const top = [...bySite]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([fn, bytes]) => ({ fn, bytes, pct: total ? Math.round((bytes / total) * 1000) / 10 : 0 }));
  return {
    sampledBytes: total,
    messages,
    bytesPerMessage: messages ? Math.round(total / messages) : null,
    top,
  };
}
