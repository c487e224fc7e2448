import { describe, expect, it } from 'vitest';
import { createInProcessBus } from '../../core/bus.ts';
import { createCounters } from '../../core/counters.ts';
import type { PlatformEvents } from '../../core/events.ts';
import { silentLogger } from '../../core/logger.ts';
import { createConfirmations, type ConfirmationStore } from '../../ingest/confirmations.ts';
import type { Command, TelemetryConfirmed, TelemetryFrame } from '../../protocol/index.ts';

const T0 = 1_795_766_400_000;
const f = (seq: number, ts = T0 + seq * 1000): TelemetryFrame => ({ v: 1, seq, ts, source: 'mains', loadKw: 1 });
const range = (from: number, to: number, ts?: (s: number) => number) =>
  Array.from({ length: to - from + 1 }, (_, i) => f(from + i, ts?.(from + i)));

function memoryStore(): ConfirmationStore & { rows: Map<string, { seq: number; ts: number }>; log: string[] } {
  const rows = new Map<string, { seq: number; ts: number }>();
  const log: string[] = [];
  return {
    rows,
    log,
    load: async () => [...rows].map(([vehicleId, r]) => ({ vehicleId, ...r })),
    save: async (list) => {
      for (const r of list) {
        rows.set(r.vehicleId, { seq: r.seq, ts: r.ts });
        log.push(`save ${r.vehicleId} ${r.seq}`);
      }
    },
    remove: async (id) => void rows.delete(id),
  };
}

async function setup(
  options: { store?: ReturnType<typeof memoryStore>; maxBackfillAttempts?: number; maxRanges?: number } = {},
) {
  const bus = createInProcessBus<PlatformEvents>(silentLogger());
  const counters = createCounters();
  const store = options.store ?? memoryStore();
  let clock = T0;
  const published: { vehicleId: string; kind: string; payload: TelemetryConfirmed | Command }[] = [];
  const c = createConfirmations(
    {
      bus,
      store,
      counters,
      log: silentLogger(),
      now: () => clock,
      publish: async (vehicleId, kind, payload) => {
        if (kind === 'telemetry/confirmed')
          store.log.push(`publish ${vehicleId} ${(payload as TelemetryConfirmed).seq}`);
        published.push({ vehicleId, kind, payload });
      },
    },
    {
      intervalMs: 1000,
      gapGraceMs: 2000,
      backfillRetryMs: 10_000,
      maxBackfillAttempts: options.maxBackfillAttempts ?? 3,
      maxRanges: options.maxRanges,
      tickMs: 3_600_000,
    },
  );
  await c.start();
  const commit = (vehicleId: string, frames: TelemetryFrame[]) =>
    bus.emit('telemetry.committed', { vehicleId, receivedAt: clock, frames });
  /** Moves the clock and runs the timer's work, waiting for the persist-then-publish. */
  const at = async (ms: number) => {
    clock = T0 + ms;
    c.tick(clock);
    await c.flush().catch(() => undefined);
    await new Promise((r) => setImmediate(r));
  };
  const confirmations = (id = 'V1') =>
    published
      .filter((p) => p.vehicleId === id && p.kind === 'telemetry/confirmed')
      .map((p) => p.payload as TelemetryConfirmed);
  const backfills = (id = 'V1') =>
    published.filter((p) => p.vehicleId === id && p.kind === 'commands').map((p) => p.payload as Command);
  return {
    bus,
    counters,
    store,
    c,
    commit,
    at,
    published,
    confirmations,
    backfills,
    setClock: (ms: number) => (clock = T0 + ms),
  };
}

