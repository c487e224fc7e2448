import { PlatformError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import { inTransaction, type RecordsDb } from '../../records/db.ts';
import { COMMAND_POST_ROLES, TEAM_ROLES, type TeamMember, type TeamRole } from '../tickets/team.ts';
import type { ServiceOrderKind, ServiceOrderStatus } from './orders.ts';
import type {} from './errors.ts';

/**
 * Each kind of service order's own steps and records, as the plan's 服务方式 (3), (4), (6) describe them:
 *
 * - 巡检巡修 patrol inspection and repair: the team (应急保障分队) → visits, one per vehicle or unit
 *   inspected (date, state found, readings, findings with severity, work done, parts used) → a
 *   finding that needs repair opens an emergency ticket or a follow-up order, linked to it;
 * - 技术培训 technical training: materials, attendees (name, unit, role), sessions held (topic,
 *   trainer), an assessment per attendee (score, passed);
 * - 伴随保障 accompanying support: the daily log entries of the duty; the outcome at completion.
 *
 * Records hang on the order; each type belongs to one kind (ORDER_KIND_MISMATCH otherwise) and to
 * the statuses in RECORD_STATUSES (ORDER_STATUS_INVALID otherwise). `internalNote` is staff-only.
 * The customer side signs the completed order off (双方确认): once, when it is done.
 */

/** The team of a service order: the response team's roles without the command post (that is for 特急 tickets). */
export const ORDER_TEAM_ROLES = TEAM_ROLES.filter((r) => !COMMAND_POST_ROLES.includes(r)) as Exclude<
  TeamRole,
  'commander' | 'deputy_commander'
>[];

export const FINDING_SEVERITIES = ['info', 'minor', 'major', 'critical'] as const;
export type FindingSeverity = (typeof FINDING_SEVERITIES)[number];
export const FINDING_SEVERITY_LABELS: Record<FindingSeverity, { en: string; zh: string }> = {
  info: { en: 'Note', zh: '提示' },
  minor: { en: 'Minor', zh: '一般' },
  major: { en: 'Major', zh: '严重' },
  critical: { en: 'Critical', zh: '危急' },
};

/** What a finding that needs repair led to: an emergency ticket or a follow-up service order. */
export type FindingLink =
  { kind: 'ticket'; ticketId: number; number: string } | { kind: 'order'; orderId: number; number: string };

export interface Finding {
  text: string;
  severity: FindingSeverity;
  needsRepair: boolean;
  link: FindingLink | null;
}

export interface PartLine {
  name: string;
  partNo: string | null;
  quantity: number | null;
  unit: string | null;
}

/** The applications of each kind (申请内容), beside the order's place, date, people and contacts. */
export type OrderApplication =
  | { kind: 'patrol_inspection'; equipment: string[]; tools: string }
  | { kind: 'training'; teachingUnit: string; topics: string[]; materials: string }
  | {
      kind: 'accompanying_support';
      taskSource: string;
      supportedUnit: string;
      equipment: string;
      assemblyAt: number;
      assemblyPlace: string;
      start: number;
      end: number;
    };

export type RecordBody =
  | {
      type: 'visit';
      /** The vehicle inspected (one of the unit's), or null for equipment named in `equipment`. */
      vehicleId: string | null;
      equipment: string;
      at: number;
      stateFound: string;
      readings: string;
      findings: Finding[];
      workDone: string;
      parts: PartLine[];
    }
  | { type: 'material'; title: string; note: string | null }
  | { type: 'attendee'; name: string; unit: string; role: string }
  | { type: 'session'; at: number; hours: number | null; topic: string; trainer: string; place: string | null }
  | { type: 'assessment'; attendeeId: number; score: number | null; passed: boolean; note: string | null }
  | { type: 'log'; at: number; text: string };
export type RecordType = RecordBody['type'];
export const RECORD_TYPES = ['visit', 'material', 'attendee', 'session', 'assessment', 'log'] as const;

/** Which kind of order takes which record. */
export const RECORD_KIND: Record<RecordType, ServiceOrderKind> = {
  visit: 'patrol_inspection',
  material: 'training',
  attendee: 'training',
  session: 'training',
  assessment: 'training',
  log: 'accompanying_support',
};

/** When: what is prepared (materials, attendees) from the request on; what is done while in progress. */
export const RECORD_STATUSES: Record<RecordType, readonly ServiceOrderStatus[]> = {
  visit: ['in_progress'],
  material: ['requested', 'scheduled', 'in_progress'],
  attendee: ['requested', 'scheduled', 'in_progress'],
  session: ['in_progress'],
  assessment: ['in_progress'],
  log: ['in_progress'],
};

/** The team can be set until the order is done or cancelled. */
export const TEAM_STATUSES: readonly ServiceOrderStatus[] = ['requested', 'scheduled', 'in_progress'];

export interface OrderRecord {
  id: number;
  orderId: number;
  at: number;
  actor: string;
  body: RecordBody;
  /** Staff only (null for a customer and in reports). */
  internalNote: string | null;
}

export interface SignOff {
  at: number;
  /** The customer account that signed. */
  by: string;
  /** The name written on the signature (the unit's representative). */
  name: string;
  note: string | null;
}

export function applicationCheck(kind: ServiceOrderKind, app: OrderApplication | null): void {
  if (app && app.kind !== kind)
    throw new PlatformError(
      'ORDER_KIND_MISMATCH',
      `body.application: that is the application of a ${app.kind.replace(/_/g, ' ')} order, not of a ${kind.replace(/_/g, ' ')}`,
    );
  if (app?.kind === 'accompanying_support' && app.end < app.start)
    throw new PlatformError('VALIDATION_FAILED', 'body.application.end: the duty ends before it starts');
}

const statusWords = (s: readonly string[]) => s.map((x) => x.replace(/_/g, ' ')).join(' or ');

export function createOrderRecords(deps: { db: RecordsDb; log: Logger; now?: () => number }) {
  const { db, log } = deps;
  const now = deps.now ?? Date.now;

  async function orderRow(h: RecordsDb, id: number) {
    const row = await h
      .selectFrom('service_orders')
      .select(['id', 'number', 'kind', 'status', 'customer_id', 'signed_at'])
      .where('id', '=', id)
      .executeTakeFirst();
    if (!row) throw new PlatformError('SERVICE_ORDER_NOT_FOUND', `service order ${id} not found`);
    return row;
  }

  async function event(h: RecordsDb, orderId: number, at: number, actor: string, action: string, note: string | null) {
    await h
      .insertInto('service_order_events')
      .values({ order_id: orderId, at, actor, action, from_status: null, to_status: null, note })
      .execute();
    await h.updateTable('service_orders').set({ updated_at: at }).where('id', '=', orderId).execute();
  }

  async function recordRow(h: RecordsDb, orderId: number, recordId: number): Promise<OrderRecord> {
    const r = await h
      .selectFrom('service_order_records')
      .selectAll()
      .where('id', '=', recordId)
      .where('order_id', '=', orderId)
      .executeTakeFirst();
    if (!r) throw new PlatformError('ORDER_RECORD_NOT_FOUND', `service order ${orderId} has no record ${recordId}`);
    return toRecord(r);
  }

  const toRecord = (r: {
    id: number;
    order_id: number;
    at: number;
    actor: string;
    body: string;
    internal_note: string | null;
  }): OrderRecord => ({
    id: Number(r.id),
    orderId: Number(r.order_id),
    at: Number(r.at),
    actor: r.actor,
    body: JSON.parse(r.body) as RecordBody,
    internalNote: r.internal_note,
  });

  return {
    async team(orderId: number): Promise<TeamMember[]> {
      const rows = await db
        .selectFrom('service_order_team_members')
        .select(['account_id', 'team_role', 'duty'])
        .where('order_id', '=', orderId)
        .orderBy('id')
        .execute();
      return rows.map((r) => ({ accountId: r.account_id, role: r.team_role as TeamRole, duty: r.duty }));
    },

    /** Replaces the team (the duty desk's), with a `team_set` event naming the members. */
    async setTeam(orderId: number, members: TeamMember[], actor: string): Promise<void> {
      if (members.filter((m) => m.role === 'leader').length > 1)
        throw new PlatformError('INVALID_ARGUMENT', 'body.members: one leader (组长) at most');
      const bad = members.find((m) => !(ORDER_TEAM_ROLES as readonly string[]).includes(m.role));
      if (bad)
        throw new PlatformError(
          'INVALID_ARGUMENT',
          `body.members: ${bad.role} is a role of 特急 tickets, not of orders`,
        );
      await inTransaction(db, async (tx) => {
        const o = await orderRow(tx, orderId);
        if (!TEAM_STATUSES.includes(o.status as ServiceOrderStatus))
          throw new PlatformError('ORDER_STATUS_INVALID', `the team of a ${o.status} service order cannot change`);
        await tx.deleteFrom('service_order_team_members').where('order_id', '=', orderId).execute();
        if (members.length)
          await tx
            .insertInto('service_order_team_members')
            .values(
              members.map((m) => ({ order_id: orderId, account_id: m.accountId, team_role: m.role, duty: m.duty })),
            )
            .execute();
        await event(
          tx,
          orderId,
          now(),
          actor,
          'team_set',
          // roles and duties only: the event is shown to the customer, who never sees a staff login id
          members.map((m) => `${m.role}${m.duty ? ` (${m.duty})` : ''}`).join('; ') || null,
        );
      });
    },

    /** Adds one record of the order's kind, in a status that takes it. */
    async add(orderId: number, body: RecordBody, actor: string, internalNote: string | null): Promise<OrderRecord> {
      const at = now();
      const rec = await inTransaction(db, async (tx) => {
        const o = await orderRow(tx, orderId);
        if (RECORD_KIND[body.type] !== o.kind)
          throw new PlatformError(
            'ORDER_KIND_MISMATCH',
            `a ${body.type} is a record of a ${RECORD_KIND[body.type].replace(/_/g, ' ')} order; ${o.number} is a ${o.kind.replace(/_/g, ' ')}`,
          );
        const ok = RECORD_STATUSES[body.type];
        if (!ok.includes(o.status as ServiceOrderStatus))
          throw new PlatformError(
            'ORDER_STATUS_INVALID',
            `a ${body.type} is recorded while the order is ${statusWords(ok)}; ${o.number} is ${o.status.replace(/_/g, ' ')}`,
          );
        if (body.type === 'assessment') {
          const a = await tx
            .selectFrom('service_order_records')
            .select('id')
            .where('id', '=', body.attendeeId)
            .where('order_id', '=', orderId)
            .where('type', '=', 'attendee')
            .executeTakeFirst();
          if (!a) throw new PlatformError('ORDER_RECORD_NOT_FOUND', `${o.number} has no attendee ${body.attendeeId}`);
        }
        const res = await tx
          .insertInto('service_order_records')
          .values({
            order_id: orderId,
            type: body.type,
            at,
            actor,
            body: JSON.stringify(body),
            internal_note: internalNote,
            created_at: at,
            updated_at: at,
          })
          .returning('id')
          .executeTakeFirstOrThrow();
        await event(tx, orderId, at, actor, `${body.type}_recorded`, null);
        return recordRow(tx, orderId, Number(res.id));
      });
      log.info({ orderId, type: body.type, record: rec.id }, 'service order record added');
      return rec;
    },

    /** The order's records in the order they were made. */
    async list(orderId: number): Promise<OrderRecord[]> {
      const rows = await db
        .selectFrom('service_order_records')
        .selectAll()
        .where('order_id', '=', orderId)
        .orderBy('id')
        .execute();
      return rows.map(toRecord);
    },

    record: (orderId: number, recordId: number): Promise<OrderRecord> => recordRow(db, orderId, recordId),

    /**
     * Links what a visit's finding led to (the ticket or follow-up order, opened by the caller).
     * The finding must need repair and not be linked yet.
     */
    async linkFinding(
      orderId: number,
      recordId: number,
      index: number,
      link: FindingLink,
      actor: string,
    ): Promise<OrderRecord> {
      return inTransaction(db, async (tx) => {
        const r = await recordRow(tx, orderId, recordId);
        const f = r.body.type === 'visit' ? r.body.findings[index] : undefined;
        if (r.body.type !== 'visit' || !f)
          throw new PlatformError('ORDER_RECORD_NOT_FOUND', `record ${recordId} has no finding ${index}`);
        if (f.link)
          throw new PlatformError('ORDER_STATUS_INVALID', `finding ${index} is linked to ${f.link.number} already`);
        const findings = r.body.findings.map((x, i) => (i === index ? { ...x, needsRepair: true, link } : x));
        const at = now();
        await tx
          .updateTable('service_order_records')
          .set({ body: JSON.stringify({ ...r.body, findings }), updated_at: at })
          .where('id', '=', recordId)
          .execute();
        await event(tx, orderId, at, actor, 'finding_linked', `${f.text} → ${link.number}`);
        return recordRow(tx, orderId, recordId);
      });
    },

    /** May a finding open a ticket or follow-up now? (checked before opening one). */
    async findingOpenable(orderId: number, recordId: number, index: number): Promise<Finding> {
      const r = await recordRow(db, orderId, recordId);
      const f = r.body.type === 'visit' ? r.body.findings[index] : undefined;
      if (!f) throw new PlatformError('ORDER_RECORD_NOT_FOUND', `record ${recordId} has no finding ${index}`);
      if (f.link)
        throw new PlatformError('ORDER_STATUS_INVALID', `finding ${index} is linked to ${f.link.number} already`);
      return f;
    },

    /** The customer side's sign-off of a completed order (双方确认): once. */
    async signOff(orderId: number, by: string, name: string, note: string | null): Promise<SignOff> {
      const at = now();
      await inTransaction(db, async (tx) => {
        const o = await orderRow(tx, orderId);
        if (o.status !== 'done')
          throw new PlatformError(
            'ORDER_STATUS_INVALID',
            `${o.number} is ${o.status.replace(/_/g, ' ')}: the customer signs off a done order`,
          );
        const res = await tx
          .updateTable('service_orders')
          .set({ signed_at: at, signed_by: by, signed_name: name, sign_note: note, updated_at: at })
          .where('id', '=', orderId)
          .where('signed_at', 'is', null)
          .executeTakeFirst();
        if (Number(res.numUpdatedRows) !== 1)
          throw new PlatformError('ORDER_ALREADY_SIGNED', `${o.number} is signed off already`);
        await event(tx, orderId, at, by, 'signed_off', [name, note].filter(Boolean).join('; '));
      });
      log.info({ orderId }, 'service order signed off by the customer');
      return { at, by, name, note };
    },
  };
}

export type OrderRecords = ReturnType<typeof createOrderRecords>;
