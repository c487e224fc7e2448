/**
 * `npm run bench:cluster`: the platform in cluster mode (issue 18) as real processes on one
 * PostgreSQL database and one Redis key prefix of the run's own — frames stored per second by 1, 2
 * and 3 nodes (closed loop, QoS 1, as bench:ingest's load generator; stored == acknowledged, per
 * vehicle), the CPU of each node, of the PostgreSQL backends and of Redis per stored frame, the
 * database writes per frame; the same single-node run on the embedded SQLite store for comparison;
 * and the failover time (kill -9 of a node → its gateways connected again elsewhere, through a TCP
 * balancer standing for HAProxy) with no acknowledged frame lost. See docs/benchmarks.md.
 * Flags: `npm run bench:cluster -- --help` (parsed and bounded in figures.ts).
 *
 * Everything runs on 127.0.0.1; every child process, the temp dir, the database and the Redis keys
 * are removed on exit, also on an error or Ctrl-C.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { platformEntry, startPlatform, type PlatformProcess } from '../platform-process.ts';
import { benchLifecycle } from '../shared/lifecycle.ts';
import {
  cpuBetween,
  cpuMark,
  fileLimits,
  nextMessage,
  nextOfType,
  nodeCommand,
  sleep,
  tell,
  type CpuMark,
} from '../shared/procs.ts';
import { provisionVehicles, provisionVehiclesInPostgres, type Credential } from '../shared/provision.ts';
import { deleteRedisPrefix, localRedisPid } from '../shared/redis.ts';
import {
  createBenchDatabase,
  databaseActivity,
  postgresBackends,
  storedByVehicle,
  storedByVehicleInPostgres,
} from '../shared/stored.ts';
import { startTcpBalancer } from '../shared/tcp-balancer.ts';
import type { ChildToParent, LoadResult } from '../ingest/ipc.ts';
import { telemetryFile } from '../../platform/data-files.ts';
import { FRAMES_TABLE } from '../../telemetry/postgres-schema.ts';
import {
  USAGE,
  failoverFigures,
  lossCheck,
  parseClusterArgs,
  phaseFigures,
  storedDelta,
  type ClusterSettings,
  type FailoverRound,
  type PhaseFigures,
} from './figures.ts';
import type { GatewaysToParent } from './ipc.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const HERE = dirname(fileURLToPath(import.meta.url));
const LOAD = join(ROOT, 'bench/ingest/load.ts');
/** How long the killed node's gateways may take to be connected again elsewhere before the round fails. */
const FAILOVER_BOUND_MS = 60_000;
const COMPARISON =
  'the machine has 2 cores shared by every process: more nodes cannot add throughput here; the per-node CPU per frame is the figure that scales';

const say = (text = '') => process.stdout.write(text + '\n');
const note = (text: string) => process.stderr.write(text + '\n');

let parsed: ClusterSettings | 'help';
try {
  parsed = parseClusterArgs(process.argv.slice(2));
} catch (err) {
  note(`${(err as Error).message}\n${USAGE}`);
  process.exit(2);
}
if (parsed === 'help') {
  say(USAGE);
  process.exit(0);
}
const s: ClusterSettings = parsed;
// the nodes get their cluster settings from the bench alone (the SQLite node none of them)
for (const k of [
  'DATABASE_URL',
  'TELEMETRY_STORE',
  'TELEMETRY_DATABASE_URL',
  'REDIS_URL',
  'REDIS_KEY_PREFIX',
  'NODE_ID',
])
  delete process.env[k];

const lifecycle = benchLifecycle({ name: 'bench', tempPrefix: 'powerwatch-cluster-', keepData: s.keepData });
const children = lifecycle.children;

interface Run {
  tempDir: string;
  fdLimit: number;
  databaseUrl: string;
  redisPrefix: string;
  redisPid: number | undefined;
  /** Each phase's frames start at a seq of their own, so none is a duplicate of an earlier one. */
  seqBase: number;
}

// ── nodes ───────────────────────────────────────────────────────────────────────────────────────

interface Node {
  name: string;
  dataDir: string;
  env: Record<string, string>;
  p: PlatformProcess;
}

