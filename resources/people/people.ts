import type { Generated } from 'kysely';
import { PlatformError } from '../../core/errors.ts';
import { inTransaction, type RecordsDb } from '../../records/db.ts';
import '../errors.ts';

/**
 * People (service plan §5): the dedicated service team and people seconded from other departments,
 * with their skills and qualifications (each with an expiry), department and availability; and the
 * team suggestion for a ticket: who is qualified (an unexpired qualification in the skill its fault
 * needs) and available. A person may have a console account (`accountId`) or not (seconded staff).
 */
export interface PeopleTable {
  id: string;
  name: string;
  department: Department;
  account_id: string | null;
  phone: string | null;
  available: number;
  availability_note: string | null;
  created_at: number;
  updated_at: number;
}

export interface PersonQualificationsTable {
  id: Generated<number>;
  person_id: string;
  skill: Skill;
  certificate: string | null;
  expires_at: number | null;
}

declare module '../../records/schema.ts' {
  interface RecordsSchema {
    people: PeopleTable;
    person_qualifications: PersonQualificationsTable;
  }
}

/** 技术中心 technical centre, 市场部 market department (service), 制造部 manufacturing, 供应链管理部 supply chain, 质量部 quality. */
export const DEPARTMENTS = ['technical_centre', 'market', 'manufacturing', 'supply_chain', 'quality'] as const;
export type Department = (typeof DEPARTMENTS)[number];

/** What a responder can be qualified in. */
export const SKILLS = [
  'generator_set',
  'power_electronics',
  'battery',
  'chassis',
  'electrical',
  'telematics',
  'towing_recovery',
] as const;
export type Skill = (typeof SKILLS)[number];

/**
 * The skill a fault needs, by the fault code's family (diagnostics/rules: GEN-…, BAT-…, CHG-…,
 * PWR-…, LINK-…, SENSOR-…); anything else (a ticket opened by hand without a code): electrical.
 */
export function skillFor(faultCode: string | null): Skill {
  const family = (faultCode ?? '').split('-')[0];
  switch (family) {
    case 'GEN':
      return 'generator_set';
    case 'BAT':
      return 'battery';
    case 'CHG':
    case 'PWR':
      return 'power_electronics';
    case 'LINK':
    case 'SENSOR':
      return 'telematics';
    case 'CHS':
      return 'chassis';
    default:
      return 'electrical';
  }
}

export interface Qualification {
  skill: Skill;
  certificate: string | null;
  expiresAt: number | null;
  /** Whether it is still valid now. */
  valid: boolean;
}

export interface Person {
  id: string;
  name: string;
  department: Department;
  accountId: string | null;
  phone: string | null;
  available: boolean;
  availabilityNote: string | null;
  qualifications: Qualification[];
  updatedAt: number;
}

export interface PersonInput {
  id: string;
  name: string;
  department: Department;
  accountId?: string | null;
  phone?: string | null;
  available?: boolean;
  availabilityNote?: string | null;
  qualifications?: { skill: Skill; certificate?: string | null; expiresAt?: number | null }[];
}

export interface TeamSuggestion {
  skill: Skill;
  /** Qualified and available, the dedicated service team (market department, technical centre) first. */
  suggested: Person[];
  /** Qualified but not available now (for the record, and to ask). */
  unavailable: Person[];
}

const HOME: Record<Department, number> = {
  market: 0,
  technical_centre: 1,
  quality: 2,
  manufacturing: 3,
  supply_chain: 4,
};

