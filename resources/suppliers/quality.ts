import type { Generated } from 'kysely';
import { PlatformError } from '../../core/errors.ts';
import type { RecordsDb } from '../../records/db.ts';
import type { Suppliers } from './suppliers.ts';
// the parts catalogue's tables (fitted models of a part, for its failure rate)
import type {} from '../stock/records.ts';
import '../errors.ts';

/**
 * Quality information (质量信息反馈): a staff member attributes a ticket's cause to a part of a
 * supplier (a quality record, against that supplier); failure rates per supplier part over fleet
 * hours; quality feedback sent to the supplier, with its answer tracked.
 *
 * Fleet hours (the exposure a failure rate is taken over): for every registered vehicle, the hours
 * it was in service inside the window — from its registration (`vehicles.created_at`, the platform's
 * delivery date) or the window's start, whichever is later, to the window's end or now. A part the
 * catalogue lists with the models it fits is taken over the vehicles of those models only (the
 * vehicles that carry it); a part without fitted models, or not in the catalogue, over the whole
 * fleet. Telemetry carries no engine-hour counter: these are calendar hours in service.
 */
export interface QualityRecordsTable {
  id: Generated<number>;
  ticket_id: number;
  vehicle_id: string | null;
  fault_code: string | null;
  part_number: string;
  supplier_id: string;
  /** When the part failed: the ticket's receipt time. */
  failed_at: number;
  note: string | null;
  recorded_by: string;
  recorded_at: number;
}

export interface QualityFeedbackTable {
  id: Generated<number>;
  supplier_id: string;
  part_number: string | null;
  /** JSON: number[] — the quality records it is about. */
  record_ids: string;
  subject: string;
  body: string;
  sent_at: number;
  sent_by: string;
  answer_due_at: number | null;
  answer: string | null;
  answered_at: number | null;
  recorded_by: string | null;
}

declare module '../../records/schema.ts' {
  interface RecordsSchema {
    quality_records: QualityRecordsTable;
    quality_feedback: QualityFeedbackTable;
  }
}

/** The facts of a ticket a quality record keeps (diagnostics' ticket, read by the caller). */
export interface TicketFacts {
  id: number;
  vehicleId: string | null;
  faultCode: string | null;
  receivedAt: number;
}

export interface QualityRecord {
  id: number;
  ticketId: number;
  vehicleId: string | null;
  faultCode: string | null;
  partNumber: string;
  supplierId: string;
  failedAt: number;
  note: string | null;
  recordedBy: string;
  recordedAt: number;
}

export interface QualityFeedback {
  id: number;
  supplierId: string;
  partNumber: string | null;
  recordIds: number[];
  subject: string;
  text: string;
  sentAt: number;
  sentBy: string;
  answerDueAt: number | null;
  answer: string | null;
  answeredAt: number | null;
  /** open: waiting for the answer; overdue: past answerDueAt without one; answered. */
  state: 'open' | 'overdue' | 'answered';
}

export interface FailureRate {
  supplierId: string;
  partNumber: string;
  failures: number;
  /** Vehicle-hours in the window of the vehicles that carry the part (see above). */
  fleetHours: number;
  /** Which vehicles `fleetHours` counts: those of the models the catalogue says the part fits, or all. */
  exposure: 'fitted_models' | 'whole_fleet';
  /** Failures per 1,000 fleet hours; null with no fleet hours. */
  per1000Hours: number | null;
  /** Fleet hours per failure (mean time between failures); null without failures. */
  mtbfHours: number | null;
}

type RecordRow = Omit<QualityRecordsTable, 'id'> & { id: number };
type FeedbackRow = Omit<QualityFeedbackTable, 'id'> & { id: number };

const recordOf = (r: RecordRow): QualityRecord => ({
  id: Number(r.id),
  ticketId: Number(r.ticket_id),
  vehicleId: r.vehicle_id,
  faultCode: r.fault_code,
  partNumber: r.part_number,
  supplierId: r.supplier_id,
  failedAt: Number(r.failed_at),
  note: r.note,
  recordedBy: r.recorded_by,
  recordedAt: Number(r.recorded_at),
});

