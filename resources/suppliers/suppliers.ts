import type { Generated } from 'kysely';
import { PlatformError } from '../../core/errors.ts';
import type { RecordsDb } from '../../records/db.ts';
import '../errors.ts';

/**
 * Suppliers of bought-in equipment and parts (供应商管理): screened, certified, audited and
 * evaluated. The id is text (e.g. `SUP-WEICHAI`): the stock ledger's parts and order contracts
 * (resources/stock/) name their supplier by it.
 */
export interface SuppliersTable {
  id: string;
  name: string;
  name_zh: string | null;
  /** Free text: person, phone, email. */
  contact: string;
  /** The certification held (e.g. ISO 9001, IATF 16949). */
  certification: string | null;
  certified_until: number | null;
  last_audit_at: number | null;
  next_audit_at: number | null;
  status: SupplierStatus;
  created_at: number;
  updated_at: number;
}

export interface SupplierEvaluationsTable {
  id: Generated<number>;
  supplier_id: string;
  at: number;
  by: string;
  /** 1–5 each. */
  quality: number;
  delivery: number;
  service: number;
  note: string | null;
}

declare module '../../records/schema.ts' {
  interface RecordsSchema {
    suppliers: SuppliersTable;
    supplier_evaluations: SupplierEvaluationsTable;
  }
}

/** candidate: being screened; approved: may be bought from; suspended: not for now (quality, audit). */
export const SUPPLIER_STATUSES = ['candidate', 'approved', 'suspended'] as const;
export type SupplierStatus = (typeof SUPPLIER_STATUSES)[number];

export interface SupplierEvaluation {
  id: number;
  at: number;
  by: string;
  quality: number;
  delivery: number;
  service: number;
  note: string | null;
}

export interface Supplier {
  id: string;
  name: string;
  nameZh: string | null;
  contact: string;
  certification: string | null;
  certifiedUntil: number | null;
  lastAuditAt: number | null;
  nextAuditAt: number | null;
  status: SupplierStatus;
  /** The certification has lapsed (certifiedUntil passed). */
  certificationExpired: boolean;
  /** The next audit date has passed. */
  auditOverdue: boolean;
  /** The latest evaluation (mean of its three scores), null before the first. */
  lastScore: number | null;
  updatedAt: number;
}

export interface SupplierInput {
  id: string;
  name: string;
  nameZh?: string | null;
  contact: string;
  certification?: string | null;
  certifiedUntil?: number | null;
  lastAuditAt?: number | null;
  nextAuditAt?: number | null;
  status?: SupplierStatus;
}

export interface EvaluationInput {
  by: string;
  quality: number;
  delivery: number;
  service: number;
  note?: string | null;
}

const num = (v: number | null) => (v === null ? null : Number(v));
const evaluationOf = (r: Omit<SupplierEvaluationsTable, 'id'> & { id: number }): SupplierEvaluation => ({
  id: Number(r.id),
  at: Number(r.at),
  by: r.by,
  quality: r.quality,
  delivery: r.delivery,
  service: r.service,
  note: r.note,
});

