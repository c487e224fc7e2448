import type { Generated } from 'kysely';
import { PlatformError } from '../../core/errors.ts';
import { inTransaction, type RecordsDb } from '../../records/db.ts';
import '../errors.ts';

/**
 * The tools and equipment register (工具设备台账, service plan 4.6): each item with where it is, who
 * keeps it, its status and its calibration / maintenance due dates; check-out to a ticket's team and
 * back. Whether an item is due is derived from the clock (`dueState`), never stored, so it cannot go
 * stale; reminders are reminders.ts.
 */
export interface ToolsTable {
  id: Generated<number>;
  code: string;
  name: string;
  name_zh: string | null;
  kind: ToolKind;
  location: string;
  /** Who is responsible for the item when it is in store (a person or account id, free text). */
  keeper: string | null;
  status: ToolStatus;
  calibration_due_at: number | null;
  maintenance_due_at: number | null;
  notes: string | null;
  created_at: number;
  updated_at: number;
}

export interface ToolCheckoutsTable {
  id: Generated<number>;
  tool_id: number;
  ticket_id: number | null;
  /** JSON: string[] — the people (ids or names) the item went out to. */
  team: string;
  out_at: number;
  out_by: string;
  due_back_at: number | null;
  returned_at: number | null;
  returned_by: string | null;
  return_note: string | null;
}

declare module '../../records/schema.ts' {
  interface RecordsSchema {
    tools: ToolsTable;
    tool_checkouts: ToolCheckoutsTable;
  }
}

export const TOOL_KINDS = ['instrument', 'tool', 'equipment', 'vehicle'] as const;
export type ToolKind = (typeof TOOL_KINDS)[number];
/** `checked_out` is set by check-out and return only. */
export const TOOL_STATUSES = ['available', 'checked_out', 'maintenance', 'retired'] as const;
export type ToolStatus = (typeof TOOL_STATUSES)[number];
/** ok; due_soon: within the lead time; overdue: the date has passed; none: no date kept. */
export const DUE_STATES = ['none', 'ok', 'due_soon', 'overdue'] as const;
export type DueState = (typeof DUE_STATES)[number];

/** How long before a due date an item counts as due soon (and its reminder goes out): 14 days. */
export const DUE_SOON_MS = 14 * 86_400_000;

export function dueState(dueAt: number | null, now: number, soonMs = DUE_SOON_MS): DueState {
  if (dueAt === null) return 'none';
  if (dueAt <= now) return 'overdue';
  return dueAt - now <= soonMs ? 'due_soon' : 'ok';
}

export interface ToolCheckout {
  id: number;
  toolId: number;
  ticketId: number | null;
  team: string[];
  outAt: number;
  outBy: string;
  dueBackAt: number | null;
  returnedAt: number | null;
  returnedBy: string | null;
  returnNote: string | null;
}

export interface Tool {
  id: number;
  code: string;
  name: string;
  nameZh: string | null;
  kind: ToolKind;
  location: string;
  keeper: string | null;
  status: ToolStatus;
  calibrationDueAt: number | null;
  maintenanceDueAt: number | null;
  calibration: DueState;
  maintenance: DueState;
  notes: string | null;
  /** The open check-out (status checked_out), with the ticket and team it went to. */
  checkout: ToolCheckout | null;
  updatedAt: number;
}

export interface ToolInput {
  code: string;
  name: string;
  nameZh?: string | null;
  kind: ToolKind;
  location: string;
  keeper?: string | null;
  calibrationDueAt?: number | null;
  maintenanceDueAt?: number | null;
  notes?: string | null;
}

export type ToolChange = Partial<Omit<ToolInput, 'code'>> & { status?: Exclude<ToolStatus, 'checked_out'> };

export interface CheckoutInput {
  ticketId: number | null;
  team: string[];
  dueBackAt?: number | null;
  by: string;
}

type ToolRow = Omit<ToolsTable, 'id'> & { id: number };
type CheckoutRow = Omit<ToolCheckoutsTable, 'id'> & { id: number };

