import type { Generated } from 'kysely';
import { PlatformError } from '../../core/errors.ts';
import { inTransaction, type RecordsDb } from '../../records/db.ts';
import '../errors.ts';

/**
 * Partners (service plan 4.7): outside repair shops (修理厂) and towing companies (拖车公司),
 * chosen by reputation and technical strength, with the regions they cover, what they can do,
 * contacts and contract terms; dispatched onto a ticket with an ETA, their arrival and outcome
 * recorded; performance (on time, rework) computed from the dispatches.
 */
export interface PartnersTable {
  id: Generated<number>;
  kind: PartnerKind;
  name: string;
  name_zh: string | null;
  /** JSON: string[]. */
  regions: string;
  /** JSON: string[]. */
  capabilities: string;
  /** 1–5. */
  reputation: number;
  /** 1–5. */
  technical_strength: number;
  /** JSON: PartnerContact[]. */
  contacts: string;
  contract_terms: string | null;
  contract_until: number | null;
  active: number;
  created_at: number;
  updated_at: number;
}

export interface PartnerDispatchesTable {
  id: Generated<number>;
  partner_id: number;
  ticket_id: number;
  task: string;
  dispatched_at: number;
  dispatched_by: string;
  eta: number;
  arrived_at: number | null;
  outcome: DispatchOutcome;
  /** 1: the work had to be done again (the partner's own rework). */
  rework: number;
  note: string | null;
  closed_at: number | null;
  closed_by: string | null;
}

declare module '../../records/schema.ts' {
  interface RecordsSchema {
    partners: PartnersTable;
    partner_dispatches: PartnerDispatchesTable;
  }
}

export const PARTNER_KINDS = ['repair_shop', 'towing'] as const;
export type PartnerKind = (typeof PARTNER_KINDS)[number];
/** pending: on the way or at work; resolved / not_resolved: done, with or without fixing it; cancelled. */
export const DISPATCH_OUTCOMES = ['pending', 'resolved', 'not_resolved', 'cancelled'] as const;
export type DispatchOutcome = (typeof DISPATCH_OUTCOMES)[number];

export interface PartnerContact {
  name: string;
  phone: string;
  role?: string | undefined;
}

export interface PartnerPerformance {
  /** Dispatches with an arrival recorded. */
  arrived: number;
  /** Of those, arrived by the ETA given at dispatch. */
  onTime: number;
  onTimePct: number | null;
  /** Dispatches closed resolved or not_resolved. */
  completed: number;
  /** Of those, marked rework. */
  rework: number;
  reworkPct: number | null;
  /** Mean minutes late over the late arrivals. */
  meanLateMin: number | null;
}

export interface Partner {
  id: number;
  kind: PartnerKind;
  name: string;
  nameZh: string | null;
  regions: string[];
  capabilities: string[];
  reputation: number;
  technicalStrength: number;
  contacts: PartnerContact[];
  contractTerms: string | null;
  contractUntil: number | null;
  active: boolean;
  performance: PartnerPerformance;
  updatedAt: number;
}

export interface PartnerInput {
  kind: PartnerKind;
  name: string;
  nameZh?: string | null;
  regions: string[];
  capabilities: string[];
  reputation: number;
  technicalStrength: number;
  contacts: PartnerContact[];
  contractTerms?: string | null;
  contractUntil?: number | null;
  active?: boolean;
}

export interface PartnerDispatch {
  id: number;
  partnerId: number;
  ticketId: number;
  task: string;
  dispatchedAt: number;
  dispatchedBy: string;
  eta: number;
  arrivedAt: number | null;
  outcome: DispatchOutcome;
  rework: boolean;
  note: string | null;
  closedAt: number | null;
  /** arrivedAt ≤ eta; null before the arrival. */
  onTime: boolean | null;
}

type PartnerRow = Omit<PartnersTable, 'id'> & { id: number };
type DispatchRow = Omit<PartnerDispatchesTable, 'id'> & { id: number };

const dispatchOf = (r: DispatchRow): PartnerDispatch => {
  const arrivedAt = r.arrived_at === null ? null : Number(r.arrived_at);
  return {
    id: Number(r.id),
    partnerId: Number(r.partner_id),
    ticketId: Number(r.ticket_id),
    task: r.task,
    dispatchedAt: Number(r.dispatched_at),
    dispatchedBy: r.dispatched_by,
    eta: Number(r.eta),
    arrivedAt,
    outcome: r.outcome,
    rework: r.rework === 1,
    note: r.note,
    closedAt: r.closed_at === null ? null : Number(r.closed_at),
    onTime: arrivedAt === null ? null : arrivedAt <= Number(r.eta),
  };
};