const HOUR = 3_600_000;
const round = (n: number, digits: number) => Math.round(n * 10 ** digits) / 10 ** digits;

export function createQuality(deps: { db: RecordsDb; now: () => number; suppliers: Pick<Suppliers, 'get'> }) {
  const { db, now } = deps;

  function feedbackOf(r: FeedbackRow, at: number): QualityFeedback {
    const answerDueAt = r.answer_due_at === null ? null : Number(r.answer_due_at);
    return {
      id: Number(r.id),
      supplierId: r.supplier_id,
      partNumber: r.part_number,
      recordIds: JSON.parse(r.record_ids) as number[],
      subject: r.subject,
      text: r.body,
      sentAt: Number(r.sent_at),
      sentBy: r.sent_by,
      answerDueAt,
      answer: r.answer,
      answeredAt: r.answered_at === null ? null : Number(r.answered_at),
      state: r.answered_at !== null ? 'answered' : answerDueAt !== null && answerDueAt <= at ? 'overdue' : 'open',
    };
  }

  /** Vehicle-hours of the registered fleet between `from` and `to` (of `models` only, when given). */
  async function fleetHours(from: number, to: number, models?: readonly string[]): Promise<number> {
    let q = db.selectFrom('vehicles').select('created_at');
    if (models?.length) q = q.where('model', 'in', [...models]);
    let ms = 0;
    for (const v of await q.execute()) ms += Math.max(0, to - Math.max(from, Number(v.created_at)));
    return ms / HOUR;
  }

  /** The models each of `partNumbers` fits, from the catalogue (parts fitting no model listed: absent). */
  async function fittedModels(partNumbers: string[]): Promise<Map<string, string[]>> {
    if (!partNumbers.length) return new Map();
    const rows = await db
      .selectFrom('parts')
      .select(['part_no', 'fits_models'])
      .where('part_no', 'in', partNumbers)
      .execute();
    const out = new Map<string, string[]>();
    for (const r of rows) {
      const models = JSON.parse(r.fits_models) as string[];
      if (models.length) out.set(r.part_no, models);
    }
    return out;
  }

  return {
    fleetHours,
    /** A ticket's cause attributed to a supplier's part: a quality record against the supplier. */
    async attribute(
      ticket: TicketFacts,
      input: { partNumber: string; supplierId: string; note?: string | null; by: string },
    ): Promise<QualityRecord> {
      await deps.suppliers.get(input.supplierId);
      const exists = await db
        .selectFrom('quality_records')
        .select('id')
        .where('ticket_id', '=', ticket.id)
        .where('part_number', '=', input.partNumber)
        .executeTakeFirst();
      if (exists)
        throw new PlatformError(
          'QUALITY_RECORD_EXISTS',
          `ticket ${ticket.id}'s cause is already attributed to part ${input.partNumber}`,
        );
      // the unique (ticket, part) index settles two attributions at the same moment
      const row = await db
        .insertInto('quality_records')
        .values({
          ticket_id: ticket.id,
          vehicle_id: ticket.vehicleId,
          fault_code: ticket.faultCode,
          part_number: input.partNumber,
          supplier_id: input.supplierId,
          failed_at: ticket.receivedAt,
          note: input.note ?? null,
          recorded_by: input.by,
          recorded_at: now(),
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return recordOf(row as RecordRow);
    },
    async records(filter: { supplierId?: string; ticketId?: number } = {}): Promise<QualityRecord[]> {
      let q = db.selectFrom('quality_records').selectAll().orderBy('failed_at', 'desc').orderBy('id', 'desc');
      if (filter.supplierId !== undefined) q = q.where('supplier_id', '=', filter.supplierId);
      if (filter.ticketId !== undefined) q = q.where('ticket_id', '=', filter.ticketId);
      return (await q.limit(500).execute()).map((r) => recordOf(r as RecordRow));
    },
    /** Failures per supplier part in [from, to] over the fleet's hours in it, worst first. */
    async failureRates(window: { from: number; to?: number }): Promise<{ fleetHours: number; rates: FailureRate[] }> {
      const to = Math.min(window.to ?? now(), now());
      const hours = await fleetHours(window.from, to);
      const rows = await db
        .selectFrom('quality_records')
        .select(['supplier_id', 'part_number', (e) => e.fn.countAll<number>().as('n')])
        .where('failed_at', '>=', window.from)
        .where('failed_at', '<=', to)
        .groupBy(['supplier_id', 'part_number'])
        .execute();
      const fitted = await fittedModels([...new Set(rows.map((r) => r.part_number))]);
      const byModels = new Map<string, number>();
      const hoursOf = async (models: string[] | undefined): Promise<number> => {
        if (!models) return hours;
        const key = [...models].sort().join('\u0000');
        let h = byModels.get(key);
        if (h === undefined) byModels.set(key, (h = await fleetHours(window.from, to, models)));
        return h;
      };
      const rates: FailureRate[] = [];
      for (const r of rows) {
        const failures = Number(r.n);
        const models = fitted.get(r.part_number);
        const exposure = await hoursOf(models);
        rates.push({
          supplierId: r.supplier_id,
          partNumber: r.part_number,
          failures,
          fleetHours: round(exposure, 1),
          exposure: models ? 'fitted_models' : 'whole_fleet',
          per1000Hours: exposure > 0 ? round((failures / exposure) * 1000, 4) : null,
          mtbfHours: failures > 0 && exposure > 0 ? round(exposure / failures, 1) : null,
        });
      }
      rates.sort((a, b) => b.failures - a.failures || a.supplierId.localeCompare(b.supplierId));
      return { fleetHours: round(hours, 1), rates };
    },
    /** Quality feedback to a supplier about some of its quality records; its answer is awaited. */
    async sendFeedback(input: {
      supplierId: string;
      partNumber?: string | null;
      recordIds: number[];
      subject: string;
      text: string;
      answerDueAt?: number | null;
      by: string;
    }): Promise<QualityFeedback> {
      await deps.suppliers.get(input.supplierId);
      if (input.recordIds.length) {
        const found = await db
          .selectFrom('quality_records')
          .select('id')
          .where('id', 'in', input.recordIds)
          .where('supplier_id', '=', input.supplierId)
          .execute();
        if (found.length !== new Set(input.recordIds).size)
          throw new PlatformError('INVALID_ARGUMENT', `recordIds: not all are quality records of ${input.supplierId}`);
      }
      const row = await db
        .insertInto('quality_feedback')
        .values({
          supplier_id: input.supplierId,
          part_number: input.partNumber ?? null,
          record_ids: JSON.stringify(input.recordIds),
          subject: input.subject,
          body: input.text,
          sent_at: now(),
          sent_by: input.by,
          answer_due_at: input.answerDueAt ?? null,
          answer: null,
          answered_at: null,
          recorded_by: null,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return feedbackOf(row as FeedbackRow, now());
    },
    async answer(id: number, input: { answer: string; by: string }): Promise<QualityFeedback> {
      const at = now();
      const done = await db
        .updateTable('quality_feedback')
        .set({ answer: input.answer, answered_at: at, recorded_by: input.by })
        .where('id', '=', id)
        .where('answered_at', 'is', null)
        .executeTakeFirst();
      const row = await db.selectFrom('quality_feedback').selectAll().where('id', '=', id).executeTakeFirst();
      if (!row) throw new PlatformError('FEEDBACK_NOT_FOUND', `quality feedback ${id} not found`);
      if (Number(done.numUpdatedRows) === 0)
        throw new PlatformError('FEEDBACK_ANSWERED', `quality feedback ${id} is answered already`);
      return feedbackOf(row as FeedbackRow, at);
    },
    async feedback(filter: { supplierId?: string } = {}): Promise<QualityFeedback[]> {
      let q = db.selectFrom('quality_feedback').selectAll().orderBy('sent_at', 'desc').orderBy('id', 'desc');
      if (filter.supplierId !== undefined) q = q.where('supplier_id', '=', filter.supplierId);
      const at = now();
      return (await q.limit(200).execute()).map((r) => feedbackOf(r as FeedbackRow, at));
    },
  };
}

export type Quality = ReturnType<typeof createQuality>;
