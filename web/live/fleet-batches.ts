import type { EventBus } from '../../core/bus.ts';
import type { PlatformEvents } from '../../core/events.ts';
import type { Logger } from '../../core/logger.ts';
import type { Counters } from '../../core/counters.ts';
import { derive, newMemory } from '../../diagnostics/derived-signals.ts';
import type { TelemetryFrame } from '../../protocol/index.ts';
import type { Backpressure } from './backpressure.ts';
import type { LiveClusterFeed } from './cluster-feed.ts';
import type { FleetEntry, FleetUpdate } from './events.ts';
import { rooms, type LiveModule, type LiveServer, type LiveSocket } from './sockets.ts';
import { newestFrame, type VehicleInfoCache } from './vehicles.ts';

interface FleetPending {
  presence?: { online: boolean; at: number; reason: string | null };
  latest?: { receivedAt: number; frame: TelemetryFrame };
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

/** Merges fleet entries into a backlog, per vehicle; the later entry's fields win. */
export function mergeFleetEntries(into: Map<string, FleetEntry>, entries: readonly FleetEntry[]): void {
  for (const e of entries) into.set(e.id, { ...into.get(e.id), ...e });
}

/**
 * Fleet changes (presence, a summary of the newest frame) batched every `fleetIntervalMs`, to the
 * staff room and the owning unit's. A connection that is behind gets them later, merged (latest per
 * vehicle wins), when it has drained or with the next batch, instead of queued.
 */
export function createFleetBatches(io: LiveServer, deps: FleetBatchesDeps, opts: { fleetIntervalMs: number }) {
  const { counters, log, backpressure } = deps;
  let pending = new Map<string, FleetPending>();
  let timer: NodeJS.Timeout | null = null;
  /** Fleet changes held back while a connection is behind. */
  const held = new WeakMap<LiveSocket, Map<string, FleetEntry>>();

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
        mergeFleetEntries(m, update.vehicles);
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
    if (change.latest && (!p.latest || change.latest.frame.ts >= p.latest.frame.ts)) p.latest = change.latest;
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
    const all: FleetEntry[] = [];
    const byCustomer = new Map<string, FleetEntry[]>();
    const infos = await Promise.all([...batch.keys()].map((id) => deps.vehicleInfo.get(id)));
    let i = 0;
    for (const [id, p] of batch) {
      const info = infos[i++];
      if (!info) continue;
      const entry: FleetEntry = { id };
      if (p.presence) {
        entry.online = p.presence.online;
        entry.presenceChangedAt = p.presence.at;
        entry.disconnectReason = p.presence.reason;
      }
      if (p.latest) {
        const f = p.latest.frame;
        entry.latest = {
          receivedAt: p.latest.receivedAt,
          ts: f.ts,
          source: f.source,
          batterySocPct: f.battery?.socPct ?? null,
          timeToEmptyMin: derive(f, info.profile, newMemory()).timeToEmptyMin,
        };
      }
      all.push(entry);
      const list = byCustomer.get(info.customerId);
      if (list) list.push(entry);
      else byCustomer.set(info.customerId, [entry]);
    }
    const at = deps.now();
    if (all.length) sendFleet(rooms.staff, { at, vehicles: all });
    for (const [cid, vehicles] of byCustomer) sendFleet(rooms.customer(cid), { at, vehicles });
  }

  const offs = [
    deps.bus.on('telemetry.stored', (e) => {
      const newest = newestFrame(e.frames);
      if (newest) changed(e.vehicleId, { latest: { receivedAt: e.receivedAt, frame: newest } });
    }),
    deps.bus.on('vehicle.connected', (e) =>
      changed(e.vehicleId, { presence: { online: true, at: e.at, reason: null } }),
    ),
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
