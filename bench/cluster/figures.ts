/**
 * bench:cluster's pure parts: its settings from the command line (bounded), and the figures of a
 * throughput phase (CPU per stored frame, per node and in total; database writes per frame) and of
 * a failover (reconnect times of the killed node's gateways). No I/O here (test/bench/cluster-figures.test.ts).
 */
import { parseArgs } from 'node:util';

export const DEFAULT_PG_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/** The bounds of every count and time the bench takes, so that a run always ends. */
export const LIMITS = {
  vehicles: [1, 5000],
  duration: [1, 120],
  warmup: [0, 30],
  window: [1, 32],
  nodes: [1, 4],
  nodeLists: 4,
  failoverNodes: [2, 4],
  gateways: [1, 2000],
  rounds: [1, 5],
  rateHz: [0.2, 10],
  stream: [1, 60],
} as const;

export interface ClusterSettings {
  /** Gateway connections of each throughput phase (closed loop, QoS 1). */
  vehicles: number;
  /** Measured window of each throughput phase, seconds. */
  duration: number;
  warmup: number;
  /** Closed loop: QoS 1 publishes in flight per connection. */
  window: number;
  /** The cluster sizes measured, in order (e.g. 1, 2, 3). */
  nodes: number[];
  /** The same single-node run on the embedded store (SQLite records and telemetry). */
  sqlite: boolean;
  /** The failover phase, or undefined with --skip-failover. */
  failover?: { nodes: number; gateways: number; rounds: number; rateHz: number; streamS: number };
  pgUrl: string;
  redisUrl: string;
  keepData: boolean;
  /** Where each node process writes a V8 CPU profile (node --cpu-prof) when it exits; none: no profile. */
  profileDir?: string;
}

export const USAGE = [
  'Usage: npm run bench:cluster -- [--vehicles 500] [--duration 15] [--warmup 3] [--window 4] [--nodes 1,2,3]',
  '         [--skip-sqlite] [--skip-failover] [--failover-nodes 3] [--gateways 500] [--rounds 2] [--rate 1]',
  '         [--stream 5] [--pg-url postgres://postgres@127.0.0.1:5432/postgres] [--redis-url redis://127.0.0.1:6379]',
  '         [--keep-data] [--profile-dir DIR]',
  'See docs/benchmarks.md.',
].join('\n');

function bounded(name: string, raw: string | undefined, [min, max]: readonly [number, number], integer = true) {
  const n = Number(raw);
  if (raw === undefined || raw.trim() === '' || !Number.isFinite(n) || (integer && !Number.isInteger(n)))
    throw new Error(`--${name} must be ${integer ? 'a whole number' : 'a number'}, got ${String(raw)}`);
  if (n < min || n > max) throw new Error(`--${name} must be between ${min} and ${max}, got ${n}`);
  return n;
}

