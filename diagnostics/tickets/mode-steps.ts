import type { Selectable } from 'kysely';
import { z } from 'zod';
import type { EventBus } from '../../core/bus.ts';
import { PlatformError } from '../../core/errors.ts';
import type { PlatformEvents } from '../../core/events.ts';
import type { Logger } from '../../core/logger.ts';
import { inTransaction, type RecordsDb } from '../../records/db.ts';
import type { TicketModeStepsTable } from '../../records/schema.ts';
import type { Ticket } from '../types.ts';
import type { NoteVisibility } from '../visibility.ts';
import { isOpenStatus } from './queue.ts';
import type { TicketService } from './service.ts';
import type { ServiceMode } from './status.ts';

/**
 * The service modes' own steps and records (服务方式, 售后服务程序 (1), (2), (7); issue 13 item 3):
 * - on-site repair (现场修理): agreed transport and time, departure (with the ETA), arrival, the joint
 *   assessment of the technical state (双方鉴定, the customer confirms it), the cause, the repair,
 *   on-site training where needed (视情况对用户进行培训);
 * - return to factory (返厂修理): handover (交接手续, the customer confirms it), shipping or delivery
 *   to the factory (carrier, tracking), receipt at the factory with count and inspection (清点检验),
 *   the repair, the assessment after repair (技术状态鉴定), the return shipment, and the customer's
 *   receipt confirmation (收货确认, recorded by the customer side from its console);
 * - emergency replacement (紧急模式: 整机临时替代、模块更换): the loaner whole unit or module out
 *   (which, serial), the swap, the original repaired, swapped back, the loaner returned.
 * Remote technical support keeps its remote sessions (remote/) as its records: no steps here.
 *
 * Each step is recorded once per ticket and mode, in the mode's order (STEP_OUT_OF_ORDER names the
 * step missing; optional steps may be left out), while the ticket is open (TICKET_CLOSED) and in
 * that mode (MODE_NOT_CURRENT). A ticket moved to another mode keeps every step recorded before.
 * Each step goes on the ticket's timeline (`step_<step>`) in the same transaction and is announced
 * on the bus (`ticket.mode_step`: the notifications' seam) after the commit.
 */
export const STEP_MODES = [
  'on_site_repair',
  'return_to_factory',
  'emergency_replacement',
] as const satisfies readonly ServiceMode[];
export type StepMode = (typeof STEP_MODES)[number];

/** The details a step may carry; `*` in a step's `required`. */
export const stepDetailsSchema = z.strictObject({
  /** agreed: the transport agreed (车辆、高铁、飞机…). */
  transport: z.string().trim().min(1).max(200).optional(),
  /** agreed: the time agreed to be on site (epoch ms). */
  plannedAt: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
  /** departed: when the team expects to arrive (epoch ms); also set as the ticket's ETA. */
  eta: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
  /** What was found or done: the technical state, the cause, the inspection, the repair, the training. */
  result: z.string().trim().min(1).max(2000).optional(),
  /** handed_over, loaner_out: which equipment or part. */
  item: z.string().trim().min(1).max(200).optional(),
  /** shipped_to_factory, shipped_back: how it travels. */
  method: z.enum(['in_person', 'shipped', 'collected']).optional(),
  carrier: z.string().trim().min(1).max(100).optional(),
  tracking: z.string().trim().min(1).max(100).optional(),
  /** received_at_factory, receipt_confirmed: pieces counted (清点). */
  count: z.number().int().min(0).max(100_000).optional(),
  /** loaner_out: a whole unit (整机) or a module (模块). */
  unitKind: z.enum(['whole_unit', 'module']).optional(),
  /** loaner_out: the loaner's serial number. */
  serial: z.string().trim().min(1).max(100).optional(),
  /** swapped: the original's serial number. */
  originalSerial: z.string().trim().min(1).max(100).optional(),
  /** training_given: who attended. */
  attendees: z.string().trim().min(1).max(500).optional(),
});
export type StepDetails = z.infer<typeof stepDetailsSchema>;
type DetailField = keyof StepDetails;