describe('delivery confirmation (ingest/confirmations.ts)', () => {
  it('confirms the highest contiguous seq, persisted before it is published, at most once per interval for live frames', async () => {
    const s = await setup();
    for (let i = 0; i < 5; i++) {
      s.setClock(i * 200);
      s.commit('V1', [f(i)]);
      s.c.tick(T0 + i * 200);
      await new Promise((r) => setImmediate(r));
    }
    expect(s.confirmations()).toEqual([{ v: 1, seq: 0, ts: T0 }]); // the first at once, then the interval holds
    await s.at(1000);
    expect(s.confirmations().at(-1)).toEqual({ v: 1, seq: 4, ts: T0 + 4000 });
    expect(s.store.log).toEqual(['save V1 0', 'publish V1 0', 'save V1 4', 'publish V1 4']);
    expect(s.store.rows.get('V1')).toEqual({ seq: 4, ts: T0 + 4000 });
  });

  it('a replay batch is confirmed at the next tick, whatever the interval', async () => {
    const s = await setup();
    s.commit('V1', [f(0)]);
    await s.at(0);
    s.commit('V1', range(1, 500));
    await s.at(10);
    s.commit('V1', range(501, 1000));
    await s.at(20);
    expect(s.confirmations().map((c) => c.seq)).toEqual([0, 500, 1000]);
  });

  it('a seq gap: frames above are kept, the gap is asked for after the grace period with the ts either side, and filled', async () => {
    const s = await setup();
    s.commit('V1', range(0, 9));
    s.commit('V1', range(12, 20));
    await s.at(0);
    expect(s.c.state('V1')).toMatchObject({ seq: 9, gaps: [{ from: 10, to: 11 }] });
    expect(s.confirmations().at(-1)?.seq).toBe(9);
    await s.at(1999);
    expect(s.backfills()).toEqual([]);
    await s.at(2000);
    expect(s.backfills()).toEqual([
      {
        id: expect.stringMatching(/^bf-/),
        ts: T0 + 2000,
        name: 'backfill',
        args: { fromSeq: 10, toSeq: 11, afterTs: T0 + 9000, beforeTs: T0 + 12_000 },
      },
    ]);
    s.commit('V1', [f(10), f(11)]); // the gateway re-sent them
    await s.at(2010);
    expect(s.c.state('V1')).toMatchObject({ seq: 20, gaps: [] });
    expect(s.confirmations().at(-1)).toEqual({ v: 1, seq: 20, ts: T0 + 20_000 });
    expect(s.counters.get('telemetry.seq_gaps', 'V1')).toBe(1);
    expect(s.counters.get('telemetry.frames_lost', 'V1')).toBe(0);
  });

  it('seqs the gateway reports missing are counted as lost and passed', async () => {
    const s = await setup();
    s.commit('V1', range(0, 4));
    s.commit('V1', range(10, 12));
    s.commit('V1', range(20, 21));
    await s.at(2000);
    const [a, b] = s.backfills();
    expect([a!.args, b!.args]).toMatchObject([
      { fromSeq: 5, toSeq: 9 },
      { fromSeq: 13, toSeq: 19 },
    ]);
    s.bus.emit('command.ack', {
      vehicleId: 'V1',
      receivedAt: T0,
      ack: { id: a!.id, ts: T0, ok: true, result: { fromSeq: 5, toSeq: 9, resent: 2, missing: [[5, 7]] } },
    });
    s.commit('V1', [f(8), f(9)]);
    s.bus.emit('command.ack', {
      vehicleId: 'V1',
      receivedAt: T0,
      ack: { id: b!.id, ts: T0, ok: true, result: { fromSeq: 13, toSeq: 19, resent: 0, missing: [[13, 19]] } },
    });
    await s.at(2010);
    expect(s.c.state('V1')).toMatchObject({ seq: 21, gaps: [] });
    expect(s.counters.get('telemetry.frames_lost', 'V1')).toBe(3 + 7);
    expect(s.confirmations().at(-1)).toEqual({ v: 1, seq: 21, ts: T0 + 21_000 });
  });

  it('a gap that never fills is asked again without progress, then given up; not while the vehicle is offline', async () => {
    const s = await setup({ maxBackfillAttempts: 2 });
    s.bus.emit('vehicle.connected', { vehicleId: 'V1', at: T0, address: null });
    s.commit('V1', [f(0), f(2)]);
    s.bus.emit('vehicle.disconnected', { vehicleId: 'V1', at: T0, reason: 'x' });
    await s.at(60_000);
    expect(s.backfills()).toEqual([]); // offline: a command would be lost
    s.bus.emit('vehicle.connected', { vehicleId: 'V1', at: T0 + 60_000, address: null });
    await s.at(61_000);
    expect(s.backfills()).toEqual([]); // a new grace period after the connect
    await s.at(62_000);
    expect(s.backfills()).toHaveLength(1);
    await s.at(71_000);
    expect(s.backfills()).toHaveLength(1);
    await s.at(72_000);
    expect(s.backfills()).toHaveLength(2);
    await s.at(82_000);
    expect(s.backfills()).toHaveLength(2);
    expect(s.c.state('V1')).toMatchObject({ seq: 2, gaps: [] });
    expect(s.counters.get('telemetry.frames_lost', 'V1')).toBe(1);
  });

  it('a refused frame (seq known) does not hold the mark back', async () => {
    const s = await setup();
    s.commit('V1', range(0, 3));
    s.bus.emit('ingest.rejected', {
      vehicleId: 'V1',
      error: { ts: T0, code: 'invalid_frame', message: 'x', topic: 'v1/vehicles/V1/telemetry', index: 4, seq: 4 },
    });
    s.commit('V1', range(5, 6));
    await s.at(0);
    expect(s.c.state('V1')).toMatchObject({ seq: 6, gaps: [] });
    expect(s.backfills()).toEqual([]);
  });

  it('re-sent frames count as stored; a seq that falls while ts moves on starts a new run', async () => {
    const s = await setup();
    s.commit('V1', range(0, 99));
    s.commit('V1', range(50, 99)); // duplicates
    await s.at(0);
    expect(s.c.state('V1')).toMatchObject({ seq: 99, run: 0 });
    // reboot without a persistent buffer: seq 0 again, 30 s later
    s.commit(
      'V1',
      range(0, 9, (q) => T0 + 130_000 + q * 1000),
    );
    await s.at(1000);
    expect(s.c.state('V1')).toMatchObject({ seq: 9, run: 1, gaps: [] });
    expect(s.confirmations().at(-1)).toEqual({ v: 1, seq: 9, ts: T0 + 139_000 });
    expect(s.counters.get('telemetry.seq_restarts', 'V1')).toBe(1);
    // a late frame of the old run is not mistaken for the new one
    s.commit('V1', [f(100)]);
    expect(s.c.state('V1')).toMatchObject({ seq: 9, gaps: [] });
  });

  it('a gateway clock that steps back within a run (seq still rising) does not stall the mark', async () => {
    const s = await setup();
    s.commit('V1', range(0, 9));
    s.commit(
      'V1',
      range(10, 14, (q) => T0 + q * 1000 - 60_000),
    ); // an NTP correction of -60 s
    await s.at(0);
    expect(s.c.state('V1')).toMatchObject({ seq: 14, run: 0, gaps: [] });
  });

  it('too many seq gaps open: the lowest is given up as lost and the mark passes it', async () => {
    const s = await setup({ maxRanges: 2 });
    s.commit('V1', [f(0), f(2), f(4)]);
    await s.at(0);
    expect(s.c.state('V1')).toMatchObject({
      seq: 0,
      gaps: [
        { from: 1, to: 1 },
        { from: 3, to: 3 },
      ],
    });
    s.commit('V1', [f(6)]);
    expect(s.c.state('V1')).toMatchObject({
      seq: 2,
      gaps: [
        { from: 3, to: 3 },
        { from: 5, to: 5 },
      ],
    });
    expect(s.counters.get('telemetry.frames_lost', 'V1')).toBe(1);
    await s.at(1000);
    expect(s.confirmations().at(-1)).toEqual({ v: 1, seq: 2, ts: T0 + 2000 });
  });

  it('the mark survives a restart: a gap opened across it is detected and asked for', async () => {
    const store = memoryStore();
    const s1 = await setup({ store });
    s1.commit('V1', range(0, 49));
    await s1.at(0);
    await s1.c.stop();
    const s2 = await setup({ store });
    expect(s2.c.state('V1')).toMatchObject({ seq: 49, ts: T0 + 49_000 });
    s2.bus.emit('vehicle.connected', { vehicleId: 'V1', at: T0, address: null });
    expect(s2.confirmations()).toEqual([{ v: 1, seq: 49, ts: T0 + 49_000 }]); // published again on connect
    s2.commit('V1', range(60, 70));
    await s2.at(2000);
    expect(s2.backfills()[0]?.args).toEqual({ fromSeq: 50, toSeq: 59, afterTs: T0 + 49_000, beforeTs: T0 + 60_000 });
  });

  it('counts the frames a gateway reports dropped in its status', async () => {
    const s = await setup();
    s.bus.emit('vehicle.status', {
      vehicleId: 'V1',
      receivedAt: T0,
      status: { online: true, ts: T0, buffered: 5, dropped: 120 },
    });
    s.bus.emit('vehicle.status', { vehicleId: 'V1', receivedAt: T0, status: { online: true, ts: T0, dropped: 150 } });
    s.bus.emit('vehicle.status', { vehicleId: 'V1', receivedAt: T0, status: { online: true, ts: T0, dropped: 150 } });
    expect(s.counters.get('gateway.frames_dropped', 'V1')).toBe(150);
    // status before any frame does not fix where the vehicle's seqs start
    s.commit('V1', range(1000, 1001));
    expect(s.c.state('V1')).toMatchObject({ seq: 1001, gaps: [] });
  });

  it('stop() ends when the broker has taken the last confirmations (a broker closed after it cuts none in flight)', async () => {
    const bus = createInProcessBus<PlatformEvents>(silentLogger());
    const taken: Array<() => void> = [];
    const c = createConfirmations(
      {
        bus,
        store: memoryStore(),
        counters: createCounters(),
        log: silentLogger(),
        now: () => T0,
        // a broker that takes each publish only when told (as Redis answers, in cluster mode)
        publish: () => new Promise<void>((resolve) => taken.push(resolve)),
      },
      { intervalMs: 1000, gapGraceMs: 2000, backfillRetryMs: 10_000, maxBackfillAttempts: 3, tickMs: 3_600_000 },
    );
    await c.start();
    for (const id of ['V1', 'V2'])
      bus.emit('telemetry.committed', { vehicleId: id, receivedAt: T0, frames: range(0, 9) });
    let stopped = false;
    const stopping = c.stop().then(() => (stopped = true));
    await expect.poll(() => taken.length).toBe(2);
    taken[0]!();
    await new Promise((r) => setImmediate(r));
    expect(stopped).toBe(false);
    taken[1]!();
    await stopping;
    expect(stopped).toBe(true);
  });
});