/** The settings from `argv` (without node and the script), or 'help'; throws a clear message on a bad flag. */
export function parseClusterArgs(argv: string[]): ClusterSettings | 'help' {
  const { values: f } = parseArgs({
    args: argv,
    options: {
      vehicles: { type: 'string', default: '500' },
      duration: { type: 'string', default: '15' },
      warmup: { type: 'string', default: '3' },
      window: { type: 'string', default: '4' },
      nodes: { type: 'string', default: '1,2,3' },
      'skip-sqlite': { type: 'boolean', default: false },
      'skip-failover': { type: 'boolean', default: false },
      'failover-nodes': { type: 'string' },
      gateways: { type: 'string' },
      rounds: { type: 'string', default: '2' },
      rate: { type: 'string', default: '1' },
      stream: { type: 'string', default: '5' },
      'pg-url': { type: 'string', default: DEFAULT_PG_URL },
      'redis-url': { type: 'string', default: DEFAULT_REDIS_URL },
      'keep-data': { type: 'boolean', default: false },
      'profile-dir': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (f.help) return 'help';
  const vehicles = bounded('vehicles', f.vehicles, LIMITS.vehicles);
  const nodes = f.nodes!.split(',').map((x) => bounded('nodes', x, LIMITS.nodes));
  if (nodes.length > LIMITS.nodeLists) throw new Error(`--nodes lists at most ${LIMITS.nodeLists} cluster sizes`);
  if (new Set(nodes).size !== nodes.length) throw new Error(`--nodes lists a cluster size twice: ${f.nodes}`);
  if (!/^postgres(ql)?:\/\/\S+$/.test(f['pg-url']!)) throw new Error('--pg-url must be a postgres:// URL');
  if (!/^rediss?:\/\/\S+$/.test(f['redis-url']!)) throw new Error('--redis-url must be a redis:// URL');
  const failoverNodes =
    f['failover-nodes'] === undefined
      ? Math.min(3, Math.max(2, ...nodes))
      : bounded('failover-nodes', f['failover-nodes'], LIMITS.failoverNodes);
  return {
    vehicles,
    duration: bounded('duration', f.duration, LIMITS.duration, false),
    warmup: bounded('warmup', f.warmup, LIMITS.warmup, false),
    window: bounded('window', f.window, LIMITS.window),
    nodes,
    sqlite: !f['skip-sqlite'],
    ...(f['skip-failover']
      ? {}
      : {
          failover: {
            nodes: failoverNodes,
            gateways:
              f.gateways === undefined
                ? Math.min(vehicles, LIMITS.gateways[1])
                : bounded('gateways', f.gateways, LIMITS.gateways),
            rounds: bounded('rounds', f.rounds, LIMITS.rounds),
            rateHz: bounded('rate', f.rate, LIMITS.rateHz, false),
            streamS: bounded('stream', f.stream, LIMITS.stream, false),
          },
        }),
    pgUrl: f['pg-url']!,
    redisUrl: f['redis-url']!,
    keepData: Boolean(f['keep-data']),
    ...(f['profile-dir'] ? { profileDir: f['profile-dir'] } : {}),
  };
}

/** What a throughput phase measured over its window (CPU in seconds, unrounded). */
export interface PhaseInput {
  windowS: number;
  /** PUBACKs (= frames stored) in the window, per node. */
  framesByNode: number[];
  /** CPU seconds (user + sys, all threads) per node in the window. */
  cpuSByNode: number[];
  /** CPU seconds of the PostgreSQL backends serving the run's database; undefined on SQLite. */
  postgresCpuS?: number;
  /** CPU seconds of the Redis server (shared with anyone else using it). */
  redisCpuS?: number;
  loadCpuS: number;
  /**
   * pg_stat_database deltas of the run's database over the whole phase (nodes started → stopped:
   * warm-up, window and drain; the nodes' own background queries included), and the frames stored
   * in that time.
   */
  writes?: { frames: number; commits: number; rowsInserted: number };
}

export interface PhaseFigures {
  framesPerS: number;
  frames: number;
  /** % of one core, per node. */
  nodeCpuPct: number[];
  /** µs of CPU per stored frame, per node (its CPU ÷ the frames it acknowledged). */
  usPerFrameByNode: (number | null)[];
  /** µs of CPU per stored frame, all nodes together. */
  usPerFrameNodes: number | null;
  usPerFramePostgres: number | null;
  usPerFrameRedis: number | null;
  /** Nodes + PostgreSQL backends + Redis: what the platform's side costs per frame. */
  usPerFrameServerSide: number | null;
  postgresCpuPct: number | null;
  redisCpuPct: number | null;
  loadCpuPct: number;
  commitsPerFrame: number | null;
  rowsPerFrame: number | null;
  /** Frames per committed transaction (the batching the store achieves; every statement outside one counts too). */
  framesPerCommit: number | null;
}

const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;
const perFrame = (cpuS: number | undefined, frames: number) =>
  cpuS === undefined || !Number.isFinite(cpuS) || frames <= 0 ? null : round((cpuS * 1e6) / frames);
const pct = (cpuS: number | undefined, windowS: number) =>
  cpuS === undefined || !Number.isFinite(cpuS) || windowS <= 0 ? null : round((cpuS / windowS) * 100, 0);

export function phaseFigures(p: PhaseInput): PhaseFigures {
  const frames = p.framesByNode.reduce((a, b) => a + b, 0);
  const nodesCpu = p.cpuSByNode.reduce((a, b) => a + b, 0);
  const serverSide = nodesCpu + (p.postgresCpuS ?? 0) + (p.redisCpuS ?? 0);
  const w = p.writes;
  return {
    framesPerS: p.windowS > 0 ? Math.round(frames / p.windowS) : 0,
    frames,
    nodeCpuPct: p.cpuSByNode.map((s) => pct(s, p.windowS) ?? 0),
    usPerFrameByNode: p.cpuSByNode.map((s, i) => perFrame(s, p.framesByNode[i] ?? 0)),
    usPerFrameNodes: perFrame(nodesCpu, frames),
    usPerFramePostgres: perFrame(p.postgresCpuS, frames),
    usPerFrameRedis: perFrame(p.redisCpuS, frames),
    usPerFrameServerSide: perFrame(serverSide, frames),
    postgresCpuPct: pct(p.postgresCpuS, p.windowS),
    redisCpuPct: pct(p.redisCpuS, p.windowS),
    loadCpuPct: pct(p.loadCpuS, p.windowS) ?? 0,
    commitsPerFrame: !w || w.frames <= 0 ? null : round(w.commits / w.frames, 4),
    rowsPerFrame: !w || w.frames <= 0 ? null : round(w.rowsInserted / w.frames, 3),
    framesPerCommit: !w || w.commits <= 0 ? null : round(w.frames / w.commits, 1),
  };
}

/** The q-quantile (nearest rank) of `values`; null when empty. */
export function quantile(values: readonly number[], q: number): number | null {
  if (!values.length) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/**
 * Zero loss, vehicle by vehicle: Σ max(0, acknowledged − stored) (`lost`, must be 0) and
 * Σ max(0, stored − acknowledged) (`extra`: stored frames whose PUBACK never reached the gateway).
 */
export function lossCheck(
  ackedByVehicle: ReadonlyMap<string, number>,
  storedByVehicle: ReadonlyMap<string, number>,
): { acked: number; stored: number; lost: number; extra: number } {
  let acked = 0;
  let stored = 0;
  let lost = 0;
  let extra = 0;
  for (const id of new Set([...ackedByVehicle.keys(), ...storedByVehicle.keys()])) {
    const a = ackedByVehicle.get(id) ?? 0;
    const s = storedByVehicle.get(id) ?? 0;
    acked += a;
    stored += s;
    if (a > s) lost += a - s;
    else extra += s - a;
  }
  return { acked, stored, lost, extra };
}

/** Per vehicle, stored frames after the phase minus before it. */
export function storedDelta(
  before: ReadonlyMap<string, number>,
  after: ReadonlyMap<string, number>,
): Map<string, number> {
  const out = new Map<string, number>();
  for (const [id, n] of after) out.set(id, n - (before.get(id) ?? 0));
  return out;
}

/** One failover round: the killed node's gateways' reconnect times (kill → CONNACK elsewhere). */
export interface FailoverRound {
  node: string;
  /** Gateways on the node when it was killed (the balancer's count). */
  onNode: number;
  /** Of them, the ones connected again elsewhere within the bound, and their times. */
  reconnectMs: number[];
  /** Whether every gateway was connected again within the bound. */
  complete: boolean;
}

export function failoverFigures(rounds: readonly FailoverRound[]): {
  rounds: number;
  /** Gateways on the killed nodes, all rounds together. */
  onKilledNodes: number;
  reconnected: number;
  p50Ms: number | null;
  maxMs: number | null;
  /** Per round: the time until the last of its gateways was back (the "all online elsewhere" figure). */
  allBackMs: (number | null)[];
} {
  const all = rounds.flatMap((r) => r.reconnectMs);
  return {
    rounds: rounds.length,
    onKilledNodes: rounds.reduce((n, r) => n + r.onNode, 0),
    reconnected: all.length,
    p50Ms: quantile(all, 0.5),
    maxMs: all.length ? Math.max(...all) : null,
    allBackMs: rounds.map((r) => (r.complete && r.reconnectMs.length ? Math.max(...r.reconnectMs) : null)),
  };
}