export interface StepDefinition {
  step: string;
  /** Who records it: staff, or the customer side (the receipt of returned equipment). */
  side: 'staff' | 'customer';
  /** May be left out (on-site training: 视情况). */
  optional?: boolean;
  /** The customer side confirms it afterwards (双方确认). */
  confirm?: boolean;
  fields: readonly DetailField[];
  required: readonly DetailField[];
}

const def = (
  step: string,
  fields: DetailField[],
  required: DetailField[] = [],
  more: Partial<Pick<StepDefinition, 'side' | 'optional' | 'confirm'>> = {},
): StepDefinition => ({ step, side: more.side ?? 'staff', fields, required, ...more });

/** Each mode's steps in their order. */
export const MODE_STEPS: Record<StepMode, readonly StepDefinition[]> = {
  on_site_repair: [
    def('agreed', ['transport', 'plannedAt'], ['transport']),
    def('departed', ['eta']),
    def('arrived', []),
    def('joint_assessment', ['result'], ['result'], { confirm: true }),
    def('cause_found', ['result'], ['result']),
    def('repaired_on_site', ['result'], ['result']),
    def('training_given', ['attendees', 'result'], [], { optional: true }),
  ],
  return_to_factory: [
    def('handed_over', ['item', 'result'], ['item'], { confirm: true }),
    def('shipped_to_factory', ['method', 'carrier', 'tracking'], ['method']),
    def('received_at_factory', ['count', 'result'], ['count']),
    def('repaired_at_factory', ['result'], ['result']),
    def('assessed_after_repair', ['result'], ['result']),
    def('shipped_back', ['method', 'carrier', 'tracking'], ['method']),
    def('receipt_confirmed', ['count', 'result'], [], { side: 'customer' }),
  ],
  emergency_replacement: [
    def('loaner_out', ['unitKind', 'item', 'serial'], ['unitKind', 'item', 'serial']),
    def('swapped', ['originalSerial', 'result']),
    def('original_repaired', ['result']),
    def('swapped_back', ['result']),
    def('loaner_returned', ['result']),
  ],
};

/** Each step in the plan's words (the reports; the console has its own i18n keys `modeStep.<step>`). */
export const STEP_LABELS: Record<string, { en: string; zh: string }> = {
  agreed: { en: 'Transport and time agreed', zh: '约定交通方式和时间' },
  departed: { en: 'Departed', zh: '出发' },
  arrived: { en: 'Arrived on site', zh: '到达现场' },
  joint_assessment: { en: 'Joint assessment of the technical state', zh: '双方鉴定装备技术状态' },
  cause_found: { en: 'Cause of the fault found', zh: '查明故障原因' },
  repaired_on_site: { en: 'Repaired on site', zh: '现场修复故障' },
  training_given: { en: 'On-site training given', zh: '对用户进行培训' },
  handed_over: { en: 'Equipment handed over', zh: '办理装备（部件）交接' },
  shipped_to_factory: { en: 'Sent to the factory', zh: '送修/托运' },
  received_at_factory: { en: 'Received at the factory, counted and inspected', zh: '提取货物、清点检验' },
  repaired_at_factory: { en: 'Repaired at the factory', zh: '修复故障装备（部件）' },
  assessed_after_repair: { en: 'Technical state assessed after repair', zh: '修复后技术状态鉴定' },
  shipped_back: { en: 'Returned to the user', zh: '返还发运' },
  receipt_confirmed: { en: 'Receipt confirmed by the user', zh: '用户收货确认' },
  loaner_out: { en: 'Loaner unit or module sent out', zh: '临时替代整机/模块发出' },
  swapped: { en: 'Swapped in', zh: '更换完成' },
  original_repaired: { en: 'Original repaired', zh: '原装备修复' },
  swapped_back: { en: 'Swapped back', zh: '换回原装备' },
  loaner_returned: { en: 'Loaner returned', zh: '替代件归还' },
};

/** The details' names in both languages (the reports). */
export const DETAIL_LABELS: Record<keyof StepDetails, { en: string; zh: string }> = {
  transport: { en: 'transport', zh: '交通方式' },
  plannedAt: { en: 'agreed time', zh: '约定时间' },
  eta: { en: 'ETA', zh: '预计到达' },
  result: { en: 'result', zh: '结果' },
  item: { en: 'equipment', zh: '装备（部件）' },
  method: { en: 'method', zh: '方式' },
  carrier: { en: 'carrier', zh: '承运方' },
  tracking: { en: 'tracking no.', zh: '运单号' },
  count: { en: 'count', zh: '数量' },
  unitKind: { en: 'kind', zh: '类别' },
  serial: { en: 'serial no.', zh: '编号' },
  originalSerial: { en: 'original serial no.', zh: '原装备编号' },
  attendees: { en: 'attendees', zh: '参训人员' },
};

