import type { EventBus } from '../../core/bus.ts';
import type { PlatformEvents } from '../../core/events.ts';
import type { Logger } from '../../core/logger.ts';
import type { Counters } from '../../core/counters.ts';
import { derive, newMemory } from '../../diagnostics/derived-signals.ts';
import type { TelemetryFrame } from '../../protocol/index.ts';
import type { Backpressure } from './backpressure.ts';
import type { LiveClusterFeed } from './cluster-feed.ts';
import type { FleetEntry, FleetSeen, FleetSummaryValues, FleetUpdate } from './events.ts';
import { fleetEntries } from './fleet-wire.ts';
import { rooms, type LiveModule, type LiveServer, type LiveSocket } from './sockets.ts';
import { newestFrame, type VehicleInfoCache } from './vehicles.ts';

interface FleetPending {
  presence?: { online: boolean; at: number; reason: string | null };
  latest?: { receivedAt: number; frame: TelemetryFrame };
  /** A frame of this batch showed other values than the newest one before it. */
  varied?: boolean;
}

/** What a summary's values are computed from, compared between a vehicle's successive frames. */
const sameInputs = (a: TelemetryFrame, b: TelemetryFrame) =>
  a.source === b.source && a.battery?.socPct === b.battery?.socPct && a.battery?.currentA === b.battery?.currentA;

const sameValues = (a: FleetSummaryValues, b: FleetSummaryValues) =>
  a.source === b.source && a.batterySocPct === b.batterySocPct && a.timeToEmptyMin === b.timeToEmptyMin;

/** The values of `now` that differ from `before`'s (all of them without `before`). */
function changedValues(now: FleetSummaryValues, before: FleetSummaryValues | undefined): Partial<FleetSummaryValues> {
  if (!before) return now;
  const out: Partial<FleetSummaryValues> = {};
  if (now.source !== before.source) out.source = now.source;
  if (now.batterySocPct !== before.batterySocPct) out.batterySocPct = now.batterySocPct;
  if (now.timeToEmptyMin !== before.timeToEmptyMin) out.timeToEmptyMin = now.timeToEmptyMin;
  return out;
}

/**
 * A vehicle's summary goes whole at least this often, though its values did not change: whatever a
 * console missed (a change sent while its list was still loading) is mended within this time.
 */
export const WHOLE_SUMMARY_EVERY_MS = 30_000;

/**
 * Where in the period a vehicle's whole summaries fall (0 ≤ offset < every), from its id: a fleet
 * that came up at once would otherwise send all its whole summaries in one batch every period.
 */
export function wholeSummaryOffset(vehicleId: string, everyMs: number): number {
  let h = 0x811c9dc5; // FNV-1a
  for (let i = 0; i < vehicleId.length; i++) h = Math.imul(h ^ vehicleId.charCodeAt(i), 0x01000193);
  return (h >>> 0) % everyMs;
}

export interface FleetBatchesDeps {
  bus: Pick<EventBus<PlatformEvents>, 'on'>;
  vehicleInfo: Pick<VehicleInfoCache, 'get'>;
  backpressure: Pick<Backpressure, 'behind' | 'isBehind'>;
  /** Cluster mode: the other nodes' fleet changes, merged into this node's batches. */
  cluster?: Pick<LiveClusterFeed, 'onFleet'>;
  counters: Counters;
  log: Logger;
  now: () => number;
}

/** Merges fleet entries into a backlog, per vehicle; the later entry's fields win, the summary's too. */
export function mergeFleetEntries(into: Map<string, FleetEntry>, entries: readonly FleetEntry[]): void {
  for (const e of entries) {
    const before = into.get(e.id);
    const merged = { ...before, ...e };
    if (before?.latest && e.latest) merged.latest = { ...before.latest, ...e.latest };
    into.set(e.id, merged);
  }
}

/**
 * Fleet changes (presence, a summary of the newest frame) batched every `fleetIntervalMs`, to the
 * staff room and the owning unit's. A summary carries the values that changed since the vehicle's
 * last one; a vehicle whose frames changed none of them goes in `seen` as three short fields (most
 * of a running fleet, most seconds). A connection that is behind gets them later, merged (latest
 * per vehicle wins), when it has drained or with the next batch, instead of queued.
 */
