import { inTransaction, insertInChunks, type RecordsDb } from '../../records/db.ts';
import { sql, type Insertable } from 'kysely';
import type { TicketsTable } from '../../records/schema.ts';
import type { TicketOutcomesTable } from '../../service/records.ts';

/** A small deterministic PRNG (mulberry32): the same data set on every run. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const MIN = 60_000;
const DAY = 86_400_000;
const MODELS = ['XJ-24', 'XJ-32', 'XJ-48', 'PW-60', 'PW-90', 'MC-120'];
const FAULTS = [
  'GEN-START-FAIL',
  'MAINS-LOST',
  'BATT-LOW',
  'BATT-OVERTEMP',
  'INV-FAULT',
  'INV-OVERLOAD',
  'CHG-FAULT',
  'FUEL-LOW',
  'COOL-FAIL',
  'ATS-FAIL',
  'BMS-COMM',
  'CELL-IMBALANCE',
  'DC-BUS-UV',
  'DC-BUS-OV',
  'GEN-OVERSPEED',
  'GEN-UNDERFREQ',
  'EARTH-FAULT',
  'SMOKE',
  'DOOR-OPEN',
  'GPS-LOST',
];
const MODES = ['remote_support', 'on_site_repair', 'return_to_factory', 'emergency_replacement'] as const;

export interface SeedSettings {
  tickets: number;
  units: number;
  vehicles: number;
  /** The span of history, ending at `now`. */
  days: number;
  now: number;
}

/**
 * Historical tickets with a realistic spread: units of different sizes, six vehicle models, twenty
 * fault types (a few frequent, many rare: Zipf-like), levels 特急 35 % / 加急 65 % (the plan's two emergency levels),
 * work content mostly within 30 min, closure after hours to days, power restored for most,
 * a third resolved remotely, 2 % cancelled, the newest still open; surveys sent for 80 % of the
 * closed, 60 % of them answered, low scores with a follow-up. Rows go in as the platform writes them.
 */
