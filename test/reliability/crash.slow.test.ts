import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { sql } from 'kysely';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { vehicleTopic, type TelemetryFrame } from '../../protocol/index.ts';
import { loadConfig } from '../../platform/config.ts';
import { openSqliteRecords } from '../../records/db.ts';
import { createVehicleRegistry } from '../../registry/vehicles.ts';
import { healthy, onBattery } from '../diagnostics/fixtures.ts';
import { recordsFile, telemetryFile } from '../../platform/data-files.ts';
import { freePort, prng, until } from './kill-loop.ts';

/**
 * Crash under load: the platform runs as its own process (`node --import tsx platform/main.ts`, as
 * `npm start` does) and is killed with SIGKILL at random moments, again and again, while 200
 * gateways stream at QoS 1 and some of them have faults that raise alarms and open tickets.
 * After the last restart:
 *  - every frame whose PUBACK a gateway received is in telemetry.db exactly once (and, once the
 *    gateways have sent everything again, every frame they sampled);
 *  - every alarm raised has its incident, and every major or critical incident its one ticket; each
 *    faulty vehicle got its alarm and ticket, whatever crash came in between, and no alarm was
 *    raised twice;
 *  - deadline timers resume: a ticket whose 30-minute deadline passed while the platform was down
 *    is marked breached at start, and one whose deadline comes after the restart when it comes.
 *
 * The PRNG seed is printed; `CRASH_SEED=<seed> npm run test:slow -- test/reliability/crash` repeats
 * the same kill moments and fault plan.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const VEHICLES = 200;
/** Each gateway samples a frame this often (2 Hz): 400 frames/s in all. */
const SAMPLE_MS = 500;
/** Kills after the platform said it started, at a random moment of its uptime. */
const KILLS_UNDER_LOAD = 20;
/** And a few more while it is starting (during recovery, before it listens). */
const KILLS_WHILE_STARTING = 3;
const UPTIME_MS: [number, number] = [500, 3500];
/** The run lasts at least this long, so that the slowest fault (GEN-START-FAIL, 90 s after mains loss) is raised. */
const MIN_RUN_MS = 110_000;
/** The last life of the platform (no more kills) lasts at least this long. */
const LAST_LIFE_MS = 15_000;
const MAX_FRAMES_PER_GATEWAY = 600;
const PER_MESSAGE = 100;
const INFLIGHT = 4;

// -- faults ---------------------------------------------------------------------------------------

type FaultKind = 'generator_start_failed' | 'battery_very_low_soc' | 'charging_over_voltage';
/** Per fault: the rule it must raise and the ticket level that follows. */
const EXPECTED: Record<FaultKind, { level: 'extra_urgent' | 'urgent' }> = {
  // mains lost (minor), then the generator never starts: critical after 90 s
  generator_start_failed: { level: 'extra_urgent' },
  // mains lost and the battery below 15 % on a vehicle without a generator: major after 30 s
  battery_very_low_soc: { level: 'urgent' },
  // the alternator regulator fails high: critical after 10 s
  charging_over_voltage: { level: 'extra_urgent' },
};

interface Fault {
  kind: FaultKind;
  onset: number;
}

function frameFor(seq: number, ts: number, fault: Fault | null): TelemetryFrame {
  if (!fault || ts < fault.onset) {
    const f = healthy(seq, ts);
    if (fault?.kind === 'battery_very_low_soc') delete f.generator;
    return f;
  }
  const s = (ts - fault.onset) / 1000;
  switch (fault.kind) {
    case 'generator_start_failed':
      return onBattery(seq, ts, 80 - s / 60, -45);
    case 'battery_very_low_soc': {
      const f = onBattery(seq, ts, Math.max(1, 14 - s / 120), -45);
      delete f.generator;
      return f;
    }
    case 'charging_over_voltage':
      return healthy(seq, ts, { charging: { engineRunning: true, alternatorV: 31.5 + (seq % 5) / 10, currentA: 20 } });
  }
}

// -- gateways: plain MQTT.js clients that keep every frame until its PUBACK --------------------------

interface Gateway {
  id: string;
  secret: string;
  fault: Fault | null;
  nextSeq: number;
  /** Sampled, not acknowledged, oldest first. */
  pending: TelemetryFrame[];
  /** Frames on the wire on the current connection. */
  inflight: Set<TelemetryFrame>;
  messagesInFlight: number;
  acked: { seq: number; ts: number }[];
  client: MqttClient | null;
  epoch: number;
  online: boolean;
  backoffMs: number;
  reconnectTimer: NodeJS.Timeout | null;
  connects: number;
}

