import type { Selectable } from 'kysely';
import { cursors } from '../../core/cursor.ts';
import { PlatformError } from '../../core/errors.ts';
import { inTransaction, type RecordsDb } from '../../records/db.ts';
import type { AlarmsTable } from '../../records/schema.ts';
import type { Rule } from '../rules/schema.ts';
import type { Alarm, AlarmNote, AlarmState } from '../types.ts';
import type { NoteVisibility } from '../visibility.ts';

type Row = Selectable<AlarmsTable>;

export interface AlarmFilter {
  vehicleIds?: string[];
  /** Only alarms raised while the vehicle belonged to this unit. */
  customerId?: string;
  states?: AlarmState[];
  severity?: string;
  since?: number;
  /** Page size (default 500). */
  limit?: number;
  /** From a previous page's `nextCursor`. */
  cursor?: string;
}

export interface AlarmPage {
  alarms: Alarm[];
  /** The cursor of the next page, or null on the last one. */
  nextCursor: string | null;
}

/** The filters of a list as one stable string: a cursor is valid only with the filters it was made for. */
const filtersKey = (f: AlarmFilter) =>
  `alarms:${JSON.stringify([
    f.vehicleIds ? [...new Set(f.vehicleIds)].sort() : null,
    f.customerId ?? null,
    f.states ? [...new Set(f.states)].sort() : null,
    f.severity ?? null,
    f.since ?? null,
  ])}`;

/**
 * Alarms: one active alarm per (vehicle, rule), active → acknowledged → cleared, with who
 * acknowledged and comments, and a history of notes. An alarm that comes back within the flapping
 * window after clearing is re-activated (its count goes up) instead of opening a new one, so a
 * flapping condition never floods the queue or opens more tickets.
 */