export function createFleetBatches(
  io: LiveServer,
  deps: FleetBatchesDeps,
  opts: { fleetIntervalMs: number; wholeSummaryEveryMs?: number },
) {
  const wholeEveryMs = opts.wholeSummaryEveryMs ?? WHOLE_SUMMARY_EVERY_MS;
  const { counters, log, backpressure } = deps;
  let pending = new Map<string, FleetPending>();
  let timer: NodeJS.Timeout | null = null;
  /** Fleet changes held back while a connection is behind. */
  const held = new WeakMap<LiveSocket, Map<string, FleetEntry>>();
  /** The summary values last sent per vehicle (what the consoles hold), and when they last went whole. */
  const sent = new Map<string, { values: FleetSummaryValues; wholeAt: number }>();

  /** Sends what was held back for a connection once it has caught up. */
  function flushHeld(s: LiveSocket): void {
    const m = held.get(s);
    if (!m || m.size === 0 || !s.connected || backpressure.isBehind(s)) return;
    const vehicles = [...m.values()];
    m.clear();
    s.emit('fleet', { at: deps.now(), vehicles });
  }

  function sendFleet(room: string, update: FleetUpdate): void {
    const ids = io.sockets.adapter.rooms.get(room);
    if (!ids?.size) return;
    const behind = backpressure.behind(room);
    const isBehind = new Set(behind);
    for (const id of ids) {
      const s = io.sockets.sockets.get(id);
      if (!s) continue;
      if (isBehind.has(id)) {
        let m = held.get(s);
        if (!m) held.set(s, (m = new Map()));
        mergeFleetEntries(m, fleetEntries(update));
      } else flushHeld(s);
    }
    if (behind.length) counters.inc('live.fleet_deferred', undefined, behind.length);
    if (behind.length >= ids.size) return;
    (behind.length ? io.to(room).except(behind) : io.to(room)).emit('fleet', update);
    counters.inc('live.fleet_sent', undefined, ids.size - behind.length);
  }

  function changed(vehicleId: string, change: FleetPending): void {
    if (io.sockets.sockets.size === 0) return;
    const p = pending.get(vehicleId) ?? {};
    if (change.presence) p.presence = change.presence;
    if (change.latest && (!p.latest || change.latest.frame.ts >= p.latest.frame.ts)) {
      if (p.latest && !sameInputs(p.latest.frame, change.latest.frame)) p.varied = true;
      p.latest = change.latest;
    }
    pending.set(vehicleId, p);
    timer ??= setTimeout(
      () => void flush().catch((err: unknown) => log.warn({ err }, 'fleet update failed')),
      opts.fleetIntervalMs,
    );
  }

  async function flush(): Promise<void> {
    timer = null;
    const batch = pending;
    pending = new Map();
    const all: FleetUpdate = { at: 0, vehicles: [], seen: [] };
    const byCustomer = new Map<string, FleetUpdate>();
    const infos = await Promise.all([...batch.keys()].map((id) => deps.vehicleInfo.get(id)));
    const at = deps.now();
    all.at = at;
    let i = 0;
    for (const [id, p] of batch) {
      const info = infos[i++];
      if (!info) {
        sent.delete(id);
        continue;
      }
      let to = byCustomer.get(info.customerId);
      if (!to) byCustomer.set(info.customerId, (to = { at, vehicles: [], seen: [] }));
      let entry: FleetEntry | undefined;
      if (p.latest) {
        const { receivedAt, frame: f } = p.latest;
        const values: FleetSummaryValues = {
          source: f.source,
          batterySocPct: f.battery?.socPct ?? null,
          timeToEmptyMin: derive(f, info.profile, newMemory()).timeToEmptyMin,
        };
        const last = sent.get(id);
        // after a frame that showed other values, all of them (a console may have read those); and
        // now and then all of them anyway
        const whole = !last || p.varied || at - last.wholeAt >= wholeEveryMs;
        // the first whole summary counts as sent at the vehicle's own point in the period
        const wholeAt = !last ? at - wholeSummaryOffset(id, wholeEveryMs) : whole ? at : last.wholeAt;
        sent.set(id, { values, wholeAt });
        if (!p.presence && !whole && sameValues(last.values, values)) {
          const seen: FleetSeen = [id, receivedAt - at, f.ts - receivedAt];
          all.seen!.push(seen);
          to.seen!.push(seen);
          continue;
        }
        entry = { id, latest: { receivedAt, ts: f.ts, ...changedValues(values, whole ? undefined : last.values) } };
      }
      entry ??= { id };
      if (p.presence) {
        entry.online = p.presence.online;
        entry.presenceChangedAt = p.presence.at;
        entry.disconnectReason = p.presence.reason;
      }
      all.vehicles.push(entry);
      to.vehicles.push(entry);
    }
    const compact = (u: FleetUpdate): FleetUpdate => (u.seen!.length ? u : { at: u.at, vehicles: u.vehicles });
    if (all.vehicles.length || all.seen!.length) sendFleet(rooms.staff, compact(all));
    for (const [cid, update] of byCustomer) sendFleet(rooms.customer(cid), compact(update));
  }

  const offs = [
    deps.bus.on('telemetry.stored', (e) => {
      const newest = newestFrame(e.frames);
      if (newest) changed(e.vehicleId, { latest: { receivedAt: e.receivedAt, frame: newest } });
    }),
    deps.bus.on('vehicle.connected', (e) =>
      changed(e.vehicleId, { presence: { online: true, at: e.at, reason: null } }),
    ),
    deps.bus.on('registry.changed', (e) => {
      if (e.subject === 'vehicle' && e.change === 'removed') sent.delete(e.id);
    }),
    deps.bus.on('vehicle.disconnected', (e) =>
      changed(e.vehicleId, { presence: { online: false, at: e.at, reason: e.reason } }),
    ),
    ...(deps.cluster
      ? [
          deps.cluster.onFleet((changes) => {
            for (const c of changes) changed(c.vehicleId, c);
          }),
        ]
      : []),
  ];

  return {
    connected(socket: LiveSocket) {
      socket.conn.on('drain', () => flushHeld(socket));
    },
    close() {
      for (const off of offs) off();
      if (timer) clearTimeout(timer);
      timer = null;
    },
  } satisfies LiveModule;
}
