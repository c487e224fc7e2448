import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createInProcessBus, type EventBus } from '../../core/bus.ts';
import { createCounters, type Counters } from '../../core/counters.ts';
import type { PlatformEvents } from '../../core/events.ts';
import { silentLogger } from '../../core/logger.ts';
import type { TelemetryFrame } from '../../protocol/index.ts';
import { createBackpressure } from '../../web/live/backpressure.ts';
import type { FleetUpdate } from '../../web/live/events.ts';
import {
  createFleetBatches,
  mergeFleetEntries,
  WHOLE_SUMMARY_EVERY_MS,
  wholeSummaryOffset,
} from '../../web/live/fleet-batches.ts';
import { fleetEntries, mergeSummary } from '../../web/live/fleet-wire.ts';
import { frame } from '../helpers/platform.ts';
import { backlogOf, fakeIo, type FakeSocket } from './live-fakes.ts';

const INTERVAL_MS = 1000;
const MAX_BUFFERED = 4;
const PROFILE = { hasGenerator: false, battery: { nominalV: 24, capacityAh: 200 } } as never;
const OWNERS: Record<string, string> = { V1: 'C1', V2: 'C2' };

const fleets = (s: FakeSocket) => s.received.filter((r) => r.event === 'fleet').map((r) => r.args[0] as FleetUpdate);