async function startNode(run: Run, name: string, env: Record<string, string>): Promise<Node> {
  const dataDir = join(run.tempDir, name);
  mkdirSync(dataDir, { recursive: true });
  const nodeArgs = s.profileDir
    ? ['--cpu-prof', `--cpu-prof-dir=${resolve(s.profileDir)}`, `--cpu-prof-name=${name}-${Date.now()}.cpuprofile`]
    : [];
  const p = await startPlatform(children, ROOT, dataDir, run.fdLimit, nodeArgs, { env, label: name });
  return { name, dataDir, env, p };
}

const clusterEnv = (run: Run, name: string): Record<string, string> => ({
  DATABASE_URL: run.databaseUrl,
  TELEMETRY_STORE: 'postgres',
  REDIS_URL: s.redisUrl,
  REDIS_KEY_PREFIX: run.redisPrefix,
  NODE_ID: name,
});

/** n cluster nodes: node-0 first (it migrates the database), the others after it. */
async function startCluster(run: Run, n: number): Promise<Node[]> {
  const first = await startNode(run, 'node-0', clusterEnv(run, 'node-0'));
  const rest = await Promise.all(
    Array.from({ length: n - 1 }, (_, k) => startNode(run, `node-${k + 1}`, clusterEnv(run, `node-${k + 1}`))),
  );
  return [first, ...rest];
}

async function stopNodes(nodes: Node[]): Promise<void> {
  await Promise.all(
    nodes.map(async (n) => {
      const code = await children.stop(n.p.child, 30_000);
      if (code !== 0 && code !== null) note(`  ${n.name} exited with ${code} on SIGTERM`);
    }),
  );
}

// ── a throughput phase ──────────────────────────────────────────────────────────────────────────

interface PhaseResult {
  store: 'postgres' | 'sqlite';
  nodes: number;
  figures: PhaseFigures;
  acked: number;
  stored: number;
  lost: number;
  extra: number;
  /** Other processes on the machine during the window, % of one core (interrupts apart). */
  otherCpuPct: number;
  loadErrors: number;
  warnings: string[];
}

const isResult = (m: ChildToParent): m is Extract<ChildToParent, { type: 'result' }> => m.type === 'result';

/**
 * The closed loop of bench:ingest's load generator over `nodes` (connection i to node i mod n),
 * with the CPU of every node, the database's backends, Redis and the load generator over its window.
 */