export async function seedHistory(db: RecordsDb, s: SeedSettings): Promise<{ tickets: number; surveys: number }> {
  const r = random(20261204);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)]!;
  /** Zipf-like: index i with weight 1/(i+1). */
  const zipf = <T>(xs: readonly T[]) => {
    const total = xs.reduce((n, _x, i) => n + 1 / (i + 1), 0);
    let u = r() * total;
    for (let i = 0; i < xs.length; i++) if ((u -= 1 / (i + 1)) <= 0) return xs[i]!;
    return xs[xs.length - 1]!;
  };
  /** Log-normal with the given median. */
  const lognormal = (median: number, sigma: number) =>
    median * Math.exp(sigma * Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r()));

  const from = s.now - s.days * DAY;
  const units = Array.from({ length: s.units }, (_, i) => ({
    id: `U${String(i + 1).padStart(3, '0')}`,
    name: `Unit ${i + 1}`,
  }));
  const vehicles = Array.from({ length: s.vehicles }, (_, i) => ({
    id: `V${String(i + 1).padStart(5, '0')}`,
    customer: zipf(units).id,
    model: zipf(MODELS),
  }));
  await inTransaction(db, async (tx) => {
    await tx
      .insertInto('customers')
      .values(units.map((u) => ({ id: u.id, name: u.name, created_at: from })))
      .execute();
    await insertInChunks(vehicles, (chunk) =>
      tx
        .insertInto('vehicles')
        .values(
          chunk.map((v) => ({
            id: v.id,
            name: `Shelter ${v.id}`,
            model: v.model,
            customer_id: v.customer,
            profile: '{}',
            secret_hash: 'x',
            created_at: from,
            updated_at: from,
            assigned_at: from,
            delivered_at: from - Math.floor(r() * 3 * 365) * DAY,
          })),
        )
        .execute(),
    );
  });

  const seqs = new Map<string, number>();
  const tickets: (Insertable<TicketsTable> & { id: number })[] = [];
  const outcomes: Insertable<TicketOutcomesTable>[] = [];
  const surveys: { ticket: number; customer: string; vehicle: string; sentAt: number; scores: number[] | null }[] = [];
  // ids grow with time, as the platform gives them
  const times = Array.from({ length: s.tickets }, () => from + Math.floor(r() * s.days * DAY)).sort((a, b) => a - b);
  for (let id = 1; id <= s.tickets; id++) {
    const v = pick(vehicles);
    const level = r() < 0.35 ? 'extra_urgent' : 'urgent';
    const receivedAt = times[id - 1]!;
    const age = s.now - receivedAt;
    const status = r() < 0.02 ? 'cancelled' : age < 3 * DAY && r() < 0.5 ? 'in_service' : 'closed';
    const wc = receivedAt + Math.round(lognormal(14 * MIN, 0.6));
    const planDue = level === 'urgent' ? receivedAt + 30 * MIN : null;
    const planDone = planDue !== null ? wc + Math.round(lognormal(10 * MIN, 0.7)) : null;
    const seq = (seqs.get(v.customer) ?? 0) + 1;
    seqs.set(v.customer, seq);
    const mode = r() < 0.33 ? 'remote_support' : pick(MODES);
    const closedAt = receivedAt + Math.round(lognormal(6 * 3_600_000, 1));
    tickets.push({
      id,
      number: `${v.customer}-${String(seq).padStart(6, '0')}`,
      source: r() < 0.7 ? ('rule' as const) : ('hotline' as const),
      vehicle_id: v.id,
      customer_id: v.customer,
      level: level as 'extra_urgent' | 'urgent',
      status,
      title: 'fault',
      need: 'help',
      contacts: '[]',
      fault_code: zipf(FAULTS),
      incident_id: null,
      service_mode: mode,
      assignee: null,
      escalated_to: null,
      received_at: receivedAt,
      work_content_due_at: receivedAt + 30 * MIN,
      work_content_done_at: wc,
      plan_due_at: planDue,
      plan_done_at: planDone,
      breaches: '[]',
      plan_ref: null,
      snapshot: null,
      updated_at: status === 'closed' ? closedAt : receivedAt,
      is_open: (status === 'in_service' ? 1 : 0) as 0 | 1,
      queue_due_at: Number.MAX_SAFE_INTEGER,
      unit_seq: seq,
      eta: null,
      eta_note: null,
    });
    if (status === 'closed') {
      outcomes.push({
        ticket_id: id,
        closed_at: closedAt,
        restored_at: r() < 0.7 ? receivedAt + Math.round(lognormal(90 * MIN, 0.8)) : null,
        arrived_at: null,
        remote: (mode === 'remote_support' ? 1 : 0) as 0 | 1,
        next_same_fault_at: null,
      });
      if (r() < 0.8)
        surveys.push({
          ticket: id,
          customer: v.customer,
          vehicle: v.id,
          sentAt: closedAt + MIN,
          scores: r() < 0.6 ? [0, 1, 2].map(() => Math.min(5, Math.max(1, Math.round(4.3 + (r() - 0.6) * 4)))) : null,
        });
    }
  }
  // the causes of about one closed ticket in ten attributed to a supplier's part (quality records,
  // 质量信息反馈), a few of them to two parts: the statistics' supplier-part groups
  const parts = Array.from({ length: 12 }, (_, i) => `P-${100 + i}`);
  const quality: { ticket_id: number; vehicle_id: string; fault_code: string; part: string; failed_at: number }[] = [];
  for (const t of tickets) {
    if (t.status !== 'closed' || r() >= 0.1) continue;
    const first = pick(parts);
    const chosen = r() < 0.15 ? [first, parts[(parts.indexOf(first) + 1) % parts.length]!] : [first];
    for (const part of chosen)
      quality.push({
        ticket_id: t.id,
        vehicle_id: t.vehicle_id!,
        fault_code: t.fault_code!,
        part,
        failed_at: Number(t.received_at),
      });
  }
  await inTransaction(db, async (tx) => {
    await insertInChunks(tickets, (chunk) => tx.insertInto('tickets').values(chunk).execute());
    await insertInChunks(quality, (chunk) =>
      tx
        .insertInto('quality_records')
        .values(
          chunk.map((q) => ({
            ticket_id: q.ticket_id,
            vehicle_id: q.vehicle_id,
            fault_code: q.fault_code,
            part_number: q.part,
            // each part from one of five suppliers
            supplier_id: `SUP-${(parts.indexOf(q.part) % 5) + 1}`,
            failed_at: q.failed_at,
            note: null,
            recorded_by: 'quality',
            recorded_at: q.failed_at + DAY,
          })),
        )
        .execute(),
    );
    await insertInChunks(outcomes, (chunk) => tx.insertInto('ticket_outcomes').values(chunk).execute());
    // the next ticket of the same vehicle and fault after each closure, as service/outcomes.ts keeps it
    await sql`update ticket_outcomes set next_same_fault_at = (
        select min(n.received_at) from tickets t join tickets n
          on n.vehicle_id = t.vehicle_id and n.fault_code = t.fault_code and n.id <> t.id
        where t.id = ticket_outcomes.ticket_id and n.received_at > ticket_outcomes.closed_at)`.execute(tx);
    await insertInChunks(surveys, (chunk) =>
      tx
        .insertInto('service_surveys')
        .values(
          chunk.map((x) => ({
            ticket_id: x.ticket,
            customer_id: x.customer,
            vehicle_id: x.vehicle,
            sent_at: x.sentAt,
            answered_at: x.scores ? x.sentAt + DAY : null,
            answered_by: x.scores ? 'crew' : null,
            score_response: x.scores?.[0] ?? null,
            score_quality: x.scores?.[1] ?? null,
            score_attitude: x.scores?.[2] ?? null,
            min_score: x.scores ? Math.min(...x.scores) : null,
            comments: null,
          })),
        )
        .execute(),
    );
    await tx
      .insertInto('survey_follow_ups')
      .columns(['survey_id', 'ticket_id', 'customer_id', 'opened_at', 'assignee', 'status'])
      .expression((eb) =>
        eb
          .selectFrom('service_surveys')
          .select([
            'id',
            'ticket_id',
            'customer_id',
            'answered_at',
            eb.val('service-manager').as('assignee'),
            eb.val('done').as('status'),
          ])
          .where('min_score', '<=', 2),
      )
      .execute();
  });
  return { tickets: tickets.length, surveys: surveys.length };
}