describe('crash under load', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'pw-crash-'));
  let child: ChildProcess | undefined;
  const gateways: Gateway[] = [];
  let stopped = false;

  afterAll(async () => {
    stopped = true;
    for (const g of gateways) {
      if (g.reconnectTimer) clearTimeout(g.reconnectTimer);
      g.client?.end(true);
    }
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it(`kill -9 (${KILLS_UNDER_LOAD}+ times running, ${KILLS_WHILE_STARTING} starting) while 200 gateways stream at QoS 1: acknowledged frames stored once, alarms with tickets, deadlines resumed`, async () => {
    const seed = Number(process.env.CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));
    console.log(`crash test seed: ${seed} (repeat with CRASH_SEED=${seed})`);
    const random = prng(seed);
    const runStart = performance.now();

    // -- provisioning, as `npm run vehicles -- add` does, in the platform's DATA_DIR ------------------
    const provision = await openSqliteRecords({ file: recordsFile(dataDir) });
    // acknowledgements depend on writes to both stores: both commit with synchronous=FULL (2) — the
    // records store always, the telemetry store by default (TELEMETRY_SYNC=full, which
    // telemetry/sqlite-store.ts applies to its writer thread's connection)
    const sync = await sql<{ synchronous: number }>`PRAGMA synchronous`.execute(provision);
    expect(sync.rows[0]!.synchronous).toBe(2);
    expect(loadConfig({ DATA_DIR: dataDir }).TELEMETRY_SYNC).toBe('full');
    const registry = createVehicleRegistry({ db: provision });
    const kinds: FaultKind[] = ['generator_start_failed', 'battery_very_low_soc', 'charging_over_voltage'];
    const faultPlan = new Map<number, FaultKind>();
    for (let i = 0; i < 45; i++) faultPlan.set(i * 4 + Math.floor(random() * 4), kinds[i % 3]!);
    for (let i = 0; i < VEHICLES; i++) {
      const id = `CR${String(i).padStart(3, '0')}`;
      const kind = faultPlan.get(i);
      // the low-battery vehicles have no generator (else its failure to start would join, critical)
      const profile = kind === 'battery_very_low_soc' ? { hasGenerator: false } : undefined;
      const { secret } = await registry.add({
        id,
        customerId: `C${i % 4}`,
        name: `Crash ${i}`,
        ...(profile ? { profile } : {}),
      });
      gateways.push({
        id,
        secret,
        fault: kind ? { kind, onset: 0 } : null,
        nextSeq: 0,
        pending: [],
        inflight: new Set(),
        messagesInFlight: 0,
        acked: [],
        client: null,
        epoch: 0,
        online: false,
        backoffMs: 100,
        reconnectTimer: null,
        connects: 0,
      });
    }
    await provision.destroy();

    // -- the platform process -------------------------------------------------------------------------
    const mqttPort = await freePort();
    const brokerUrl = `mqtt://127.0.0.1:${mqttPort}`;
    let logTail: string[] = [];
    let unexpectedExit: string | null = null;
    const startTimes: number[] = [];
    /** Per start: diagnostics' re-evaluation of the recent window (from its log line). */
    const recoveryTimes: number[] = [];
    let readyAt = 0;

    /** Starts the platform; resolves with the child once it has logged "platform started", unless `killAfterMs` comes first. */
    async function startPlatform(killAfterMs?: number): Promise<{ ready: boolean }> {
      const spawnedAt = performance.now();
      logTail = [];
      const p = spawn(process.execPath, ['--import', 'tsx', 'platform/main.ts'], {
        cwd: ROOT,
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          MQTT_PORT: String(mqttPort),
          MQTT_HOST: '127.0.0.1',
          HTTP_PORT: '0',
          HTTP_HOST: '127.0.0.1',
          DATA_DIR: dataDir,
          LOG_LEVEL: 'info',
          DIAGNOSTICS_TICK_MS: '1000',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child = p;
      let ready = false;
      let readyResolve!: () => void;
      const readyP = new Promise<void>((resolve) => (readyResolve = resolve));
      let buf = '';
      p.stdout!.on('data', (chunk: Buffer) => {
        buf += chunk.toString('utf8');
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          logTail.push(line);
          if (logTail.length > 200) logTail.shift();
          if (line.includes('"msg":"recent telemetry re-evaluated after start"'))
            recoveryTimes.push((JSON.parse(line) as { ms: number }).ms);
          if (!ready && line.includes('"msg":"platform started"')) {
            ready = true;
            readyAt = Date.now();
            startTimes.push(performance.now() - spawnedAt);
            readyResolve();
          }
        }
      });
      p.stderr!.on('data', (chunk: Buffer) => logTail.push(chunk.toString('utf8')));
      p.once('exit', (code, signal) => {
        if (signal !== 'SIGKILL' && !(signal === 'SIGTERM' || code === 0))
          unexpectedExit = `platform exited by itself (code ${code}, signal ${signal}):\n${logTail.slice(-30).join('\n')}`;
        readyResolve();
      });
      if (killAfterMs !== undefined) {
        await Promise.race([readyP, new Promise((r) => setTimeout(r, killAfterMs))]);
        return { ready };
      }
      const timeout = setTimeout(() => readyResolve(), 30_000);
      await readyP;
      clearTimeout(timeout);
      if (unexpectedExit) throw new Error(unexpectedExit);
      if (!ready) throw new Error(`the platform did not start within 30 s:\n${logTail.slice(-30).join('\n')}`);
      return { ready };
    }

    async function kill9(): Promise<void> {
      const p = child!;
      if (p.exitCode !== null || p.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => p.once('exit', () => resolve()));
      p.kill('SIGKILL');
      await exited;
    }

    // -- gateway behaviour --------------------------------------------------------------------------
    function connect(g: Gateway) {
      g.reconnectTimer = null;
      if (stopped) return;
      const my = ++g.epoch;
      const c = mqtt.connect(brokerUrl, {
        clientId: g.id,
        username: g.id,
        password: g.secret,
        protocolVersion: 4,
        clean: true,
        reconnectPeriod: 0,
        connectTimeout: 5000,
        keepalive: 30,
      });
      g.client = c;
      c.on('error', () => undefined);
      c.on('connect', () => {
        if (my !== g.epoch) return;
        g.online = true;
        g.connects++;
        g.backoffMs = 100;
        pump(g);
      });
      c.on('close', () => {
        if (my !== g.epoch) return;
        // the connection is gone: what was on the wire is pending again, sent anew on the next one
        g.epoch++;
        g.online = false;
        g.inflight.clear();
        g.messagesInFlight = 0;
        g.client = null;
        setImmediate(() => c.end(true));
        if (stopped) return;
        const delay = g.backoffMs * (0.5 + Math.random());
        g.backoffMs = Math.min(500, g.backoffMs * 2);
        g.reconnectTimer = setTimeout(() => connect(g), delay);
      });
    }

    function pump(g: Gateway) {
      const c = g.client;
      if (!c || !g.online) return;
      while (g.messagesInFlight < INFLIGHT) {
        const batch: TelemetryFrame[] = [];
        for (const f of g.pending) {
          if (g.inflight.has(f)) continue;
          batch.push(f);
          if (batch.length >= PER_MESSAGE) break;
        }
        if (batch.length === 0) return;
        for (const f of batch) g.inflight.add(f);
        g.messagesInFlight++;
        const my = g.epoch;
        const payload = batch.length === 1 ? JSON.stringify(batch[0]) : JSON.stringify({ frames: batch });
        c.publish(vehicleTopic(g.id, 'telemetry'), payload, { qos: 1 }, (err) => {
          if (my !== g.epoch || err) return; // that connection is gone; its frames are pending again
          g.messagesInFlight--;
          const done = new Set(batch);
          g.pending = g.pending.filter((f) => !done.has(f));
          for (const f of batch) {
            g.inflight.delete(f);
            g.acked.push({ seq: f.seq, ts: f.ts });
          }
          pump(g);
        });
      }
    }

    const streamStart = Date.now();
    for (const g of gateways) {
      if (!g.fault) continue;
      // onsets spread over the run; the generator failure needs 90 s after its onset, so it starts early
      const [lo, hi] = g.fault.kind === 'generator_start_failed' ? [2_000, 8_000] : [2_000, 70_000];
      g.fault.onset = streamStart + lo + Math.floor(random() * (hi - lo));
    }
    // gateways are not in step: each samples every SAMPLE_MS, a tenth of them every SAMPLE_MS / 10
    let sampling = true;
    let slot = 0;
    const sampler = setInterval(() => {
      if (!sampling) return;
      const ts = Date.now();
      slot = (slot + 1) % 10;
      for (let i = slot; i < gateways.length; i += 10) {
        const g = gateways[i]!;
        if (g.nextSeq >= MAX_FRAMES_PER_GATEWAY) continue;
        g.pending.push(frameFor(g.nextSeq++, ts, g.fault));
        pump(g);
      }
    }, SAMPLE_MS / 10);

    const acked = () => gateways.reduce((n, g) => n + g.acked.length, 0);
    const sampled = () => gateways.reduce((n, g) => n + g.nextSeq, 0);

    try {
      // -- the crash loop ---------------------------------------------------------------------------
      await startPlatform();
      for (const g of gateways) connect(g);
      await until(() => gateways.every((g) => g.online), 30_000, 'every gateway to connect');
      const startingKills = new Set<number>();
      while (startingKills.size < KILLS_WHILE_STARTING)
        startingKills.add(2 + Math.floor(random() * (KILLS_UNDER_LOAD - 4)));
      let killsUnderLoad = 0;
      let killsWhileStarting = 0;
      const ackedPerCycle: number[] = [];
      const inflightAtKill: number[] = [];
      for (let cycle = 0; cycle < 100; cycle++) {
        const before = acked();
        await new Promise((r) => setTimeout(r, UPTIME_MS[0] + random() * (UPTIME_MS[1] - UPTIME_MS[0]))); // the random moment of the crash
        if (unexpectedExit) throw new Error(unexpectedExit);
        // … taken when messages are on the wire (they come in bursts, a few ms every 50 ms)
        const inFlight = () => gateways.reduce((n, g) => n + g.messagesInFlight, 0);
        for (let i = 0; i < 300 && inFlight() === 0; i++) await new Promise((r) => setTimeout(r, 1));
        inflightAtKill.push(inFlight());
        await kill9();
        killsUnderLoad++;
        ackedPerCycle.push(acked() - before);
        if (startingKills.has(cycle)) {
          // killed again while starting: recovery, deadline checks or the first connections interrupted
          await startPlatform(200 + random() * 1200);
          await kill9();
          killsWhileStarting++;
        }
        if (killsUnderLoad >= KILLS_UNDER_LOAD && performance.now() - runStart >= MIN_RUN_MS - LAST_LIFE_MS) break;
        await startPlatform();
      }

      // -- while it is down after the last kill: two open tickets' deadlines as if time had passed ------
      const records = new Database(recordsFile(dataDir));
      const open = records
        .prepare(
          `SELECT id, number, level FROM tickets WHERE status = 'received' AND breaches = '[]' AND source = 'rule' ORDER BY id`,
        )
        .all() as { id: number; number: string; level: string }[];
      expect(open.length, 'tickets opened before the last restart').toBeGreaterThanOrEqual(2);
      const passed = open[0]!;
      const coming = open[open.length - 1]!;
      const passedDue = Date.now() - 60_000; // passed while the platform was down
      const comingDue = Date.now() + 20_000; // passes after the restart: its timer must be armed again
      records
        .prepare(
          `UPDATE tickets SET work_content_due_at = ?, plan_due_at = CASE WHEN plan_due_at IS NULL THEN NULL ELSE ? END WHERE id = ?`,
        )
        .run(passedDue, passedDue + 1, passed.id);
      records
        .prepare(
          `UPDATE tickets SET work_content_due_at = ?, plan_due_at = CASE WHEN plan_due_at IS NULL THEN NULL ELSE ? END WHERE id = ?`,
        )
        .run(comingDue, comingDue + 60_000, coming.id);
      records.close();

      // -- the last restart: gateways catch up, faults run their course, deadlines fire ------------------
      await startPlatform();
      const restartedAt = readyAt;
      const reader = new Database(recordsFile(dataDir), { readonly: true });
      const breachOf = (id: number) =>
        reader
          .prepare(`SELECT at FROM ticket_timeline WHERE ticket_id = ? AND action = 'deadline_breached' ORDER BY id`)
          .all(id) as { at: number }[];
      try {
        await until(
          () => breachOf(passed.id).length > 0,
          10_000,
          `ticket ${passed.number}'s missed deadline to be recorded after the restart`,
        );
        expect(breachOf(passed.id)[0]!.at - restartedAt).toBeLessThan(5_000);
        await until(
          () => breachOf(coming.id).length > 0,
          comingDue - Date.now() + 10_000,
          `ticket ${coming.number}'s deadline to fire after the restart`,
        );
        // when it comes (or at start, had the start been slower than the deadline)
        expect(breachOf(coming.id)[0]!.at).toBeGreaterThanOrEqual(comingDue);
        expect(breachOf(coming.id)[0]!.at - Math.max(comingDue, restartedAt)).toBeLessThan(3_000);
      } finally {
        reader.close();
      }
      await until(
        () => performance.now() - runStart >= MIN_RUN_MS,
        MIN_RUN_MS,
        'the slowest fault to have had its time',
      );
      sampling = false;
      await until(
        () => gateways.every((g) => g.pending.length === 0),
        60_000,
        'every gateway to have every frame acknowledged',
      );
      if (unexpectedExit) throw new Error(unexpectedExit);

      // a clean stop (SIGTERM): diagnostics finishes what it has queued
      stopped = true;
      const exited = new Promise<void>((resolve) => child!.once('exit', () => resolve()));
      child!.kill('SIGTERM');
      await exited;

      // -- the invariants, read from the files ---------------------------------------------------------
      const telemetry = new Database(telemetryFile(dataDir), { readonly: true });
      const rows = telemetry.prepare(`SELECT vehicle_id AS v, seq, ts FROM telemetry`).raw().all() as [
        string,
        number,
        number,
      ][];
      const dupes = telemetry
        .prepare(`SELECT vehicle_id, seq, count(*) AS n FROM telemetry GROUP BY vehicle_id, seq HAVING n > 1 LIMIT 10`)
        .all();
      telemetry.close();
      const stored = new Map<string, number>();
      for (const [v, seq, ts] of rows) stored.set(`${v}:${seq}:${ts}`, (stored.get(`${v}:${seq}:${ts}`) ?? 0) + 1);
      const missing: string[] = [];
      for (const g of gateways)
        for (const a of g.acked) if (stored.get(`${g.id}:${a.seq}:${a.ts}`) !== 1) missing.push(`${g.id}:${a.seq}`);
      expect(missing.slice(0, 20), 'acknowledged frames not stored exactly once').toEqual([]);
      expect(dupes).toEqual([]);
      expect(rows.length, 'every sampled frame was finally stored, once').toBe(sampled());
      expect(acked()).toBe(sampled());

      const db = new Database(recordsFile(dataDir), { readonly: true });
      try {
        type AlarmRow = {
          id: number;
          vehicle_id: string;
          rule_id: string;
          severity: string;
          live: number;
          raise_count: number;
          incident_id: number | null;
        };
        const alarms = db
          .prepare(`SELECT id, vehicle_id, rule_id, severity, live, raise_count, incident_id FROM alarms`)
          .all() as AlarmRow[];
        const incidents = new Map(
          (
            db.prepare(`SELECT id, vehicle_id, severity, ticket_id FROM incidents`).all() as {
              id: number;
              vehicle_id: string;
              severity: string;
              ticket_id: number | null;
            }[]
          ).map((i) => [i.id, i]),
        );
        const tickets = db
          .prepare(
            `SELECT id, vehicle_id, incident_id, level, fault_code, breaches, escalated_to FROM tickets WHERE source = 'rule'`,
          )
          .all() as {
          id: number;
          vehicle_id: string;
          incident_id: number;
          level: string;
          fault_code: string;
          breaches: string;
          escalated_to: string | null;
        }[];
        const ticketById = new Map(tickets.map((t) => [t.id, t]));

        // every alarm raised live is in an incident; every major or critical incident has its one ticket
        const problems: string[] = [];
        for (const a of alarms) {
          if (!a.live) continue;
          const inc = a.incident_id === null ? undefined : incidents.get(a.incident_id);
          if (!inc) problems.push(`alarm ${a.id} (${a.vehicle_id} ${a.rule_id}) has no incident`);
          else if (
            a.severity !== 'minor' &&
            (inc.ticket_id === null || ticketById.get(inc.ticket_id)?.incident_id !== inc.id)
          )
            problems.push(`alarm ${a.id} (${a.vehicle_id} ${a.rule_id}, ${a.severity}) has no ticket`);
          if (a.raise_count !== 1)
            problems.push(`alarm ${a.id} (${a.vehicle_id} ${a.rule_id}) raised ${a.raise_count} times`);
        }
        for (const inc of incidents.values())
          if (inc.severity !== 'minor' && inc.ticket_id === null)
            problems.push(`incident ${inc.id} (${inc.vehicle_id}, ${inc.severity}) has no ticket`);
        const perIncident = new Map<number, number>();
        for (const t of tickets) perIncident.set(t.incident_id, (perIncident.get(t.incident_id) ?? 0) + 1);
        for (const [id, n] of perIncident) if (n > 1) problems.push(`incident ${id} has ${n} tickets`);
        // each faulty vehicle got its alarm and its ticket, the others nothing
        for (const g of gateways) {
          const mine = alarms.filter((a) => a.vehicle_id === g.id);
          if (!g.fault) {
            if (mine.length) problems.push(`${g.id} (no fault) has alarms ${mine.map((a) => a.rule_id).join(', ')}`);
            continue;
          }
          const alarm = mine.find((a) => a.rule_id === g.fault!.kind && a.live === 1);
          if (!alarm) {
            problems.push(
              `${g.id} (${g.fault.kind}) has no live alarm for it (has ${mine.map((a) => a.rule_id).join(', ') || 'none'})`,
            );
            continue;
          }
          const t = tickets.filter((x) => x.vehicle_id === g.id);
          if (t.length !== 1 || t[0]!.level !== EXPECTED[g.fault.kind].level)
            problems.push(
              `${g.id} (${g.fault.kind}) has tickets ${JSON.stringify(t.map((x) => [x.fault_code, x.level]))}`,
            );
        }
        const ticketTimes = (
          db.prepare(`SELECT received_at AS at FROM tickets WHERE source = 'rule' ORDER BY received_at`).all() as {
            at: number;
          }[]
        ).map((r) => r.at);
        const summary = {
          seed,
          kills: killsUnderLoad + killsWhileStarting,
          killsUnderLoad,
          killsWhileStarting,
          recoveryMs: recoveryTimes.length
            ? {
                mean: Math.round(recoveryTimes.reduce((a, b) => a + b, 0) / recoveryTimes.length),
                max: Math.max(...recoveryTimes),
              }
            : null,
          platformStartMs: {
            min: Math.round(Math.min(...startTimes)),
            mean: Math.round(startTimes.reduce((a, b) => a + b, 0) / startTimes.length),
            max: Math.round(Math.max(...startTimes)),
          },
          framesSampled: sampled(),
          framesAcknowledged: acked(),
          acknowledgedPerLife: { min: Math.min(...ackedPerCycle), max: Math.max(...ackedPerCycle) },
          killsWithMessagesInFlight: inflightAtKill.filter((n) => n > 0).length,
          messagesInFlightAtKill: { min: Math.min(...inflightAtKill), max: Math.max(...inflightAtKill) },
          reconnects: gateways.reduce((n, g) => n + g.connects, 0),
          alarms: alarms.length,
          tickets: tickets.length,
          ticketsSpreadS: Math.round((ticketTimes[ticketTimes.length - 1]! - ticketTimes[0]!) / 1000),
          runS: Math.round((performance.now() - runStart) / 1000),
        };
        console.log(`crash test summary: ${JSON.stringify(summary)}`);
        expect(problems).toEqual([]);
        const faulty = gateways.filter((g) => g.fault).length;
        expect(tickets.length).toBe(faulty);

        // the two deadlines: breached once, escalated
        for (const t of [passed, coming]) {
          const row = ticketById.get(t.id)!;
          expect(JSON.parse(row.breaches)).toContain('work_content');
          expect(row.escalated_to).toBe('duty-lead');
          const n = (
            db
              .prepare(
                `SELECT count(*) AS n FROM ticket_timeline WHERE ticket_id = ? AND action = 'deadline_breached' AND note LIKE 'work content%'`,
              )
              .get(t.id) as { n: number }
          ).n;
          expect(n).toBe(1);
        }

        expect(killsUnderLoad + killsWhileStarting).toBeGreaterThanOrEqual(20);
        // the kills hit a platform under load: frames acknowledged between them, messages on the wire when they came
        expect(ackedPerCycle.filter((n) => n > 0).length).toBeGreaterThanOrEqual(0.75 * killsUnderLoad);
        expect(inflightAtKill.filter((n) => n > 0).length).toBeGreaterThanOrEqual(0.75 * killsUnderLoad);
        // and tickets were opened across the crashes, not all in one life of the process
        expect(summary.ticketsSpreadS).toBeGreaterThan(30);
      } finally {
        db.close();
      }
    } finally {
      sampling = false;
      clearInterval(sampler);
    }
  });
});
