import type { EventBus } from '../../core/bus.ts';
import type { Counters } from '../../core/counters.ts';
import { isPlatformError } from '../../core/errors.ts';
import type { PlatformEvents } from '../../core/events.ts';
import type { Logger } from '../../core/logger.ts';
import type { Tenancy } from '../context.ts';
import type { Backpressure } from './backpressure.ts';
import { frameSource, type FrameSource } from './cluster-feed.ts';
import type { LiveFrame } from './events.ts';
import { createFrameThrottle } from './frame-throttle.ts';
import { ack, readRequest, refuse } from './protocol.ts';
import { rooms, type LiveModule, type LiveServer, type LiveSocket } from './sockets.ts';
import { newestFrame } from './vehicles.ts';

export interface VehicleFramesDeps {
  bus: Pick<EventBus<PlatformEvents>, 'on'>;
  tenancy: Pick<Tenancy, 'vehicle'>;
  send: Pick<Backpressure, 'sendDroppable'>;
  /** Stored frames: this node's `telemetry.stored` by default; in cluster mode also the other nodes' (cluster-feed.ts). */
  frames?: FrameSource;
  counters: Counters;
  log: Logger;
  clock?: () => number;
}

const vehicleIdOf = (req: unknown): string | undefined => {
  const id = (req as { vehicleId?: unknown } | null)?.vehicleId;
  return typeof id === 'string' && id.length >= 1 && id.length <= 64 ? id : undefined;
};
const EXPECTED = 'send {vehicleId: string} and an acknowledgement callback';

/**
 * Vehicles' frames to the consoles watching them: `subscribe` / `unsubscribe` (tenant-checked, at
 * most `maxSubscriptions` per connection) join and leave the vehicle's room; its stored frames go
 * there at most `maxRateHz` a second (the newest wins), skipping connections that are behind.
 */
export function createVehicleFrames(
  io: LiveServer,
  deps: VehicleFramesDeps,
  opts: { maxRateHz: number; maxSubscriptions: number },
) {
  const { counters, log } = deps;
  const frames = deps.frames ?? frameSource(deps.bus);
  /** The vehicles each connection subscribed to. */
  const subscribed = new WeakMap<LiveSocket, Set<string>>();
  const watched = (vehicleId: string) => (io.sockets.adapter.rooms.get(rooms.vehicle(vehicleId))?.size ?? 0) > 0;

  const throttle = createFrameThrottle<LiveFrame>({
    intervalMs: 1000 / opts.maxRateHz,
    send: (m) => deps.send.sendDroppable(rooms.vehicle(m.vehicleId), 'frames', 'frame', m),
    ...(deps.clock ? { clock: deps.clock } : {}),
  });

  function forgetIfUnwatched(vehicleId: string): void {
    if (!watched(vehicleId)) throttle.forget(vehicleId);
  }

  const offs = [
    frames.on((e) => {
      if (!watched(e.vehicleId)) return;
      const newest = newestFrame(e.frames);
      if (!newest) return;
      throttle.offer(e.vehicleId, newest.ts, { vehicleId: e.vehicleId, receivedAt: e.receivedAt, frame: newest });
    }),
    deps.bus.on('registry.changed', (e) => {
      if (e.subject !== 'vehicle' || (e.change !== 'removed' && e.change !== 'updated')) return;
      for (const s of io.sockets.sockets.values()) {
        // transferred to another unit (`updated`): the old unit's customers stop getting its frames; staff stay
        if (e.change === 'updated' && s.data.account.role !== 'customer') continue;
        if (subscribed.get(s)?.delete(e.id)) {
          void s.leave(rooms.vehicle(e.id));
          frames.unwatch(e.id);
        }
      }
      forgetIfUnwatched(e.id);
    }),
  ];

  const request = (args: unknown[]) =>
    readRequest<string, { vehicleId: string }>(counters, args, vehicleIdOf, EXPECTED);

  return {
    requests: ['subscribe', 'unsubscribe'],
    connected(socket: LiveSocket) {
      const vehicles = new Set<string>();
      subscribed.set(socket, vehicles);

      socket.on('subscribe', (...args: unknown[]) => {
        const r = request(args);
        if (!r) return;
        const { payload: id, cb } = r;
        if (vehicles.has(id)) return ack(cb, { ok: true, vehicleId: id });
        if (vehicles.size >= opts.maxSubscriptions) {
          return ack(
            cb,
            refuse(
              'INVALID_ARGUMENT',
              `at most ${opts.maxSubscriptions} vehicles at once on one connection; unsubscribe from one first`,
            ),
          );
        }
        deps.tenancy.vehicle(socket.data.account, id).then(
          () => {
            if (!socket.connected) return;
            if (vehicles.has(id)) return ack(cb, { ok: true, vehicleId: id });
            vehicles.add(id);
            frames.watch(id);
            void socket.join(rooms.vehicle(id));
            ack(cb, { ok: true, vehicleId: id });
          },
          (err: unknown) => {
            if (isPlatformError(err)) return ack(cb, refuse(err.code, err.message));
            log.error({ err }, 'live subscribe failed');
            ack(cb, refuse('INTERNAL', 'subscribing failed; try again'));
          },
        );
      });

      socket.on('unsubscribe', (...args: unknown[]) => {
        const r = request(args);
        if (!r) return;
        const { payload: id, cb } = r;
        if (vehicles.delete(id)) frames.unwatch(id);
        void socket.leave(rooms.vehicle(id));
        forgetIfUnwatched(id);
        ack(cb, { ok: true, vehicleId: id });
      });

      socket.on('disconnect', () => {
        for (const id of vehicles) {
          frames.unwatch(id);
          forgetIfUnwatched(id);
        }
      });
    },
    close() {
      for (const off of offs) off();
      throttle.close();
    },
  } satisfies LiveModule;
}
