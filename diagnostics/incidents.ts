import type { RecordsDb } from '../records/db.ts';
import { severityRank, type Rule } from './rules/schema.ts';
import type { Alarm } from './types.ts';

export interface Incident {
  id: number;
  vehicleId: string;
  /** The unit the vehicle belonged to when the incident opened: an incident never spans units. */
  customerId: string | null;
  groupKey: string;
  rootAlarmId: number;
  severity: string;
  state: 'open' | 'resolved';
  ticketId: number | null;
}

/**
 * Correlation: alarms of one vehicle that share a root cause join one incident. An alarm joins an
 * open incident of the vehicle when one of the incident's alarms is of a rule it names in
 * `causedBy` (it is then marked as caused by that alarm), or when it belongs to the same group.
 * An incident takes the highest severity of its alarms and resolves when all of them have cleared.
 * An alarm joins only an incident of its own unit (a vehicle id reused for another unit, or a
 * transferred vehicle, opens its own incident and ticket).
 */
export function createIncidents(deps: { db: RecordsDb; now?: () => number }) {
  const { db } = deps;
  const now = deps.now ?? Date.now;

  const toIncident = (r: {
    id: number;
    vehicle_id: string;
    customer_id: string | null;
    group_key: string;
    root_alarm_id: number;
    severity: string;
    state: 'open' | 'resolved';
    ticket_id: number | null;
  }): Incident => ({
    id: Number(r.id),
    vehicleId: r.vehicle_id,
    customerId: r.customer_id,
    groupKey: r.group_key,
    rootAlarmId: Number(r.root_alarm_id),
    severity: r.severity,
    state: r.state,
    ticketId: r.ticket_id === null ? null : Number(r.ticket_id),
  });

  return {
    /** Puts a freshly raised alarm into an incident. */
    async correlate(
      alarm: Alarm,
      rule: Rule,
    ): Promise<{ incident: Incident; created: boolean; severityRaised: boolean; causedByAlarmId: number | null }> {
      const open = await db
        .selectFrom('incidents')
        .selectAll()
        .where('vehicle_id', '=', alarm.vehicleId)
        .where('customer_id', 'is not distinct from', alarm.customerId)
        .where('state', '=', 'open')
        .orderBy('id')
        .execute();
      let match: (typeof open)[number] | undefined;
      let causedByAlarmId: number | null = null;
      if (rule.causedBy.length && open.length) {
        const causes = await db
          .selectFrom('alarms')
          .select(['id', 'incident_id'])
          .where('vehicle_id', '=', alarm.vehicleId)
          .where('customer_id', 'is not distinct from', alarm.customerId)
          .where('rule_id', 'in', rule.causedBy)
          .where('state', '<>', 'cleared')
          .where(
            'incident_id',
            'in',
            open.map((i) => i.id),
          )
          // the most recent active cause is the proximate one (overheating, not the mains loss before it)
          .orderBy('id', 'desc')
          .executeTakeFirst();
        if (causes) {
          match = open.find((i) => Number(i.id) === Number(causes.incident_id));
          causedByAlarmId = Number(causes.id);
        }
      }
      match ??= open.find((i) => i.group_key === rule.group);
      if (match) {
        const severityRaised = severityRank(alarm.severity) > severityRank(match.severity);
        if (severityRaised)
          await db.updateTable('incidents').set({ severity: alarm.severity }).where('id', '=', match.id).execute();
        return {
          incident: toIncident({ ...match, severity: severityRaised ? alarm.severity : match.severity }),
          created: false,
          severityRaised,
          causedByAlarmId,
        };
      }
      const res = await db
        .insertInto('incidents')
        .values({
          vehicle_id: alarm.vehicleId,
          customer_id: alarm.customerId,
          group_key: rule.group,
          root_alarm_id: alarm.id,
          severity: alarm.severity,
          state: 'open',
          opened_at: alarm.raisedAt,
          resolved_at: null,
          ticket_id: null,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      const incident = await db
        .selectFrom('incidents')
        .selectAll()
        .where('id', '=', Number(res.id))
        .executeTakeFirstOrThrow();
      return { incident: toIncident(incident), created: true, severityRaised: false, causedByAlarmId: null };
    },
    async attachTicket(incidentId: number, ticketId: number): Promise<void> {
      await db.updateTable('incidents').set({ ticket_id: ticketId }).where('id', '=', incidentId).execute();
    },
    /** Resolves the incident once none of its alarms is active. */
    async alarmCleared(incidentId: number): Promise<boolean> {
      const active = await db
        .selectFrom('alarms')
        .select('id')
        .where('incident_id', '=', incidentId)
        .where('state', '<>', 'cleared')
        .executeTakeFirst();
      if (active) return false;
      await db
        .updateTable('incidents')
        .set({ state: 'resolved', resolved_at: now() })
        .where('id', '=', incidentId)
        .where('state', '=', 'open')
        .execute();
      return true;
    },
    async get(id: number): Promise<Incident | undefined> {
      const r = await db.selectFrom('incidents').selectAll().where('id', '=', id).executeTakeFirst();
      return r ? toIncident(r) : undefined;
    },
  };
}

export type Incidents = ReturnType<typeof createIncidents>;
