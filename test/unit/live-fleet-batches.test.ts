import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createInProcessBus, type EventBus } from '../../core/bus.ts';
import { createCounters, type Counters } from '../../core/counters.ts';
import type { PlatformEvents } from '../../core/events.ts';
import { silentLogger } from '../../core/logger.ts';
import type { TelemetryFrame } from '../../protocol/index.ts';
import { createBackpressure } from '../../web/live/backpressure.ts';
import type { FleetUpdate } from '../../web/live/events.ts';
import { createFleetBatches, mergeFleetEntries } from '../../web/live/fleet-batches.ts';
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
  });
});