/** The live layer's fleet batches (web/live/fleet-batches.ts) on a fake socket.io server, fake timers. */
describe('live fleet batches', () => {
  let bus: EventBus<PlatformEvents>;
  let counters: Counters;
  let fake: ReturnType<typeof fakeIo>;
  let backpressure: ReturnType<typeof createBackpressure>;
  let fleet: ReturnType<typeof createFleetBatches>;

  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
    const log = silentLogger();
    bus = createInProcessBus(log);
    counters = createCounters();
    fake = fakeIo();
    backpressure = createBackpressure(fake.io, { counters, log }, { maxBuffered: MAX_BUFFERED, slowTimeoutMs: 60_000 });
    const vehicleInfo = {
      get: (id: string) => Promise.resolve(OWNERS[id] ? { customerId: OWNERS[id], profile: PROFILE } : undefined),
    };
    fleet = createFleetBatches(
      fake.io,
      { bus, vehicleInfo, backpressure, counters, log, now: () => Date.now() },
      { fleetIntervalMs: INTERVAL_MS },
    );
  });
  afterEach(() => {
    fleet.close();
    backpressure.close();
    vi.useRealTimers();
  });

  const stored = (vehicleId: string, ...frames: TelemetryFrame[]) =>
    bus.emit('telemetry.stored', { vehicleId, receivedAt: Date.now(), frames });

  it('batches a vehicle’s changes over an interval into one entry, to the staff and the owning unit only', async () => {
    const staff = fake.connect('staff', ['staff']);
    const c1 = fake.connect('c1', ['customer:C1']);
    const c2 = fake.connect('c2', ['customer:C2']);
    const t = Date.now();
    bus.emit('vehicle.connected', { vehicleId: 'V1', at: t, address: null });
    stored('V1', frame(2, t + 2) as TelemetryFrame, frame(1, t + 1) as TelemetryFrame);
    stored('V1', frame(0, t) as TelemetryFrame); // older than the newest of the batch: not the summary
    bus.emit('vehicle.connected', { vehicleId: 'GONE', at: t, address: null }); // unknown: left out
    await vi.advanceTimersByTimeAsync(INTERVAL_MS - 1);
    expect(fleets(staff)).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(fleets(staff)).toHaveLength(1);
    const [entry] = fleets(staff)[0]!.vehicles;
    expect(fleets(staff)[0]!.vehicles).toHaveLength(1);
    expect(entry).toMatchObject({ id: 'V1', online: true, presenceChangedAt: t, disconnectReason: null });
    expect(entry!.latest).toMatchObject({ ts: t + 2, source: 'mains', batterySocPct: 95 });
    expect(fleets(c1)).toEqual(fleets(staff));
    expect(fleets(c2)).toEqual([]);
    expect(counters.get('live.fleet_sent')).toBe(2);
  });

  it('holds changes back for a connection that is behind, merged per vehicle, and sends them when it drains', async () => {
    const slow = fake.connect('slow', ['staff']);
    fleet.connected(fake.asLive(slow));
    backlogOf(slow, MAX_BUFFERED);
    const t = Date.now();
    bus.emit('vehicle.connected', { vehicleId: 'V1', at: t, address: null });
    await vi.advanceTimersByTimeAsync(INTERVAL_MS);
    stored('V1', frame(1, t + 5) as TelemetryFrame);
    bus.emit('vehicle.disconnected', { vehicleId: 'V2', at: t + 6, reason: 'keepalive' });
    await vi.advanceTimersByTimeAsync(INTERVAL_MS);
    expect(fleets(slow)).toEqual([]);
    expect(counters.get('live.fleet_deferred')).toBe(2);
    // still behind: a drain sends nothing yet
    slow.conn.drain();
    expect(fleets(slow)).toEqual([]);
    backlogOf(slow, 0);
    slow.conn.drain();
    expect(fleets(slow)).toHaveLength(1);
    const vehicles = fleets(slow)[0]!.vehicles;
    expect(vehicles.map((v) => v.id).sort()).toEqual(['V1', 'V2']);
    // V1: the presence of the first batch and the frame of the second, merged into one entry
    expect(vehicles.find((v) => v.id === 'V1')).toMatchObject({ online: true, latest: { ts: t + 5 } });
    expect(vehicles.find((v) => v.id === 'V2')).toMatchObject({ online: false, disconnectReason: 'keepalive' });
    slow.conn.drain();
    expect(fleets(slow)).toHaveLength(1); // nothing held any more
  });

  it('does nothing without connections, and close stops the batch timer', async () => {
    bus.emit('vehicle.connected', { vehicleId: 'V1', at: Date.now(), address: null });
    expect(vi.getTimerCount()).toBe(1); // only backpressure's slow-consumer check
    const staff = fake.connect('staff', ['staff']);
    bus.emit('vehicle.connected', { vehicleId: 'V1', at: Date.now(), address: null });
    fleet.close();
    await vi.advanceTimersByTimeAsync(2 * INTERVAL_MS);
    expect(fleets(staff)).toEqual([]);
    bus.emit('vehicle.connected', { vehicleId: 'V1', at: Date.now(), address: null }); // no longer listening
    await vi.advanceTimersByTimeAsync(2 * INTERVAL_MS);
    expect(fleets(staff)).toEqual([]);
  });

  const battery = (socPct: number, currentA = 3.2) => ({ battery: { voltageV: 26.4, currentA, socPct, tempC: 24 } });

  it('sends a summary’s values once: then only what changed, and a vehicle that only reported again in `seen`', async () => {
    const staff = fake.connect('staff', ['staff']);
    const c1 = fake.connect('c1', ['customer:C1']);
    const c2 = fake.connect('c2', ['customer:C2']);
    const t0 = Date.now();
    stored('V1', frame(1, t0 - 40) as TelemetryFrame);
    stored('V2', frame(1, t0 - 30) as TelemetryFrame);
    await vi.advanceTimersByTimeAsync(INTERVAL_MS);
    const first = fleets(staff)[0]!;
    expect(first.seen).toBeUndefined();
    expect(first.vehicles.find((v) => v.id === 'V1')!.latest).toEqual({
      receivedAt: t0,
      ts: t0 - 40,
      source: 'mains',
      batterySocPct: 95,
      timeToEmptyMin: null,
    });

    // the same values again: V1 and V2 in `seen`, as offsets from `at`
    const t1 = Date.now();
    stored('V1', frame(2, t1 - 20) as TelemetryFrame);
    await vi.advanceTimersByTimeAsync(300);
    stored('V2', frame(2, t1 + 290) as TelemetryFrame); // received 300 ms later, its clock 10 ms behind
    await vi.advanceTimersByTimeAsync(INTERVAL_MS - 300);
    const second = fleets(staff)[1]!;
    const at = second.at;
    expect(at).toBe(t1 + INTERVAL_MS);
    expect(second.vehicles).toEqual([]);
    expect(second.seen).toEqual([
      ['V1', t1 - at, -20],
      ['V2', t1 + 300 - at, -10],
    ]);
    expect(fleetEntries(second)).toEqual([
      { id: 'V1', latest: { receivedAt: t1, ts: t1 - 20 } },
      { id: 'V2', latest: { receivedAt: t1 + 300, ts: t1 + 290 } },
    ]);
    // each unit's room: its own vehicles only, in the same form
    expect(fleets(c1)[1]).toEqual({ at, vehicles: [], seen: [['V1', t1 - at, -20]] });
    expect(fleets(c2)[1]).toEqual({ at, vehicles: [], seen: [['V2', t1 + 300 - at, -10]] });

    // the charge changed: V1's entry carries it and the times, not the unchanged source
    const t2 = Date.now();
    stored('V1', frame(3, t2, battery(94)) as TelemetryFrame);
    stored('V2', frame(3, t2) as TelemetryFrame);
    await vi.advanceTimersByTimeAsync(INTERVAL_MS);
    const third = fleets(staff)[2]!;
    expect(third.vehicles).toEqual([{ id: 'V1', latest: { receivedAt: t2, ts: t2, batterySocPct: 94 } }]);
    expect(third.seen!.map(([id]) => id)).toEqual(['V2']);

    // what a console holds, merged from the three messages, is the newest frame's summary
    let held = mergeSummary(null, first.vehicles.find((v) => v.id === 'V1')!.latest!);
    for (const u of [second, third])
      for (const e of fleetEntries(u)) if (e.id === 'V1') held = mergeSummary(held, e.latest!);
    expect(held).toEqual({ receivedAt: t2, ts: t2, source: 'mains', batterySocPct: 94, timeToEmptyMin: null });
  });

  it('a batch whose frames showed other values in between sends all of them, though the newest equals the last sent', async () => {
    const staff = fake.connect('staff', ['staff']);
    const t = Date.now();
    stored('V1', frame(1, t) as TelemetryFrame);
    await vi.advanceTimersByTimeAsync(INTERVAL_MS);
    // 95 → 60 (a console may read it from GET /api/vehicles now) → 95 again
    stored('V1', frame(2, t + 100, battery(60, -20)) as TelemetryFrame);
    stored('V1', frame(3, t + 200) as TelemetryFrame);
    await vi.advanceTimersByTimeAsync(INTERVAL_MS);
    expect(fleets(staff)[1]!.vehicles).toEqual([
      {
        id: 'V1',
        latest: {
          receivedAt: expect.any(Number),
          ts: t + 200,
          source: 'mains',
          batterySocPct: 95,
          timeToEmptyMin: null,
        },
      },
    ]);
    // discharging: the time to empty is a value of its own (from the profile's capacity)
    stored('V1', frame(4, t + 300, battery(95, -20)) as TelemetryFrame);
    await vi.advanceTimersByTimeAsync(INTERVAL_MS);
    expect(fleets(staff)[2]!.vehicles[0]!.latest).toEqual({
      receivedAt: expect.any(Number),
      ts: t + 300,
      timeToEmptyMin: ((0.95 * 200) / 20) * 60,
    });
  });

  it('a presence change goes as an entry, with the frame’s times when its values did not change', async () => {
    const staff = fake.connect('staff', ['staff']);
    const t = Date.now();
    stored('V1', frame(1, t) as TelemetryFrame);
    await vi.advanceTimersByTimeAsync(INTERVAL_MS);
    stored('V1', frame(2, t + 500) as TelemetryFrame);
    bus.emit('vehicle.disconnected', { vehicleId: 'V1', at: t + 600, reason: 'keepalive' });
    await vi.advanceTimersByTimeAsync(INTERVAL_MS);
    expect(fleets(staff)[1]).toEqual({
      at: expect.any(Number),
      vehicles: [
        {
          id: 'V1',
          online: false,
          presenceChangedAt: t + 600,
          disconnectReason: 'keepalive',
          latest: { receivedAt: expect.any(Number), ts: t + 500 },
        },
      ],
    });
  });

  it('a connection that was behind gets the values and the newest times merged, `seen` included', async () => {
    const slow = fake.connect('slow', ['staff']);
    fleet.connected(fake.asLive(slow));
    const t = Date.now();
    stored('V1', frame(1, t) as TelemetryFrame);
    await vi.advanceTimersByTimeAsync(INTERVAL_MS);
    backlogOf(slow, MAX_BUFFERED);
    stored('V1', frame(2, t + 1000, battery(90)) as TelemetryFrame);
    await vi.advanceTimersByTimeAsync(INTERVAL_MS);
    stored('V1', frame(3, t + 2000, battery(90)) as TelemetryFrame); // only reported again: `seen`
    await vi.advanceTimersByTimeAsync(INTERVAL_MS);
    expect(fleets(slow)).toHaveLength(1);
    backlogOf(slow, 0);
    slow.conn.drain();
    expect(fleets(slow)[1]!.vehicles).toEqual([
      { id: 'V1', latest: { receivedAt: expect.any(Number), ts: t + 2000, batterySocPct: 90 } },
    ]);
  });

  it('sends a vehicle’s whole summary again every WHOLE_SUMMARY_EVERY_MS though nothing changed (what a console missed is mended)', async () => {
    const staff = fake.connect('staff', ['staff']);
    const t = Date.now();
    const every = WHOLE_SUMMARY_EVERY_MS / INTERVAL_MS;
    const wholeAt: number[] = [];
    for (let k = 0; k < 2 * every + 2; k++) {
      stored('V1', frame(k + 1, t + k * INTERVAL_MS) as TelemetryFrame);
      await vi.advanceTimersByTimeAsync(INTERVAL_MS);
      const u = fleets(staff).at(-1)!;
      if (u.seen?.length) continue;
      expect(u.vehicles[0]!.latest).toMatchObject({ source: 'mains', batterySocPct: 95, timeToEmptyMin: null });
      wholeAt.push(k);
    }
    // the first summary; the next at the vehicle's own point of the period; then every period
    const offset = Math.ceil((WHOLE_SUMMARY_EVERY_MS - wholeSummaryOffset('V1', WHOLE_SUMMARY_EVERY_MS)) / INTERVAL_MS);
    expect(wholeAt.slice(0, 3)).toEqual([0, offset, offset + every]);
  });

  it('spreads the whole summaries of a fleet that came up at once over the period', () => {
    const offsets = Array.from({ length: 2000 }, (_, i) =>
      wholeSummaryOffset(`bench-${String(i + 1).padStart(5, '0')}`, WHOLE_SUMMARY_EVERY_MS),
    );
    const perSecond = new Array<number>(WHOLE_SUMMARY_EVERY_MS / 1000).fill(0);
    for (const o of offsets) {
      expect(o).toBeGreaterThanOrEqual(0);
      expect(o).toBeLessThan(WHOLE_SUMMARY_EVERY_MS);
      perSecond[Math.floor(o / 1000)]!++;
    }
    // 2,000 over 30 one-second batches: 67 each on average, none more than twice that
    expect(Math.max(...perSecond)).toBeLessThan(134);
  });

  it('a vehicle removed from the registry starts again with all its values', async () => {
    const staff = fake.connect('staff', ['staff']);
    const t = Date.now();
    stored('V1', frame(1, t) as TelemetryFrame);
    await vi.advanceTimersByTimeAsync(INTERVAL_MS);
    bus.emit('registry.changed', { subject: 'vehicle', id: 'V1', change: 'removed' });
    stored('V1', frame(2, t + 1000) as TelemetryFrame);
    await vi.advanceTimersByTimeAsync(INTERVAL_MS);
    expect(fleets(staff)[1]!.vehicles[0]!.latest).toMatchObject({ source: 'mains', batterySocPct: 95 });
  });

  it('mergeSummary: over a held summary the later fields win; without one, only a whole summary stands', () => {
    const whole = { receivedAt: 1, ts: 1, source: 'mains' as const, batterySocPct: 90, timeToEmptyMin: null };
    expect(mergeSummary({ ...whole, frame: undefined }, { receivedAt: 2, ts: 3, batterySocPct: 80 })).toEqual({
      ...whole,
      frame: undefined,
      receivedAt: 2,
      ts: 3,
      batterySocPct: 80,
    });
    expect(mergeSummary(null, { receivedAt: 2, ts: 3 })).toBeNull();
    expect(mergeSummary(undefined, whole)).toEqual(whole);
  });

  it('mergeFleetEntries: the later entry’s fields win, the earlier ones stay', () => {
    const m = new Map();
    mergeFleetEntries(m, [{ id: 'V1', online: true, presenceChangedAt: 1, disconnectReason: null }]);
    mergeFleetEntries(m, [
      { id: 'V1', latest: { receivedAt: 2, ts: 2, source: 'mains', batterySocPct: 90, timeToEmptyMin: null } },
      { id: 'V2', online: false },
    ]);
    mergeFleetEntries(m, [{ id: 'V1', online: false, presenceChangedAt: 3, disconnectReason: 'gone' }]);
    expect(m.get('V1')).toEqual({
      id: 'V1',
      online: false,
      presenceChangedAt: 3,
      disconnectReason: 'gone',
      latest: { receivedAt: 2, ts: 2, source: 'mains', batterySocPct: 90, timeToEmptyMin: null },
    });
    expect(m.get('V2')).toEqual({ id: 'V2', online: false });
    // a later summary with fewer fields: the earlier values stay
    mergeFleetEntries(m, [{ id: 'V1', latest: { receivedAt: 4, ts: 4, batterySocPct: 89 } }]);
    expect(m.get('V1').latest).toEqual({
      receivedAt: 4,
      ts: 4,
      source: 'mains',
      batterySocPct: 89,
      timeToEmptyMin: null,
    });
  });
});