export function createSuppliers(deps: { db: RecordsDb; now: () => number }) {
  const { db, now } = deps;

  async function lastScores(ids: string[]): Promise<Map<string, number>> {
    if (ids.length === 0) return new Map();
    const rows = await db
      .selectFrom('supplier_evaluations')
      .selectAll()
      .where('supplier_id', 'in', ids)
      .orderBy('at')
      .orderBy('id')
      .execute();
    // the last row per supplier wins
    return new Map(rows.map((r) => [r.supplier_id, Math.round(((r.quality + r.delivery + r.service) / 3) * 10) / 10]));
  }

  function supplierOf(r: SuppliersTable, score: number | undefined, at: number): Supplier {
    const certifiedUntil = num(r.certified_until);
    const nextAuditAt = num(r.next_audit_at);
    return {
      id: r.id,
      name: r.name,
      nameZh: r.name_zh,
      contact: r.contact,
      certification: r.certification,
      certifiedUntil,
      lastAuditAt: num(r.last_audit_at),
      nextAuditAt,
      status: r.status,
      certificationExpired: certifiedUntil !== null && certifiedUntil <= at,
      auditOverdue: nextAuditAt !== null && nextAuditAt <= at,
      lastScore: score ?? null,
      updatedAt: Number(r.updated_at),
    };
  }

  async function get(id: string): Promise<Supplier> {
    const r = await db.selectFrom('suppliers').selectAll().where('id', '=', id).executeTakeFirst();
    if (!r) throw new PlatformError('SUPPLIER_NOT_FOUND', `supplier ${id} not found`);
    return supplierOf(r, (await lastScores([id])).get(id), now());
  }

  return {
    get,
    async list(): Promise<Supplier[]> {
      const rows = await db.selectFrom('suppliers').selectAll().orderBy('id').execute();
      const scores = await lastScores(rows.map((r) => r.id));
      const at = now();
      return rows.map((r) => supplierOf(r, scores.get(r.id), at));
    },
    async add(input: SupplierInput): Promise<Supplier> {
      if (await db.selectFrom('suppliers').select('id').where('id', '=', input.id).executeTakeFirst())
        throw new PlatformError('SUPPLIER_EXISTS', `supplier ${input.id} exists`);
      const at = now();
      await db
        .insertInto('suppliers')
        .values({
          id: input.id,
          name: input.name,
          name_zh: input.nameZh ?? null,
          contact: input.contact,
          certification: input.certification ?? null,
          certified_until: input.certifiedUntil ?? null,
          last_audit_at: input.lastAuditAt ?? null,
          next_audit_at: input.nextAuditAt ?? null,
          status: input.status ?? 'candidate',
          created_at: at,
          updated_at: at,
        })
        .execute();
      return get(input.id);
    },
    async update(id: string, change: Partial<Omit<SupplierInput, 'id'>>): Promise<Supplier> {
      await get(id);
      await db
        .updateTable('suppliers')
        .set({
          ...(change.name !== undefined ? { name: change.name } : {}),
          ...(change.nameZh !== undefined ? { name_zh: change.nameZh } : {}),
          ...(change.contact !== undefined ? { contact: change.contact } : {}),
          ...(change.certification !== undefined ? { certification: change.certification } : {}),
          ...(change.certifiedUntil !== undefined ? { certified_until: change.certifiedUntil } : {}),
          ...(change.lastAuditAt !== undefined ? { last_audit_at: change.lastAuditAt } : {}),
          ...(change.nextAuditAt !== undefined ? { next_audit_at: change.nextAuditAt } : {}),
          ...(change.status !== undefined ? { status: change.status } : {}),
          updated_at: now(),
        })
        .where('id', '=', id)
        .execute();
      return get(id);
    },
    async evaluate(id: string, input: EvaluationInput): Promise<SupplierEvaluation> {
      await get(id);
      const row = await db
        .insertInto('supplier_evaluations')
        .values({
          supplier_id: id,
          at: now(),
          by: input.by,
          quality: input.quality,
          delivery: input.delivery,
          service: input.service,
          note: input.note ?? null,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return evaluationOf(row as Omit<SupplierEvaluationsTable, 'id'> & { id: number });
    },
    async evaluations(id: string): Promise<SupplierEvaluation[]> {
      await get(id);
      const rows = await db
        .selectFrom('supplier_evaluations')
        .selectAll()
        .where('supplier_id', '=', id)
        .orderBy('at', 'desc')
        .orderBy('id', 'desc')
        .limit(100)
        .execute();
      return rows.map((r) => evaluationOf(r as Omit<SupplierEvaluationsTable, 'id'> & { id: number }));
    },
  };
}

export type Suppliers = ReturnType<typeof createSuppliers>;
