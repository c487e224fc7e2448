/** Messages between the bench orchestrator (run.ts) and its child processes, over the Node IPC channel. */

export type { Credential } from '../shared/provision.ts';

export interface LatencySummary {
  count: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
}

export interface LoadResult {
  mode: 'max' | 'rate';
  connections: number;
  /** PUBLISH packets handed to MQTT.js, in total (warm-up, window and drain). */
  published: number;
  /** PUBACKs received, in total. */
  acked: number;
  /** Publishes that failed (connection lost before the PUBACK). */
  errors: number;
  disconnects: number;
  /** PUBACKs received inside the measurement window. */
  ackedInWindow: number;
  /** With --ports (several listeners): PUBACKs inside the window per listener, in --ports order. */
  ackedInWindowByPort?: number[];
  /** PUBLISH packets sent inside the measurement window. */
  publishedInWindow: number;
  windowStart: number;
  windowEnd: number;
  /** Whether every publish was answered (acked or failed) before the drain deadline. */
  drained: boolean;
  inflightLeft: number;
  /** PUBACKs per connection, in the order of the credentials file. */
  ackedByVehicle: number[];
  /** Rate mode: publish→PUBACK latency of frames published inside the window. */
  latency?: LatencySummary;
  /** Rate mode: p99 latency (ms) of the frames sent in each second of the window. */
  latencyBySecond?: number[];
  /** Rate mode: the target aggregate rate, and sends skipped because a connection had too much in flight. */
  targetRate?: number;
  skippedBusy?: number;
  /** CPU the load generator used in the window, in % of one core. */
  loadCpuPct: number;
  /**
   * The load generator's own event-loop delay, the largest in each second of the window (ms): a
   * PUBACK it read late by a stall of its own is timed late by as much.
   */
  ownLoopMaxMsBySecond: number[];
  firstError?: string;
}

export type ChildToParent =
  | { type: 'connected'; connected: number; failed: number; ms: number; firstError?: string }
  | { type: 'window'; phase: 'start' | 'end' | 'profile-start' | 'profile-end'; at: number }
  | { type: 'result'; result: LoadResult }
  | { type: 'subscribed' }
  | { type: 'countAt'; at: number; count: number; total: number }
  | { type: 'fatal'; message: string };

export type ParentToChild = { type: 'release' } | { type: 'countAt'; at: number };
