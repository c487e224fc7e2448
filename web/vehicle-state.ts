import type { z } from 'zod';
import { derive, newMemory } from '../diagnostics/derived-signals.ts';
import { severityRank } from '../diagnostics/rules/schema.ts';
import type { Alarm, Ticket } from '../diagnostics/types.ts';
import { nextDueAt } from '../diagnostics/tickets/queue.ts';
import type { Presence } from '../registry/presence.ts';
import type { Vehicle } from '../registry/vehicles.ts';
import type { WebDeps } from './context.ts';
import type { vehicleStateOut } from './schemas.ts';

export type VehicleState = z.infer<typeof vehicleStateOut>;

/** Open tickets read for the fleet's ticket column (the queue's first page, most pressing first). */
const OPEN_TICKETS_READ = 5000;

/** Vehicles with their current state: presence, latest frame (source, SOC, time to empty), worst active alarm. */
export async function vehicleStates(
  deps: Pick<WebDeps, 'presence' | 'telemetry' | 'diagnostics'>,
  vehicles: Vehicle[],
  options: {
    wholeFleet: boolean;
    withFrame: boolean;
    /** A customer viewer: the latest frame only when recorded since the vehicle came to its unit. */
    sinceAssigned?: boolean;
  },
): Promise<VehicleState[]> {
  if (vehicles.length === 0) return [];
  const presence = new Map<string, Presence>();
  if (vehicles.length > 10) for (const p of await deps.presence.all()) presence.set(p.vehicleId, p);
  else
    for (const v of vehicles) {
      const p = await deps.presence.get(v.id);
      if (p) presence.set(v.id, p);
    }
  const active = await deps.diagnostics.alarms.list({
    ...(options.wholeFleet ? {} : { vehicleIds: vehicles.map((v) => v.id) }),
    states: ['active', 'acknowledged'],
    limit: 1_000_000,
  });
  const alarms = new Map<string, Alarm[]>();
  const unitOf = new Map(vehicles.map((v) => [v.id, v.customerId]));
  // a vehicle's state is its current unit's: alarms left by a previous unit of the id are not part of it
  for (const a of active)
    if (a.customerId === unitOf.get(a.vehicleId)) alarms.set(a.vehicleId, [...(alarms.get(a.vehicleId) ?? []), a]);
  const latest = await deps.telemetry.latestMany(vehicles.map((v) => v.id));
  // each vehicle's open tickets of its current unit, the most pressing (next deadline) first
  const ids = new Set(vehicles.map((v) => v.id));
  const units = [...new Set(vehicles.map((v) => v.customerId))];
  const openPages = await Promise.all(
    (options.wholeFleet || units.length > 20 ? [undefined] : units).map((customerId) =>
      deps.diagnostics.tickets.page({ open: true, limit: OPEN_TICKETS_READ, ...(customerId ? { customerId } : {}) }),
    ),
  );
  const open = new Map<string, Ticket[]>();
  for (const page of openPages)
    for (const t of page.tickets)
      if (t.vehicleId && ids.has(t.vehicleId) && t.customerId === unitOf.get(t.vehicleId))
        open.set(t.vehicleId, [...(open.get(t.vehicleId) ?? []), t]);
  return vehicles.map((v) => {
    const p = presence.get(v.id);
    const found = latest.get(v.id);
    const l = found && options.sinceAssigned && found.frame.ts < v.assignedAt ? undefined : found;
    const list = alarms.get(v.id) ?? [];
    const worst = list.reduce<Alarm | undefined>(
      (w, a) => (!w || severityRank(a.severity) > severityRank(w.severity) ? a : w),
      undefined,
    );
    return {
      id: v.id,
      name: v.name,
      model: v.model,
      customerId: v.customerId,
      profile: v.profile,
      createdAt: v.createdAt,
      online: p?.online ?? false,
      presenceChangedAt: p?.changedAt ?? null,
      disconnectReason: p?.disconnectReason ?? null,
      latest: l
        ? {
            receivedAt: l.receivedAt,
            ts: l.frame.ts,
            source: l.frame.source,
            batterySocPct: l.frame.battery?.socPct ?? null,
            timeToEmptyMin: derive(l.frame, v.profile, newMemory()).timeToEmptyMin,
            ...(options.withFrame ? { frame: l.frame } : {}),
          }
        : null,
      openTickets: open.get(v.id)?.length ?? 0,
      openTicket: (() => {
        const t = open.get(v.id)?.[0];
        return t ? { id: t.id, number: t.number, level: t.level, status: t.status, nextDueAt: nextDueAt(t) } : null;
      })(),
      activeAlarms: list.length,
      worstAlarm: worst ? { id: worst.id, code: worst.code, severity: worst.severity, title: worst.title } : null,
    };
  });
}