export function createAlarms(
  deps: { db: RecordsDb; titleOf: (ruleId: string) => { en: string; zh: string }; now?: () => number },
  options: { flapWindowMs: number },
) {
  const { db } = deps;
  const now = deps.now ?? Date.now;

  const toAlarm = (r: Row): Alarm => ({
    id: Number(r.id),
    vehicleId: r.vehicle_id,
    customerId: r.customer_id,
    ruleId: r.rule_id,
    code: r.code,
    severity: r.severity as Alarm['severity'],
    title: deps.titleOf(r.rule_id),
    state: r.state,
    raisedAt: Number(r.raised_at),
    clearedAt: r.cleared_at === null ? null : Number(r.cleared_at),
    acknowledgedAt: r.acknowledged_at === null ? null : Number(r.acknowledged_at),
    acknowledgedBy: r.acknowledged_by,
    raiseCount: Number(r.raise_count),
    live: r.live === 1,
    incidentId: r.incident_id === null ? null : Number(r.incident_id),
    causedByAlarmId: r.caused_by_alarm_id === null ? null : Number(r.caused_by_alarm_id),
  });

  async function get(id: number): Promise<Alarm> {
    const row = await db.selectFrom('alarms').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw new PlatformError('ALARM_NOT_FOUND', `alarm ${id} not found`);
    return toAlarm(row);
  }

  /** One page, newest first (raised at, then id), filtered, ordered and paged by the database. */
  async function page(filter: AlarmFilter = {}): Promise<AlarmPage> {
    const limit = filter.limit ?? 500;
    const list = filtersKey(filter);
    let q = db.selectFrom('alarms').selectAll();
    if (filter.vehicleIds)
      q = filter.vehicleIds.length ? q.where('vehicle_id', 'in', filter.vehicleIds) : q.where(({ lit }) => lit(false));
    if (filter.customerId !== undefined) {
      q = q.where('customer_id', '=', filter.customerId);
    }
    if (filter.states?.length) q = q.where('state', 'in', filter.states);
    if (filter.severity) q = q.where('severity', '=', filter.severity);
    if (filter.since !== undefined) q = q.where('raised_at', '>=', filter.since);
    if (filter.cursor !== undefined) {
      const [raisedAt, id] = cursors.decode(filter.cursor, list, 2) as [number, number];
      q = q.where(({ eb, refTuple, tuple }) => eb(refTuple('raised_at', 'id'), '<', tuple(raisedAt, id)));
    }
    const rows = await q
      .orderBy('raised_at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit + 1)
      .execute();
    const alarms = rows.slice(0, limit).map(toAlarm);
    const last = alarms[alarms.length - 1];
    return {
      alarms,
      nextCursor: rows.length > limit && last ? cursors.encode([last.raisedAt, last.id], list) : null,
    };
  }

  /**
   * The unit the vehicle belongs to now (null: not registered). An alarm belongs to the unit of its
   * time: a vehicle id reused for another unit, or a vehicle transferred, starts with no alarm.
   */
  const unitOf = async (vehicleId: string): Promise<string | null> =>
    (await db.selectFrom('vehicles').select('customer_id').where('id', '=', vehicleId).executeTakeFirst())
      ?.customer_id ?? null;

  const note = (
    tx: RecordsDb,
    alarmId: number,
    at: number,
    actor: string,
    kind: AlarmNote['kind'],
    text: string | null,
    visibility: NoteVisibility = 'customer',
  ) => tx.insertInto('alarm_notes').values({ alarm_id: alarmId, at, actor, kind, text, visibility }).execute();

  return {
    get,
    /** Raises (or re-activates) the alarm of a rule on a vehicle. `fresh` is false when nothing new happened. */
    async raise(
      vehicleId: string,
      rule: Rule,
      at: number,
      live: boolean,
      evidence: unknown,
    ): Promise<{ alarm: Alarm; fresh: boolean; promoted: boolean }> {
      const wall = now();
      const customerId = await unitOf(vehicleId);
      const active = await db
        .selectFrom('alarms')
        .selectAll()
        .where('vehicle_id', '=', vehicleId)
        .where('customer_id', 'is not distinct from', customerId)
        .where('rule_id', '=', rule.id)
        .where('state', '<>', 'cleared')
        .executeTakeFirst();
      if (active) {
        // a historical alarm confirmed by live data becomes live (the note at event time, like every transition)
        if (live && active.live === 0) {
          await inTransaction(db, async (tx) => {
            await tx.updateTable('alarms').set({ live: 1, updated_at: wall }).where('id', '=', active.id).execute();
            await note(tx, Number(active.id), at, 'system', 'reraised', 'confirmed by live data');
          });
          return { alarm: await get(Number(active.id)), fresh: false, promoted: true };
        }
        return { alarm: toAlarm(active), fresh: false, promoted: false };
      }
      const recent = await db
        .selectFrom('alarms')
        .selectAll()
        .where('vehicle_id', '=', vehicleId)
        .where('customer_id', 'is not distinct from', customerId)
        .where('rule_id', '=', rule.id)
        .where('state', '=', 'cleared')
        .where('cleared_at', '>=', at - options.flapWindowMs)
        .orderBy('id', 'desc')
        .executeTakeFirst();
      if (recent) {
        await inTransaction(db, async (tx) => {
          await tx
            .updateTable('alarms')
            .set({
              state: recent.acknowledged_at === null ? 'active' : 'acknowledged',
              cleared_at: null,
              raise_count: Number(recent.raise_count) + 1,
              updated_at: wall,
            })
            .where('id', '=', recent.id)
            .execute();
          await note(tx, Number(recent.id), at, 'system', 'reraised', 'came back within the flapping window');
        });
        return { alarm: await get(Number(recent.id)), fresh: false, promoted: false };
      }
      const id = await inTransaction(db, async (tx) => {
        const res = await tx
          .insertInto('alarms')
          .values({
            vehicle_id: vehicleId,
            customer_id: customerId,
            rule_id: rule.id,
            code: rule.code,
            severity: rule.severity,
            state: 'active',
            raised_at: at,
            cleared_at: null,
            acknowledged_at: null,
            acknowledged_by: null,
            raise_count: 1,
            live: live ? 1 : 0,
            incident_id: null,
            caused_by_alarm_id: null,
            evidence: evidence === undefined ? null : JSON.stringify(evidence),
            updated_at: wall,
          })
          .returning('id')
          .executeTakeFirstOrThrow();
        await note(tx, Number(res.id), at, 'system', 'raised', live ? null : 'found in replayed data');
        return Number(res.id);
      });
      return { alarm: await get(id), fresh: true, promoted: false };
    },
    async clear(vehicleId: string, ruleId: string, at: number): Promise<Alarm | undefined> {
      const customerId = await unitOf(vehicleId);
      const active = await db
        .selectFrom('alarms')
        .select('id')
        .where('vehicle_id', '=', vehicleId)
        .where('customer_id', 'is not distinct from', customerId)
        .where('rule_id', '=', ruleId)
        .where('state', '<>', 'cleared')
        .executeTakeFirst();
      if (!active) return undefined;
      await inTransaction(db, async (tx) => {
        await tx
          .updateTable('alarms')
          .set({ state: 'cleared', cleared_at: at, updated_at: now() })
          .where('id', '=', active.id)
          .execute();
        await note(tx, Number(active.id), at, 'system', 'cleared', null);
      });
      return get(Number(active.id));
    },
    async link(alarmId: number, incidentId: number, causedByAlarmId: number | null): Promise<Alarm> {
      await db
        .updateTable('alarms')
        .set({ incident_id: incidentId, caused_by_alarm_id: causedByAlarmId })
        .where('id', '=', alarmId)
        .execute();
      return get(alarmId);
    },
    /** Acknowledges the alarm, with an optional comment for staff only (`internal`) or the unit too (`customer`). */
    async acknowledge(
      id: number,
      actor: string,
      comment?: string,
      visibility: NoteVisibility = 'customer',
    ): Promise<Alarm> {
      const a = await get(id);
      if (a.acknowledgedAt !== null)
        throw new PlatformError('INVALID_TRANSITION', `alarm ${id} was already acknowledged by ${a.acknowledgedBy}`);
      const at = now();
      await inTransaction(db, async (tx) => {
        await tx
          .updateTable('alarms')
          .set({
            state: a.state === 'cleared' ? 'cleared' : 'acknowledged',
            acknowledged_at: at,
            acknowledged_by: actor,
            updated_at: at,
          })
          .where('id', '=', id)
          .execute();
        await note(tx, id, at, actor, 'acknowledged', comment ?? null, visibility);
      });
      return get(id);
    },
    async comment(id: number, actor: string, text: string, visibility: NoteVisibility = 'customer'): Promise<Alarm> {
      await get(id);
      await note(db, id, now(), actor, 'comment', text, visibility);
      return get(id);
    },
    async notes(id: number): Promise<AlarmNote[]> {
      const rows = await db.selectFrom('alarm_notes').selectAll().where('alarm_id', '=', id).orderBy('id').execute();
      return rows.map((r) => ({
        at: Number(r.at),
        actor: r.actor,
        kind: r.kind,
        text: r.text,
        visibility: r.visibility,
      }));
    },
    /** The first page of a list, newest first. */
    async list(filter: Omit<AlarmFilter, 'cursor'> = {}): Promise<Alarm[]> {
      return (await page(filter)).alarms;
    },
    page,
    async byIncident(incidentId: number): Promise<Alarm[]> {
      return (
        await db.selectFrom('alarms').selectAll().where('incident_id', '=', incidentId).orderBy('id').execute()
      ).map(toAlarm);
    },
    /**
     * Per rule, the event time of the last transition recorded for the vehicle (raised, re-raised,
     * cleared): what the rule engine finds again at or before it is already in the records.
     */
    async lastTransitions(vehicleId: string): Promise<Map<string, number>> {
      const rows = await db
        .selectFrom('alarm_notes')
        .innerJoin('alarms', 'alarms.id', 'alarm_notes.alarm_id')
        .select((eb) => ['alarms.rule_id', eb.fn.max('alarm_notes.at').as('at')])
        .where('alarms.vehicle_id', '=', vehicleId)
        .where('alarms.customer_id', 'is not distinct from', await unitOf(vehicleId))
        .where('alarm_notes.actor', '=', 'system')
        .where('alarm_notes.kind', 'in', ['raised', 'reraised', 'cleared'])
        .groupBy('alarms.rule_id')
        .execute();
      return new Map(rows.map((r) => [r.rule_id, Number(r.at)]));
    },
    /** A vehicle's active alarms, to restore the engine's state when its owner changes (cluster mode). */
    async activeOf(vehicleId: string): Promise<Alarm[]> {
      return (
        await db
          .selectFrom('alarms')
          .selectAll()
          .where('vehicle_id', '=', vehicleId)
          .where('state', '<>', 'cleared')
          .execute()
      ).map(toAlarm);
    },
    /** Active alarms at start-up, to restore the engine's state. */
    async allActive(): Promise<Alarm[]> {
      return (await db.selectFrom('alarms').selectAll().where('state', '<>', 'cleared').execute()).map(toAlarm);
    },
  };
}

export type Alarms = ReturnType<typeof createAlarms>;