const pct = (n: number, of: number) => (of === 0 ? null : Math.round((n / of) * 1000) / 10);

/** On time and rework over a partner's dispatches. */
export function performanceOf(dispatches: readonly PartnerDispatch[]): PartnerPerformance {
  const arrived = dispatches.filter((d) => d.arrivedAt !== null);
  const late = arrived.filter((d) => d.onTime === false);
  const completed = dispatches.filter((d) => d.outcome === 'resolved' || d.outcome === 'not_resolved');
  const rework = completed.filter((d) => d.rework).length;
  const onTime = arrived.length - late.length;
  return {
    arrived: arrived.length,
    onTime,
    onTimePct: pct(onTime, arrived.length),
    completed: completed.length,
    rework,
    reworkPct: pct(rework, completed.length),
    meanLateMin: late.length
      ? Math.round(late.reduce((s, d) => s + (d.arrivedAt! - d.eta), 0) / late.length / 60_000)
      : null,
  };
}

export function createPartners(deps: { db: RecordsDb; now: () => number }) {
  const { db, now } = deps;

  async function dispatchesOf(partnerIds: number[]): Promise<Map<number, PartnerDispatch[]>> {
    const out = new Map<number, PartnerDispatch[]>();
    if (partnerIds.length === 0) return out;
    const rows = await db.selectFrom('partner_dispatches').selectAll().where('partner_id', 'in', partnerIds).execute();
    for (const r of rows) {
      const d = dispatchOf(r as DispatchRow);
      out.set(d.partnerId, [...(out.get(d.partnerId) ?? []), d]);
    }
    return out;
  }

  const partnerOf = (r: PartnerRow, dispatches: PartnerDispatch[]): Partner => ({
    id: Number(r.id),
    kind: r.kind,
    name: r.name,
    nameZh: r.name_zh,
    regions: JSON.parse(r.regions) as string[],
    capabilities: JSON.parse(r.capabilities) as string[],
    reputation: r.reputation,
    technicalStrength: r.technical_strength,
    contacts: JSON.parse(r.contacts) as PartnerContact[],
    contractTerms: r.contract_terms,
    contractUntil: r.contract_until === null ? null : Number(r.contract_until),
    active: r.active === 1,
    performance: performanceOf(dispatches),
    updatedAt: Number(r.updated_at),
  });

  async function get(id: number): Promise<Partner> {
    const r = await db.selectFrom('partners').selectAll().where('id', '=', id).executeTakeFirst();
    if (!r) throw new PlatformError('PARTNER_NOT_FOUND', `partner ${id} not found`);
    return partnerOf(r as PartnerRow, (await dispatchesOf([id])).get(id) ?? []);
  }

  async function getDispatch(id: number, tx: RecordsDb = db): Promise<PartnerDispatch> {
    const r = await tx.selectFrom('partner_dispatches').selectAll().where('id', '=', id).executeTakeFirst();
    if (!r) throw new PlatformError('PARTNER_DISPATCH_NOT_FOUND', `partner dispatch ${id} not found`);
    return dispatchOf(r as DispatchRow);
  }

  const columns = (p: Partial<PartnerInput>) => ({
    ...(p.kind !== undefined ? { kind: p.kind } : {}),
    ...(p.name !== undefined ? { name: p.name } : {}),
    ...(p.nameZh !== undefined ? { name_zh: p.nameZh } : {}),
    ...(p.regions !== undefined ? { regions: JSON.stringify(p.regions) } : {}),
    ...(p.capabilities !== undefined ? { capabilities: JSON.stringify(p.capabilities) } : {}),
    ...(p.reputation !== undefined ? { reputation: p.reputation } : {}),
    ...(p.technicalStrength !== undefined ? { technical_strength: p.technicalStrength } : {}),
    ...(p.contacts !== undefined ? { contacts: JSON.stringify(p.contacts) } : {}),
    ...(p.contractTerms !== undefined ? { contract_terms: p.contractTerms } : {}),
    ...(p.contractUntil !== undefined ? { contract_until: p.contractUntil } : {}),
    ...(p.active !== undefined ? { active: p.active ? 1 : 0 } : {}),
  });

  return {
    get,
    getDispatch,
    /**
     * Partners, best first (reputation, then technical strength); `region` / `kind` / `capability`
     * narrow the list to those that cover, are, or can.
     */
    async list(filter: { kind?: PartnerKind; region?: string; capability?: string } = {}): Promise<Partner[]> {
      let q = db.selectFrom('partners').selectAll();
      if (filter.kind) q = q.where('kind', '=', filter.kind);
      const rows = (await q.orderBy('id').execute()) as PartnerRow[];
      const dispatches = await dispatchesOf(rows.map((r) => Number(r.id)));
      return rows
        .map((r) => partnerOf(r, dispatches.get(Number(r.id)) ?? []))
        .filter(
          (p) =>
            (!filter.region || p.regions.some((x) => x.toLowerCase() === filter.region!.toLowerCase())) &&
            (!filter.capability || p.capabilities.includes(filter.capability)),
        )
        .sort(
          (a, b) =>
            Number(b.active) - Number(a.active) ||
            b.reputation - a.reputation ||
            b.technicalStrength - a.technicalStrength ||
            a.id - b.id,
        );
    },
    async add(input: PartnerInput): Promise<Partner> {
      const at = now();
      const row = await db
        .insertInto('partners')
        .values({
          kind: input.kind,
          name: input.name,
          name_zh: input.nameZh ?? null,
          regions: JSON.stringify(input.regions),
          capabilities: JSON.stringify(input.capabilities),
          reputation: input.reputation,
          technical_strength: input.technicalStrength,
          contacts: JSON.stringify(input.contacts),
          contract_terms: input.contractTerms ?? null,
          contract_until: input.contractUntil ?? null,
          active: input.active === false ? 0 : 1,
          created_at: at,
          updated_at: at,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      return get(Number(row.id));
    },
    async update(id: number, change: Partial<PartnerInput>): Promise<Partner> {
      await get(id);
      await db
        .updateTable('partners')
        .set({ ...columns(change), updated_at: now() })
        .where('id', '=', id)
        .execute();
      return get(id);
    },
    /** A partner sent onto a ticket with what to do and when it will be there. */
    async dispatch(input: {
      partnerId: number;
      ticketId: number;
      task: string;
      eta: number;
      by: string;
    }): Promise<PartnerDispatch> {
      const p = await get(input.partnerId);
      if (!p.active) throw new PlatformError('PARTNER_DISPATCH_INVALID', `partner ${p.id} is inactive`);
      const row = await db
        .insertInto('partner_dispatches')
        .values({
          partner_id: input.partnerId,
          ticket_id: input.ticketId,
          task: input.task,
          dispatched_at: now(),
          dispatched_by: input.by,
          eta: input.eta,
          arrived_at: null,
          outcome: 'pending',
          rework: 0,
          note: null,
          closed_at: null,
          closed_by: null,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      return getDispatch(Number(row.id));
    },
    /**
     * What happened: the arrival (when known), the outcome, rework. The ETA stays the one given at
     * dispatch (on time is measured against it). Once closed (an outcome other than pending) it stays closed.
     */
    async record(
      id: number,
      input: {
        arrivedAt?: number | null;
        outcome?: DispatchOutcome;
        rework?: boolean;
        note?: string | null;
        by: string;
      },
    ): Promise<PartnerDispatch> {
      return inTransaction(db, async (tx) => {
        const before = await getDispatch(id, tx);
        if (before.outcome !== 'pending')
          throw new PlatformError('PARTNER_DISPATCH_INVALID', `dispatch ${id} is closed (${before.outcome})`);
        const closing = input.outcome !== undefined && input.outcome !== 'pending';
        await tx
          .updateTable('partner_dispatches')
          .set({
            ...(input.arrivedAt !== undefined ? { arrived_at: input.arrivedAt } : {}),
            ...(input.outcome !== undefined ? { outcome: input.outcome } : {}),
            ...(input.rework !== undefined ? { rework: input.rework ? 1 : 0 } : {}),
            ...(input.note !== undefined ? { note: input.note } : {}),
            ...(closing ? { closed_at: now(), closed_by: input.by } : {}),
          })
          .where('id', '=', id)
          .execute();
        return getDispatch(id, tx);
      });
    },
    async dispatches(filter: { ticketId?: number; partnerId?: number } = {}): Promise<PartnerDispatch[]> {
      let q = db.selectFrom('partner_dispatches').selectAll().orderBy('dispatched_at', 'desc').orderBy('id', 'desc');
      if (filter.ticketId !== undefined) q = q.where('ticket_id', '=', filter.ticketId);
      if (filter.partnerId !== undefined) q = q.where('partner_id', '=', filter.partnerId);
      return (await q.limit(200).execute()).map((r) => dispatchOf(r as DispatchRow));
    },
  };
}

export type Partners = ReturnType<typeof createPartners>;