async function closedLoop(run: Run, credsFile: string, nodes: Node[], store: 'postgres' | 'sqlite') {
  const args = [
    '--mode=max',
    `--ports=${nodes.map((n) => n.p.mqttPort).join(',')}`,
    `--creds=${credsFile}`,
    `--count=${s.vehicles}`,
    `--duration=${s.duration}`,
    `--warmup=${s.warmup}`,
    `--window=${s.window}`,
    `--seq-base=${(run.seqBase += 1e9)}`,
  ];
  const { command, args: argv } = nodeCommand(LOAD, args, run.fdLimit);
  const child = children.spawn('load', command, argv, { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const pg = store === 'postgres';
  let begin: Promise<{ mark: CpuMark; pids: Record<string, number | number[]> }> | undefined;
  let end: Promise<{ mark: CpuMark }> | undefined;
  const onWindow = (m: ChildToParent) => {
    if (m.type !== 'window') return;
    if (m.phase === 'start') {
      begin = (async () => {
        // the PostgreSQL backends serving the run's database when the window begins count as ours
        const backends = pg ? await postgresBackends(run.databaseUrl) : undefined;
        const pids: Record<string, number | number[]> = Object.fromEntries(nodes.map((n) => [n.name, n.p.pid]));
        if (backends) pids.postgres = backends;
        if (run.redisPid !== undefined && pg) pids.redis = run.redisPid;
        pids.load = child.pid!;
        return { mark: cpuMark(pids), pids };
      })();
    } else {
      end = begin!.then(({ pids }) => ({ mark: cpuMark(pids) }));
    }
  };
  child.on('message', onWindow);
  try {
    const timeoutMs = (180 + s.warmup + s.duration + 30 + 60) * 1000;
    const { result } = await nextMessage(child, isResult, timeoutMs, 'load generator');
    if (!begin || !end) throw new Error('the load generator did not report its window');
    const [a, b] = await Promise.all([begin, end]);
    return { result, a, b };
  } finally {
    child.off('message', onWindow);
    await children.stop(child, 15_000);
  }
}

async function throughputPhase(
  run: Run,
  store: 'postgres' | 'sqlite',
  n: number,
  creds: Credential[],
  credsFile: string,
): Promise<PhaseResult> {
  const nodes = store === 'postgres' ? await startCluster(run, n) : [await startNode(run, 'sqlite-node', {})];
  let loop: Awaited<ReturnType<typeof closedLoop>>;
  let before = new Map<string, number>();
  let dbBefore: { commits: number; rowsInserted: number } | undefined;
  try {
    if (store === 'postgres') {
      before = await storedByVehicleInPostgres(run.databaseUrl);
      dbBefore = await databaseActivity(run.databaseUrl);
    }
    loop = await closedLoop(run, credsFile, nodes, store);
  } finally {
    await stopNodes(nodes);
  }
  // the database's writes over the whole phase: read once the nodes stopped, since a backend
  // publishes its counters only every second or so while busy (and at the latest when it exits)
  const dbAfter = dbBefore ? await databaseActivity(run.databaseUrl) : undefined;
  const after =
    store === 'postgres'
      ? await storedByVehicleInPostgres(run.databaseUrl)
      : storedByVehicle(telemetryFile(nodes[0]!.dataDir));
  const { result, a, b } = loop;
  const ackedByVehicle = new Map(creds.slice(0, s.vehicles).map((c, i) => [c.id, result.ackedByVehicle[i]!]));
  const check = lossCheck(ackedByVehicle, storedDelta(before, after));
  const cpu = cpuBetween(a.mark, b.mark);
  const markS = (b.mark.t - a.mark.t) / 1000;
  const cpuS = (k: string) => ((cpu.pct[k] ?? NaN) / 100) * markS;
  const framesByNode = result.ackedInWindowByPort ?? [result.ackedInWindow];
  const figures = phaseFigures({
    windowS: (result.windowEnd - result.windowStart) / 1000,
    framesByNode,
    cpuSByNode: nodes.map((node) => cpuS(node.name)),
    ...(cpu.pct.postgres !== undefined ? { postgresCpuS: cpuS('postgres') } : {}),
    ...(cpu.pct.redis !== undefined ? { redisCpuS: cpuS('redis') } : {}),
    loadCpuS: cpuS('load'),
    ...(dbBefore && dbAfter
      ? {
          writes: {
            frames: check.stored,
            commits: dbAfter.commits - dbBefore.commits,
            rowsInserted: dbAfter.rowsInserted - dbBefore.rowsInserted,
          },
        }
      : {}),
  });
  return {
    store,
    nodes: nodes.length,
    figures,
    ...check,
    otherCpuPct: Math.max(0, Math.round(cpu.othersPct - cpu.irqPct)),
    loadErrors: errorsOf(result),
    warnings: nodes.flatMap((node) => node.p.warnings().map((w) => `${node.name}: ${w}`)),
  };
}

const errorsOf = (r: LoadResult) => r.errors + r.disconnects;

// ── failover ────────────────────────────────────────────────────────────────────────────────────

interface FailoverResult {
  nodes: number;
  gateways: number;
  rounds: FailoverRound[];
  acked: number;
  stored: number;
  lost: number;
  inflightLeft: number;
}

async function failoverPhase(run: Run, credsFile: string): Promise<FailoverResult> {
  const f = s.failover!;
  const balancer = await startTcpBalancer();
  const nodes = await startCluster(run, f.nodes);
  for (const n of nodes) balancer.setBackend(n.name, n.p.mqttPort);
  const seqBase = (run.seqBase += 1e9);
  const { command, args } = nodeCommand(
    join(HERE, 'gateways.ts'),
    [
      `--port=${balancer.port}`,
      `--creds=${credsFile}`,
      `--count=${f.gateways}`,
      `--rate=${f.rateHz}`,
      `--seq-base=${seqBase}`,
      `--max-s=${Math.ceil(300 + f.rounds * (FAILOVER_BOUND_MS / 1000 + 60 + f.streamS))}`,
    ],
    run.fdLimit,
  );
  const gw = children.spawn('gateways', command, args, { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const rounds: FailoverRound[] = [];
  try {
    const c = await nextOfType<GatewaysToParent, 'connected'>(gw, 'connected', 180_000, 'gateways');
    say(`  ${c.connected} gateways connected through the balancer in ${(c.ms / 1000).toFixed(1)} s`);
    await sleep(f.streamS * 1000);
    for (let r = 0; r < f.rounds; r++) {
      const i = (r + 1) % nodes.length;
      const victim = nodes[i]!;
      const onNode = balancer.connections()[victim.name] ?? 0;
      balancer.setBackend(victim.name, undefined);
      const exitedAt = new Promise<void>((res) => victim.p.child.once('exit', () => res()));
      const at = Date.now();
      process.kill(victim.p.pid, 'SIGKILL');
      let last: Extract<GatewaysToParent, { type: 'since' }> | undefined;
      let complete = false;
      while (Date.now() - at < FAILOVER_BOUND_MS) {
        tell(gw, { type: 'since', at });
        last = await nextOfType<GatewaysToParent, 'since'>(gw, 'since', 10_000, 'gateways');
        if (last.closed >= onNode && last.reconnectMs.length >= last.closed) {
          complete = true;
          break;
        }
        await sleep(50);
      }
      const round: FailoverRound = { node: victim.name, onNode, reconnectMs: last?.reconnectMs ?? [], complete };
      rounds.push(round);
      const ms = round.reconnectMs.length ? Math.max(...round.reconnectMs) : NaN;
      say(
        `  round ${r + 1}: kill -9 of ${victim.name} (${onNode} gateways on it): ${complete ? `all connected again elsewhere after ${ms} ms` : `NOT all back within ${FAILOVER_BOUND_MS / 1000} s (${round.reconnectMs.length} of ${last?.closed ?? '?'} closed)`}`,
      );
      if (last && last.closed > onNode)
        note(`  ${last.closed - onNode} gateways of other nodes also lost their connection in round ${r + 1}`);
      await exitedAt;
      // the node comes back (same NODE_ID, data dir and databases) and takes new connections
      nodes[i] = await startNode(run, victim.name, victim.env);
      balancer.setBackend(victim.name, nodes[i]!.p.mqttPort);
      await sleep(f.streamS * 1000);
    }
    tell(gw, { type: 'finish' });
    const res = await nextOfType<GatewaysToParent, 'result'>(gw, 'result', 60_000, 'gateways');
    // every acknowledged frame is stored (PUBACK after commit, on whichever node took it)
    const client = new pg.Client({ connectionString: run.databaseUrl });
    await client.connect();
    let storedRows: { vehicle_id: string; seq: string }[];
    try {
      storedRows = (
        await client.query<{ vehicle_id: string; seq: string }>(
          `SELECT vehicle_id, seq FROM ${FRAMES_TABLE} WHERE seq > $1`,
          [seqBase],
        )
      ).rows;
    } finally {
      await client.end();
    }
    const stored = new Set(storedRows.map((row) => `${row.vehicle_id}#${row.seq}`));
    let acked = 0;
    let lost = 0;
    for (const [id, seqs] of res.acked) {
      acked += seqs.length;
      for (const seq of seqs) if (!stored.has(`${id}#${seq}`)) lost++;
    }
    return {
      nodes: f.nodes,
      gateways: f.gateways,
      rounds,
      acked,
      stored: stored.size,
      lost,
      inflightLeft: res.inflightLeft,
    };
  } finally {
    await children.stop(gw, 10_000);
    await balancer.close();
    await stopNodes(nodes);
  }
}

// ── report ──────────────────────────────────────────────────────────────────────────────────────

const fmt = (x: number | null | undefined, unit = '') => (x === null || x === undefined ? '–' : `${x}${unit}`);

function phaseLabel(p: PhaseResult) {
  return p.store === 'sqlite'
    ? 'SQLite, 1 node (embedded)'
    : `PostgreSQL + Redis, ${p.nodes} node${p.nodes > 1 ? 's' : ''}`;
}

function report(phases: PhaseResult[], failover: FailoverResult | undefined) {
  const sqlite = phases.find((p) => p.store === 'sqlite');
  say('');
  say('results — frames stored per second (closed loop, QoS 1, PUBACK only after the commit)');
  for (const p of phases) {
    const f = p.figures;
    const vsSqlite =
      sqlite && p !== sqlite ? ` (${(f.framesPerS / sqlite.figures.framesPerS).toFixed(2)}× SQLite)` : '';
    say(`  ${phaseLabel(p)}`);
    say(
      `    ${f.framesPerS} frames/s${vsSqlite}; zero loss: ${p.acked} acknowledged, ${p.stored} stored, lost ${p.lost}${p.extra ? `, stored without ack ${p.extra}` : ''}   ${p.lost === 0 ? 'PASS' : 'FAIL'}`,
    );
    say(
      `    CPU per node (% of one core): ${f.nodeCpuPct.map((c, i) => `node-${i} ${c}%`).join(', ')}${f.postgresCpuPct !== null ? `; PostgreSQL backends ${f.postgresCpuPct}%` : ''}${f.redisCpuPct !== null ? `; Redis ${f.redisCpuPct}%` : ''}; load generator ${f.loadCpuPct}%; other processes ${p.otherCpuPct}%`,
    );
    say(
      `    CPU per stored frame: ${f.usPerFrameByNode.map((u, i) => `node-${i} ${fmt(u, ' µs')}`).join(', ')}; all nodes ${fmt(f.usPerFrameNodes, ' µs')}${f.usPerFramePostgres !== null ? `, PostgreSQL ${fmt(f.usPerFramePostgres, ' µs')}` : ''}${f.usPerFrameRedis !== null ? `, Redis ${fmt(f.usPerFrameRedis, ' µs')}` : ''}; server side in total ${fmt(f.usPerFrameServerSide, ' µs')}`,
    );
    if (f.commitsPerFrame !== null)
      say(
        `    database writes (whole phase): ${fmt(f.commitsPerFrame)} transactions committed per frame (${fmt(f.framesPerCommit)} frames per commit), ${fmt(f.rowsPerFrame)} rows inserted per frame`,
      );
    if (p.loadErrors) say(`    load generator: ${p.loadErrors} failed publishes or disconnects`);
    if (p.warnings.length) say(`    platform warnings: ${p.warnings.length}, first: ${p.warnings[0]!.slice(0, 300)}`);
  }
  say(`  held against: ${sqlite ? 'the SQLite single node above' : 'no SQLite run (--skip-sqlite)'}; ${COMPARISON}`);
  if (failover) {
    const ff = failoverFigures(failover.rounds);
    say(
      `  failover (${failover.nodes} nodes, ${failover.gateways} gateways through the balancer, kill -9 of one node per round, ${ff.rounds} rounds):`,
    );
    say(
      `    kill → connected again elsewhere: p50 ${fmt(ff.p50Ms, ' ms')}, max ${fmt(ff.maxMs, ' ms')} over ${ff.reconnected} of ${ff.onKilledNodes} gateways; all back per round: ${ff.allBackMs.map((x) => fmt(x, ' ms')).join(', ')}`,
    );
    say(
      `    zero loss: ${failover.acked} acknowledged, lost ${failover.lost}${failover.inflightLeft ? ` (${failover.inflightLeft} publishes unanswered at the end)` : ''}   ${failover.lost === 0 && failover.rounds.every((r) => r.complete) ? 'PASS' : 'FAIL'}`,
    );
  }
  const worst = Math.max(0, ...phases.map((p) => p.otherCpuPct));
  if (worst > 15)
    say(
      `  WARNING: other processes used up to ${worst}% of a core during a measured window; run again on a quieter machine`,
    );
}

function figuresJson(phases: PhaseResult[], failover: FailoverResult | undefined) {
  const sqlite = phases.find((p) => p.store === 'sqlite');
  const ff = failover ? failoverFigures(failover.rounds) : undefined;
  const lost = phases.reduce((n, p) => n + p.lost, 0) + (failover?.lost ?? 0);
  return {
    bench: 'cluster',
    settings: {
      vehicles: s.vehicles,
      durationS: s.duration,
      warmupS: s.warmup,
      window: s.window,
      nodes: s.nodes,
      sqlite: s.sqlite,
      failover: s.failover ?? null,
    },
    phases: phases.map((p) => ({
      store: p.store,
      nodes: p.nodes,
      ...p.figures,
      vsSqlite: sqlite ? Math.round((p.figures.framesPerS / sqlite.figures.framesPerS) * 100) / 100 : null,
      acked: p.acked,
      stored: p.stored,
      lost: p.lost,
      otherCpuPct: p.otherCpuPct,
    })),
    failover: failover
      ? {
          nodes: failover.nodes,
          gateways: failover.gateways,
          ...ff,
          acked: failover.acked,
          lost: failover.lost,
          complete: failover.rounds.every((r) => r.complete),
        }
      : null,
    lost,
    cores: availableParallelism(),
    otherCpuPct: Math.max(0, ...phases.map((p) => p.otherCpuPct)),
    pass: lost === 0 && (failover?.rounds.every((r) => r.complete) ?? true),
  };
}

// ── main ────────────────────────────────────────────────────────────────────────────────────────

async function main(): Promise<number> {
  const started = Date.now();
  say(`cluster bench — ${new Date().toISOString()} — ${availableParallelism()} cores, node ${process.version}`);
  const limits = fileLimits();
  const needed = Math.max(s.vehicles, s.failover?.gateways ?? 0);
  if (needed + 1024 > limits.hard)
    throw new Error(
      `the open-file limit (${limits.hard}) is too low for ${needed} connections; raise it with \`ulimit -n\``,
    );
  const tempDir = lifecycle.tempDir();
  const db = await createBenchDatabase(s.pgUrl, 'powerwatch_cluster_');
  lifecycle.onCleanup(db.drop);
  const redisPrefix = `pwbench:${process.pid}-${randomBytes(3).toString('hex')}:`;
  lifecycle.onCleanup(() => deleteRedisPrefix(s.redisUrl, redisPrefix));
  const run: Run = {
    tempDir,
    fdLimit: Math.min(limits.hard, Math.max(limits.soft, needed + 1024)),
    databaseUrl: db.url,
    redisPrefix,
    redisPid: await localRedisPid(s.redisUrl).catch(() => undefined),
    seqBase: 0,
  };
  say(`  database ${new URL(db.url).pathname.slice(1)} on ${new URL(s.pgUrl).host}, Redis key prefix ${redisPrefix}`);
  say(`  building the platform (npm run build:server) …`);
  platformEntry(ROOT);

  const phases: PhaseResult[] = [];
  if (s.sqlite) {
    say(`SQLite, 1 node: provisioning ${s.vehicles} vehicles …`);
    const dir = join(tempDir, 'sqlite-node');
    const creds = await provisionVehicles(ROOT, dir, s.vehicles);
    const file = join(tempDir, 'credentials-sqlite.json');
    writeFileSync(file, JSON.stringify(creds), { mode: 0o600 });
    say(`  closed loop: ${s.vehicles} connections × ${s.window} in flight, ${s.warmup} s warm-up + ${s.duration} s …`);
    phases.push(await throughputPhase(run, 'sqlite', 1, creds, file));
  }

  let creds: Credential[] | undefined;
  const credsFile = join(tempDir, 'credentials-cluster.json');
  const clusterCreds = async () => {
    if (creds) return creds;
    // node-0 migrates the new database, then the vehicles go into its records
    const first = await startCluster(run, 1);
    try {
      say(`  provisioning ${needed} vehicles into the cluster's records (PostgreSQL) …`);
      creds = await provisionVehiclesInPostgres(ROOT, run.databaseUrl, needed);
    } finally {
      await stopNodes(first);
    }
    writeFileSync(credsFile, JSON.stringify(creds), { mode: 0o600 });
    return creds;
  };
  for (const n of s.nodes) {
    say(`PostgreSQL + Redis, ${n} node${n > 1 ? 's' : ''}:`);
    const c = await clusterCreds();
    say(
      `  closed loop: ${s.vehicles} connections round-robin over the nodes × ${s.window} in flight, ${s.warmup} s warm-up + ${s.duration} s …`,
    );
    phases.push(await throughputPhase(run, 'postgres', n, c, credsFile));
  }

  let failover: FailoverResult | undefined;
  if (s.failover) {
    const f = s.failover;
    say(
      `failover: ${f.nodes} nodes behind a TCP balancer, ${f.gateways} gateways at ${f.rateHz} Hz (QoS 1), ${f.rounds} rounds of kill -9 …`,
    );
    await clusterCreds();
    failover = await failoverPhase(run, credsFile);
  }

  report(phases, failover);
  say(`  total bench time ${((Date.now() - started) / 1000).toFixed(0)} s`);
  const json = figuresJson(phases, failover);
  say(JSON.stringify(json));
  return json.pass ? 0 : 1;
}

lifecycle.run(main);