export function createPeople(deps: { db: RecordsDb; now: () => number }) {
  const { db, now } = deps;

  async function load(ids?: string[]): Promise<Person[]> {
    let q = db.selectFrom('people').selectAll().orderBy('id');
    if (ids) q = q.where('id', 'in', ids.length ? ids : ['\u0000']);
    const rows = await q.execute();
    const quals = rows.length
      ? await db
          .selectFrom('person_qualifications')
          .selectAll()
          .where(
            'person_id',
            'in',
            rows.map((r) => r.id),
          )
          .orderBy('id')
          .execute()
      : [];
    const at = now();
    return rows.map((r) => ({
      id: r.id,
      name: r.name,
      department: r.department,
      accountId: r.account_id,
      phone: r.phone,
      available: r.available === 1,
      availabilityNote: r.availability_note,
      qualifications: quals
        .filter((q) => q.person_id === r.id)
        .map((q) => {
          const expiresAt = q.expires_at === null ? null : Number(q.expires_at);
          return { skill: q.skill, certificate: q.certificate, expiresAt, valid: expiresAt === null || expiresAt > at };
        }),
      updatedAt: Number(r.updated_at),
    }));
  }

  async function get(id: string): Promise<Person> {
    const [p] = await load([id]);
    if (!p) throw new PlatformError('PERSON_NOT_FOUND', `person ${id} not found`);
    return p;
  }

  async function setQualifications(tx: RecordsDb, id: string, qs: NonNullable<PersonInput['qualifications']>) {
    await tx.deleteFrom('person_qualifications').where('person_id', '=', id).execute();
    if (qs.length)
      await tx
        .insertInto('person_qualifications')
        .values(
          qs.map((q) => ({
            person_id: id,
            skill: q.skill,
            certificate: q.certificate ?? null,
            expires_at: q.expiresAt ?? null,
          })),
        )
        .execute();
  }

  return {
    get,
    async list(filter: { department?: Department; skill?: Skill; available?: boolean } = {}): Promise<Person[]> {
      return (await load()).filter(
        (p) =>
          (filter.department === undefined || p.department === filter.department) &&
          (filter.available === undefined || p.available === filter.available) &&
          (filter.skill === undefined || p.qualifications.some((q) => q.skill === filter.skill && q.valid)),
      );
    },
    async add(input: PersonInput): Promise<Person> {
      return inTransaction(db, async (tx) => {
        if (await tx.selectFrom('people').select('id').where('id', '=', input.id).executeTakeFirst())
          throw new PlatformError('PERSON_EXISTS', `person ${input.id} exists`);
        const at = now();
        await tx
          .insertInto('people')
          .values({
            id: input.id,
            name: input.name,
            department: input.department,
            account_id: input.accountId ?? null,
            phone: input.phone ?? null,
            available: input.available === false ? 0 : 1,
            availability_note: input.availabilityNote ?? null,
            created_at: at,
            updated_at: at,
          })
          .execute();
        await setQualifications(tx, input.id, input.qualifications ?? []);
        return input.id;
      }).then(get);
    },
    /** Changes a person; `qualifications`, when given, replaces the whole list. */
    async update(id: string, change: Partial<Omit<PersonInput, 'id'>>): Promise<Person> {
      await get(id);
      await inTransaction(db, async (tx) => {
        await tx
          .updateTable('people')
          .set({
            ...(change.name !== undefined ? { name: change.name } : {}),
            ...(change.department !== undefined ? { department: change.department } : {}),
            ...(change.accountId !== undefined ? { account_id: change.accountId } : {}),
            ...(change.phone !== undefined ? { phone: change.phone } : {}),
            ...(change.available !== undefined ? { available: change.available ? 1 : 0 } : {}),
            ...(change.availabilityNote !== undefined ? { availability_note: change.availabilityNote } : {}),
            updated_at: now(),
          })
          .where('id', '=', id)
          .execute();
        if (change.qualifications) await setQualifications(tx, id, change.qualifications);
      });
      return get(id);
    },
    /**
     * The seam for choosing a response team: for a fault code, the skill it needs and who has an
     * unexpired qualification in it, available ones first-class. Expired qualifications never count.
     */
    async suggestTeam(faultCode: string | null, options: { skill?: Skill } = {}): Promise<TeamSuggestion> {
      const skill = options.skill ?? skillFor(faultCode);
      const qualified = (await load()).filter((p) => p.qualifications.some((q) => q.skill === skill && q.valid));
      const byHome = (a: Person, b: Person) => HOME[a.department] - HOME[b.department] || a.id.localeCompare(b.id);
      return {
        skill,
        suggested: qualified.filter((p) => p.available).sort(byHome),
        unavailable: qualified.filter((p) => !p.available).sort(byHome),
      };
    },
  };
}

export type People = ReturnType<typeof createPeople>;