/** Every step name (unique across modes), with its mode. */
export const STEP_NAMES = STEP_MODES.flatMap((m) => MODE_STEPS[m].map((d) => d.step));
export const modeOfStep = (step: string): StepMode | undefined =>
  STEP_MODES.find((m) => MODE_STEPS[m].some((d) => d.step === step));
export const isStepMode = (m: string | null): m is StepMode => STEP_MODES.includes(m as StepMode);

/** The timeline action of a step (`step_arrived`), and of a confirmation. */
export const stepAction = (step: string): `step_${string}` => `step_${step}`;
export const STEP_CONFIRMED_ACTION = 'step_confirmed' as const;

export interface ModeStep {
  id: number;
  ticketId: number;
  mode: StepMode;
  step: string;
  at: number;
  recordedAt: number;
  actor: string;
  side: 'staff' | 'customer';
  note: string | null;
  visibility: NoteVisibility;
  details: StepDetails;
  confirmedAt: number | null;
  confirmedBy: string | null;
  confirmNote: string | null;
}

/** What the bus carries for each step recorded or confirmed (core/events.ts). */
export interface ModeStepEvents {
  'ticket.mode_step': { ticket: Ticket; step: ModeStep; change: 'recorded' | 'confirmed' };
}

export interface StepInput {
  mode: StepMode;
  step: string;
  /** When it happened; default: now. Not in the future, not before the ticket was received. */
  at?: number;
  note?: string | null;
  visibility?: NoteVisibility;
  details?: StepDetails;
}

/** What the recorder is: staff record staff steps, the ticket's customer unit its own. */
export type StepSide = 'staff' | 'customer';

const parseDetails = (s: string): StepDetails => {
  const r = stepDetailsSchema.safeParse(JSON.parse(s));
  return r.success ? r.data : {};
};

function fromRow(r: Selectable<TicketModeStepsTable>): ModeStep {
  return {
    id: Number(r.id),
    ticketId: Number(r.ticket_id),
    mode: r.mode as StepMode,
    step: r.step,
    at: Number(r.at),
    recordedAt: Number(r.recorded_at),
    actor: r.actor,
    side: r.side,
    note: r.note,
    visibility: r.visibility,
    details: parseDetails(r.details),
    confirmedAt: r.confirmed_at === null ? null : Number(r.confirmed_at),
    confirmedBy: r.confirmed_by,
    confirmNote: r.confirm_note,
  };
}

/** A step as a customer may see it: an internal note left out. */
export const stepForCustomer = (s: ModeStep): ModeStep =>
  s.visibility === 'customer' ? s : { ...s, note: null, visibility: 'customer' };

/**
 * The step's details in one line for the timeline (customer-visible; a note stays with the step):
 * `field: value` joined by "; ", times as ISO strings (the console words them in its language).
 */
export function stepSummary(d: StepDetails): string | null {
  const parts = (Object.keys(stepDetailsSchema.shape) as DetailField[])
    .filter((k) => d[k] !== undefined)
    .map((k) => `${k}: ${k === 'plannedAt' || k === 'eta' ? new Date(d[k] as number).toISOString() : String(d[k])}`);
  return parts.length ? parts.join('; ') : null;
}

/**
 * Times typed in the console have minutes, not seconds: a step typed as done at 13:20 is not
 * before one recorded at 13:20:45 (nor before a ticket received then).
 */
const wholeMinute = (ms: number) => ms - (ms % 60_000);

/** A little leeway for clocks: a step's time may be this far after the server's now. */
const FUTURE_LEEWAY_MS = 60_000;