const checkoutOf = (r: CheckoutRow): ToolCheckout => ({
  id: Number(r.id),
  toolId: Number(r.tool_id),
  ticketId: r.ticket_id === null ? null : Number(r.ticket_id),
  team: JSON.parse(r.team) as string[],
  outAt: Number(r.out_at),
  outBy: r.out_by,
  dueBackAt: r.due_back_at === null ? null : Number(r.due_back_at),
  returnedAt: r.returned_at === null ? null : Number(r.returned_at),
  returnedBy: r.returned_by,
  returnNote: r.return_note,
});

const num = (v: number | null) => (v === null ? null : Number(v));

export function createTools(deps: { db: RecordsDb; now: () => number }, options: { soonMs?: number } = {}) {
  const { db, now } = deps;
  const soonMs = options.soonMs ?? DUE_SOON_MS;

  function toolOf(r: ToolRow, open: CheckoutRow | undefined, at: number): Tool {
    const calibrationDueAt = num(r.calibration_due_at);
    const maintenanceDueAt = num(r.maintenance_due_at);
    return {
      id: Number(r.id),
      code: r.code,
      name: r.name,
      nameZh: r.name_zh,
      kind: r.kind,
      location: r.location,
      keeper: r.keeper,
      status: r.status,
      calibrationDueAt,
      maintenanceDueAt,
      calibration: r.status === 'retired' ? 'none' : dueState(calibrationDueAt, at, soonMs),
      maintenance: r.status === 'retired' ? 'none' : dueState(maintenanceDueAt, at, soonMs),
      notes: r.notes,
      checkout: open ? checkoutOf(open) : null,
      updatedAt: Number(r.updated_at),
    };
  }

  async function openCheckouts(tx: RecordsDb, toolIds: number[]): Promise<Map<number, CheckoutRow>> {
    if (toolIds.length === 0) return new Map();
    const rows = await tx
      .selectFrom('tool_checkouts')
      .selectAll()
      .where('tool_id', 'in', toolIds)
      .where('returned_at', 'is', null)
      .execute();
    return new Map(rows.map((r) => [Number(r.tool_id), r as CheckoutRow]));
  }

  async function get(id: number, tx: RecordsDb = db): Promise<Tool> {
    const r = await tx.selectFrom('tools').selectAll().where('id', '=', id).executeTakeFirst();
    if (!r) throw new PlatformError('TOOL_NOT_FOUND', `tool ${id} not found`);
    return toolOf(r as ToolRow, (await openCheckouts(tx, [id])).get(id), now());
  }

  return {
    get,
    /** Every item, by code; `due`: only those due soon or overdue for calibration or maintenance. */
    async list(filter: { due?: boolean; ticketId?: number } = {}): Promise<Tool[]> {
      const rows = (await db.selectFrom('tools').selectAll().orderBy('code').execute()) as ToolRow[];
      const open = await openCheckouts(
        db,
        rows.map((r) => Number(r.id)),
      );
      const at = now();
      return rows
        .map((r) => toolOf(r, open.get(Number(r.id)), at))
        .filter(
          (t) =>
            (!filter.due || [t.calibration, t.maintenance].some((s) => s === 'due_soon' || s === 'overdue')) &&
            (filter.ticketId === undefined || t.checkout?.ticketId === filter.ticketId),
        );
    },
    async add(input: ToolInput): Promise<Tool> {
      const at = now();
      const exists = await db.selectFrom('tools').select('id').where('code', '=', input.code).executeTakeFirst();
      if (exists) throw new PlatformError('TOOL_EXISTS', `a tool with code ${input.code} exists`);
      const row = await db
        .insertInto('tools')
        .values({
          code: input.code,
          name: input.name,
          name_zh: input.nameZh ?? null,
          kind: input.kind,
          location: input.location,
          keeper: input.keeper ?? null,
          status: 'available',
          calibration_due_at: input.calibrationDueAt ?? null,
          maintenance_due_at: input.maintenanceDueAt ?? null,
          notes: input.notes ?? null,
          created_at: at,
          updated_at: at,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      return get(Number(row.id));
    },
    /** Changes the item's facts; a calibration or maintenance done is a new due date here. */
    async update(id: number, change: ToolChange): Promise<Tool> {
      return inTransaction(db, async (tx) => {
        const before = await get(id, tx);
        if (change.status && before.status === 'checked_out')
          throw new PlatformError('TOOL_NOT_AVAILABLE', `tool ${before.code} is checked out: return it first`);
        await tx
          .updateTable('tools')
          .set({
            ...(change.name !== undefined ? { name: change.name } : {}),
            ...(change.nameZh !== undefined ? { name_zh: change.nameZh } : {}),
            ...(change.kind !== undefined ? { kind: change.kind } : {}),
            ...(change.location !== undefined ? { location: change.location } : {}),
            ...(change.keeper !== undefined ? { keeper: change.keeper } : {}),
            ...(change.status !== undefined ? { status: change.status } : {}),
            ...(change.calibrationDueAt !== undefined ? { calibration_due_at: change.calibrationDueAt } : {}),
            ...(change.maintenanceDueAt !== undefined ? { maintenance_due_at: change.maintenanceDueAt } : {}),
            ...(change.notes !== undefined ? { notes: change.notes } : {}),
            updated_at: now(),
          })
          .where('id', '=', id)
          .execute();
        return get(id, tx);
      });
    },
    /** Out to a ticket's team (the support plan's tools); only an available item goes out. */
    async checkOut(id: number, input: CheckoutInput): Promise<Tool> {
      return inTransaction(db, async (tx) => {
        const at = now();
        // the status flip is the guard: two check-outs of one item at once, one wins
        const flipped = await tx
          .updateTable('tools')
          .set({ status: 'checked_out', updated_at: at })
          .where('id', '=', id)
          .where('status', '=', 'available')
          .executeTakeFirst();
        if (Number(flipped.numUpdatedRows) === 0) {
          const t = await get(id, tx);
          throw new PlatformError('TOOL_NOT_AVAILABLE', `tool ${t.code} is ${t.status}, not available`, {
            details: { status: t.status },
          });
        }
        await tx
          .insertInto('tool_checkouts')
          .values({
            tool_id: id,
            ticket_id: input.ticketId,
            team: JSON.stringify(input.team),
            out_at: at,
            out_by: input.by,
            due_back_at: input.dueBackAt ?? null,
            returned_at: null,
            returned_by: null,
            return_note: null,
          })
          .execute();
        return get(id, tx);
      });
    },
    /** Back into store (at `location` when given); a note on its condition. */
    async giveBack(id: number, input: { by: string; note?: string | null; location?: string }): Promise<Tool> {
      return inTransaction(db, async (tx) => {
        const before = await get(id, tx);
        if (before.status !== 'checked_out' || !before.checkout)
          throw new PlatformError('TOOL_NOT_AVAILABLE', `tool ${before.code} is not checked out`);
        const at = now();
        await tx
          .updateTable('tool_checkouts')
          .set({ returned_at: at, returned_by: input.by, return_note: input.note ?? null })
          .where('id', '=', before.checkout.id)
          .execute();
        await tx
          .updateTable('tools')
          .set({ status: 'available', updated_at: at, ...(input.location ? { location: input.location } : {}) })
          .where('id', '=', id)
          .execute();
        return get(id, tx);
      });
    },
    /** An item's check-outs, newest first. */
    async history(id: number): Promise<ToolCheckout[]> {
      await get(id);
      const rows = await db
        .selectFrom('tool_checkouts')
        .selectAll()
        .where('tool_id', '=', id)
        .orderBy('id', 'desc')
        .limit(100)
        .execute();
      return rows.map((r) => checkoutOf(r as CheckoutRow));
    },
  };
}

export type Tools = ReturnType<typeof createTools>;