export function createModeSteps(deps: {
  db: RecordsDb;
  bus: EventBus<PlatformEvents>;
  log: Logger;
  tickets: Pick<TicketService, 'getIn' | 'note' | 'setEta'>;
  now?: () => number;
}) {
  const { db, bus, tickets } = deps;
  const now = deps.now ?? Date.now;

  async function stepsOf(h: RecordsDb, ticketId: number): Promise<ModeStep[]> {
    const rows = await h
      .selectFrom('ticket_mode_steps')
      .selectAll()
      .where('ticket_id', '=', ticketId)
      .orderBy('id')
      .execute();
    return rows.map(fromRow);
  }

  function assertOpen(t: Ticket): void {
    if (!isOpenStatus(t.status))
      throw new PlatformError(
        'TICKET_CLOSED',
        `ticket ${t.number} is ${t.status.replace(/_/g, ' ')}: its service steps can no longer change`,
      );
  }

  const announce = (ticket: Ticket, step: ModeStep, change: 'recorded' | 'confirmed') =>
    bus.emit('ticket.mode_step', { ticket, step, change });

  return {
    /** The ticket's steps of every mode, in the order recorded. */
    list: (ticketId: number): Promise<ModeStep[]> => stepsOf(db, ticketId),

    /**
     * Records one step of the ticket's current mode. Refused: TICKET_CLOSED, MODE_NOT_CURRENT,
     * STEP_NOT_IN_MODE, FORBIDDEN (the other side's step), STEP_ALREADY_RECORDED, STEP_OUT_OF_ORDER
     * (an earlier step missing, or a time before the previous step's), STEP_DETAILS_REQUIRED.
     */
    async record(ticketId: number, input: StepInput, actor: string, side: StepSide): Promise<ModeStep> {
      const definition = MODE_STEPS[input.mode]?.find((d) => d.step === input.step);
      if (!definition)
        throw new PlatformError(
          'STEP_NOT_IN_MODE',
          `${input.step} is not a step of ${input.mode}; its steps are ${(MODE_STEPS[input.mode] ?? []).map((d) => d.step).join(', ')}`,
        );
      const recordedAt = now();
      const at = input.at ?? recordedAt;
      if (at > recordedAt + FUTURE_LEEWAY_MS)
        throw new PlatformError('INVALID_ARGUMENT', 'a step cannot be recorded as done in the future');
      const details = input.details ?? {};
      for (const k of Object.keys(details) as DetailField[])
        if (!definition.fields.includes(k))
          throw new PlatformError(
            'INVALID_ARGUMENT',
            `${input.step} takes ${definition.fields.join(', ') || 'no details'}, not ${k}`,
          );
      const missing = definition.required.filter((k) => details[k] === undefined);
      if (missing.length) throw new PlatformError('STEP_DETAILS_REQUIRED', `${input.step} needs ${missing.join(', ')}`);
      if (definition.side !== side)
        throw new PlatformError(
          'FORBIDDEN',
          definition.side === 'customer'
            ? `${input.step} is confirmed by the customer side`
            : `${input.step} is recorded by the service staff`,
        );

      let done!: { ticket: Ticket; step: ModeStep; announce: () => Promise<void> };
      await inTransaction(db, async (tx) => {
        const t = await tickets.getIn(tx, ticketId);
        assertOpen(t);
        if (t.serviceMode !== input.mode)
          throw new PlatformError(
            'MODE_NOT_CURRENT',
            `ticket ${t.number} is in ${t.serviceMode ?? 'no service mode'}, not ${input.mode}: set the service mode first`,
          );
        if (at < wholeMinute(t.receivedAt))
          throw new PlatformError('INVALID_ARGUMENT', 'a step cannot be done before the ticket was received');
        const mine = (await stepsOf(tx, ticketId)).filter((s) => s.mode === input.mode);
        if (mine.some((s) => s.step === input.step))
          throw new PlatformError('STEP_ALREADY_RECORDED', `${input.step} is already recorded on ticket ${t.number}`);
        const order = MODE_STEPS[input.mode];
        const index = order.indexOf(definition);
        const skipped = order.slice(0, index).find((d) => !d.optional && !mine.some((s) => s.step === d.step));
        if (skipped)
          throw new PlatformError(
            'STEP_OUT_OF_ORDER',
            `${input.step} comes after ${skipped.step}, which is not recorded yet`,
            { details: { missing: skipped.step } },
          );
        const later = mine.find((s) => order.findIndex((d) => d.step === s.step) > index);
        if (later)
          throw new PlatformError('STEP_OUT_OF_ORDER', `${input.step} comes before ${later.step}, already recorded`, {
            details: { after: later.step },
          });
        const previous = mine.reduce((m, s) => Math.max(m, s.at), 0);
        if (at < wholeMinute(previous))
          throw new PlatformError(
            'STEP_OUT_OF_ORDER',
            `${input.step} cannot be done before the previous step of ${input.mode} (at ${new Date(previous).toISOString()})`,
          );
        const note = input.note?.trim() ? input.note.trim() : null;
        const visibility: NoteVisibility = side === 'customer' ? 'customer' : (input.visibility ?? 'internal');
        const inserted = await tx
          .insertInto('ticket_mode_steps')
          .values({
            ticket_id: ticketId,
            mode: input.mode,
            step: input.step,
            at,
            recorded_at: recordedAt,
            actor,
            side,
            note,
            visibility,
            details: JSON.stringify(details),
            confirmed_at: null,
            confirmed_by: null,
            confirm_note: null,
          })
          .returning('id')
          .executeTakeFirstOrThrow();
        const noted = await tickets.note(tx, ticketId, {
          actor,
          action: stepAction(input.step),
          note: stepSummary(details),
          visibility: 'customer',
        });
        const step = fromRow(
          await tx
            .selectFrom('ticket_mode_steps')
            .selectAll()
            .where('id', '=', Number(inserted.id))
            .executeTakeFirstOrThrow(),
        );
        done = { ticket: noted.ticket, step, announce: noted.announce };
      });
      await done.announce();
      announce(done.ticket, done.step, 'recorded');
      // the departure's ETA is the ticket's ETA: the customer sees it and is told (ticket service)
      if (done.step.step === 'departed' && details.eta !== undefined && details.eta >= recordedAt - 3_600_000)
        await tickets
          .setEta(ticketId, details.eta, 'departed', actor)
          .catch((err: unknown) => deps.log.warn({ err, ticketId }, 'the departure’s ETA was not set on the ticket'));
      return done.step;
    },

    /**
     * The customer side confirms a step the plan has both sides confirm (the joint assessment, the
     * handover). Refused: MODE_STEP_NOT_FOUND, STEP_NOT_CONFIRMABLE, STEP_ALREADY_CONFIRMED, TICKET_CLOSED.
     */
    async confirm(ticketId: number, stepId: number, actor: string, note: string | null): Promise<ModeStep> {
      let done!: { ticket: Ticket; step: ModeStep; announce: () => Promise<void> };
      await inTransaction(db, async (tx) => {
        const row = await tx
          .selectFrom('ticket_mode_steps')
          .selectAll()
          .where('id', '=', stepId)
          .where('ticket_id', '=', ticketId)
          .executeTakeFirst();
        if (!row) throw new PlatformError('MODE_STEP_NOT_FOUND', `no step ${stepId} on this ticket`);
        const t = await tickets.getIn(tx, ticketId);
        assertOpen(t);
        const definition = MODE_STEPS[row.mode as StepMode]?.find((d) => d.step === row.step);
        if (!definition?.confirm)
          throw new PlatformError('STEP_NOT_CONFIRMABLE', `${row.step} is not confirmed by the customer side`);
        if (row.confirmed_at !== null)
          throw new PlatformError('STEP_ALREADY_CONFIRMED', `${row.step} is already confirmed`);
        const at = now();
        const text = note?.trim() ? note.trim() : null;
        await tx
          .updateTable('ticket_mode_steps')
          .set({ confirmed_at: at, confirmed_by: actor, confirm_note: text })
          .where('id', '=', stepId)
          .execute();
        const noted = await tickets.note(tx, ticketId, {
          actor,
          action: STEP_CONFIRMED_ACTION,
          note: text ? `${row.step}: ${text}` : row.step,
          visibility: 'customer',
        });
        const step = fromRow({ ...row, confirmed_at: at, confirmed_by: actor, confirm_note: text });
        done = { ticket: noted.ticket, step, announce: noted.announce };
      });
      await done.announce();
      announce(done.ticket, done.step, 'confirmed');
      return done.step;
    },
  };
}

export type ModeSteps = ReturnType<typeof createModeSteps>;
