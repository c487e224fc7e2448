import type { Generated } from 'kysely';
import { PlatformError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { RecordsDb } from '../../records/db.ts';
import type { EmergencyPlan } from '../plans/plans.ts';
import type { TicketService } from '../tickets/service.ts';
import { SERVICE_MODE_LABELS } from '../tickets/status.ts';
import type { TeamMember } from '../tickets/team.ts';
import type { Ticket } from '../types.ts';
import './errors.ts';

export interface SupportPlanVersionsTable {
  id: Generated<number>;
  ticket_id: number;
  version: number;
  status: 'draft' | 'issued';
  /** JSON: SupportPlanContent. */
  content: string;
  drafted_by: string;
  drafted_at: number;
  issued_by: string | null;
  issued_at: number | null;
  /** Why this version was issued (required from the second version on). */
  reason: string | null;
  /** JSON: string[] — what changed against the version before, in plain words. */
  changes: string | null;
}

declare module '../../records/schema.ts' {
  interface RecordsSchema {
    support_plan_versions: SupportPlanVersionsTable;
  }
}

/** How the team travels (交通方式): the plan asks for the fastest way to the site for 特急 tasks. */
export const PLAN_TRANSPORT_MODES = ['service_vehicle', 'car', 'train', 'air', 'courier', 'other'] as const;
export type PlanTransportMode = (typeof PLAN_TRANSPORT_MODES)[number];

/** A material line of the plan (人员物资要求): a spare part reserved in the stock, a tool checked out, or a free line. */
export type MaterialLine =
  | {
      kind: 'part';
      partNo: string;
      name: { en: string; zh: string };
      qty: number;
      storeId: string;
      /** The stock reservation (resources/stock/) holding it for the ticket. */
      reservationId: number;
    }
  | {
      kind: 'tool';
      toolId: number;
      code: string;
      name: { en: string; zh: string };
    }
  /** Anything not in the catalogue or the tools register. */
  | { kind: 'free'; name: string; qty: number | null; unit: string | null; note: string | null };

export interface Milestone {
  at: number;
  label: string;
}

/** The plan document's content (应急保障工作计划: 保障工作内容, 人员物资要求, 工作进度要求). */
export interface SupportPlanContent {
  /** 保障工作内容. */
  workContent: string;
  /** The response team as it was when the version was drafted or issued (the ticket's team is the live one). */
  people: TeamMember[];
  materials: MaterialLine[];
  /** 工作进度要求: milestones in time order. */
  milestones: Milestone[];
  transport: { mode: PlanTransportMode; vehicle: string | null } | null;
  /** When help arrives; issuing sets the ticket's ETA (the one source of truth afterwards). */
  eta: number | null;
  etaNote: string | null;
  /** For staff only: never shown to the customer nor printed on the forms. */
  internalNote: string | null;
}

export interface SupportPlanVersion {
  ticketId: number;
  version: number;
  status: 'draft' | 'issued';
  content: SupportPlanContent;
  draftedBy: string;
  draftedAt: number;
  issuedBy: string | null;
  issuedAt: number | null;
  reason: string | null;
  changes: string[];
}

/** What the duty desk writes into a draft; parts without a reservation are reserved, tools checked out. */
export interface DraftInput {
  workContent: string;
  materials: (
    | { kind: 'part'; reservationId: number }
    | { kind: 'part'; partNo: string; storeId: string; qty: number }
    | { kind: 'tool'; toolId: number }
    | { kind: 'free'; name: string; qty?: number | null; unit?: string | null; note?: string | null }
  )[];
  milestones: Milestone[];
  transport: { mode: PlanTransportMode; vehicle?: string | null } | null;
  eta: number | null;
  etaNote?: string | null;
  internalNote?: string | null;
}

/** A reservation of the ticket as the plan shows it. */
export interface PlanReservation {
  id: number;
  partNo: string;
  name: { en: string; zh: string };
  storeId: string;
  qty: number;
  reserved: number;
  inField: number;
  consumed: number;
}

/** A shipment of the ticket's parts (售后服务发运通知 of the stock ledger). */
export interface PlanShipment {
  noticeNo: string;
  carrier: string;
  trackingNo: string;
  consignee: string;
  address: string;
  shippedAt: number;
  lines: { partNo: string; name: { en: string; zh: string }; qty: number }[];
}

/**
 * The materials the plan reserves and checks out, through the resources stage's services (wired by
 * the composition root, platform/support-plans.ts): the spare-parts stock ledger and the tools register.
 */
export interface SupportPlanMaterials {
  /** Reserves parts for the ticket, all lines or none (INSUFFICIENT_STOCK); returns the new reservations' ids in line order. */
  reserve(ticket: Ticket, lines: { partNo: string; storeId: string; qty: number }[], actor: string): Promise<number[]>;
  reservations(ticketId: number): Promise<PlanReservation[]>;
  /** The emergency plan's parts still to cover, with the nearest store that has them (null: none). */
  proposal(
    ticket: Ticket,
  ): Promise<{ partNo: string; name: { en: string; zh: string }; qty: number; storeId: string | null }[]>;
  shipments(ticketId: number): Promise<PlanShipment[]>;
  tool(
    id: number,
  ): Promise<{ id: number; code: string; name: { en: string; zh: string }; checkedOutTo: number | null }>;
  /** Checks the tool out to the ticket's team (TOOL_NOT_AVAILABLE unless available). */
  checkOutTool(id: number, ticketId: number, team: string[], actor: string): Promise<void>;
}

export interface SupportPlansDeps {
  db: RecordsDb;
  log: Logger;
  tickets: Pick<TicketService, 'get' | 'team' | 'planOf' | 'issuePlan'>;
  materials: SupportPlanMaterials;
  now?: () => number;
}

type Row = SupportPlanVersionsTable & { id: number };

const versionOf = (r: Row): SupportPlanVersion => ({
  ticketId: Number(r.ticket_id),
  version: r.version,
  status: r.status,
  content: JSON.parse(r.content) as SupportPlanContent,
  draftedBy: r.drafted_by,
  draftedAt: Number(r.drafted_at),
  issuedBy: r.issued_by,
  issuedAt: r.issued_at === null ? null : Number(r.issued_at),
  reason: r.reason,
  changes: r.changes ? (JSON.parse(r.changes) as string[]) : [],
});

const lineKey = (m: MaterialLine): string =>
  m.kind === 'part'
    ? `part ${m.partNo} ×${m.qty}`
    : m.kind === 'tool'
      ? `tool ${m.code}`
      : `${m.name}${m.qty ? ` ×${m.qty}` : ''}`;

/** What changed from one version to the next, in plain words (shown with the version: who, when, what, why). */
export function planChanges(before: SupportPlanContent | null, after: SupportPlanContent): string[] {
  if (!before) return ['first version'];
  const out: string[] = [];
  if (before.workContent !== after.workContent) out.push('work content');
  const people = (c: SupportPlanContent) => c.people.map((p) => `${p.role}:${p.accountId}`).join(',');
  if (people(before) !== people(after)) out.push('people');
  const a = new Set(before.materials.map(lineKey));
  const b = new Set(after.materials.map(lineKey));
  for (const k of b) if (!a.has(k)) out.push(`added ${k}`);
  for (const k of a) if (!b.has(k)) out.push(`removed ${k}`);
  const ms = (c: SupportPlanContent) => c.milestones.map((m) => `${m.at} ${m.label}`).join('|');
  if (ms(before) !== ms(after)) out.push('schedule');
  if (JSON.stringify(before.transport) !== JSON.stringify(after.transport)) out.push('transport');
  if (before.eta !== after.eta || before.etaNote !== after.etaNote) out.push('ETA');
  return out.length ? out : ['no change of content'];
}

/** The work content the plan starts from: the ticket's need and the emergency plan's causes and checks. */
export function suggestedWorkContent(t: Ticket, plan: EmergencyPlan | undefined): string {
  const lines = [`${t.title}`, t.need];
  if (plan) {
    lines.push(`${plan.code} ${plan.title.zh} / ${plan.title.en}`);
    lines.push(`可能原因 Likely causes: ${plan.likelyCauses.map((c) => `${c.zh} (${c.en})`).join('; ')}`);
    const mode = SERVICE_MODE_LABELS[plan.recommendedMode];
    lines.push(`建议服务方式 Recommended mode: ${mode.zh} / ${mode.en}`);
  }
  if (t.place) lines.push(`地点 Place: ${t.place}`);
  return lines.filter(Boolean).join('\n');
}

/**
 * The support plan as a document (应急保障工作计划): drafted by the duty desk (市场部) from the
 * ticket's diagnosis and emergency plan, with the response team, the materials (spare parts
 * reserved in the stock ledger, tools checked out of the register, free lines), milestones,
 * transport and ETA; issued in versions through the ticket service (`issuePlan`: the first version
 * is the `issue_plan` step), each kept with who issued it, when, what changed and why.
 */
export function createSupportPlans(deps: SupportPlansDeps) {
  const { db, tickets, materials } = deps;
  const now = deps.now ?? Date.now;

  async function rows(ticketId: number): Promise<SupportPlanVersion[]> {
    const r = await db
      .selectFrom('support_plan_versions')
      .selectAll()
      .where('ticket_id', '=', ticketId)
      .orderBy('version')
      .execute();
    return (r as Row[]).map(versionOf);
  }

  /** Builds the stored content from the desk's input: reserves new parts, checks tools out (all parts or none). */
  async function materialise(t: Ticket, input: DraftInput, actor: string, team: TeamMember[]): Promise<MaterialLine[]> {
    const held = await materials.reservations(t.id);
    const toReserve = input.materials.flatMap((m) =>
      m.kind === 'part' && 'partNo' in m ? [{ partNo: m.partNo, storeId: m.storeId, qty: m.qty }] : [],
    );
    for (const m of input.materials)
      if (m.kind === 'part' && 'reservationId' in m && !held.some((r) => r.id === m.reservationId))
        throw new PlatformError('RESERVATION_NOT_FOUND', `reservation ${m.reservationId} is not this ticket’s`);
    const tools = await Promise.all(
      input.materials.flatMap((m) => (m.kind === 'tool' ? [materials.tool(m.toolId)] : [])),
    );
    for (const tool of tools)
      if (tool.checkedOutTo !== null && tool.checkedOutTo !== t.id)
        throw new PlatformError(
          'TOOL_NOT_AVAILABLE',
          `tool ${tool.code} is not available (checked out to another task, in maintenance or retired)`,
        );
    const newIds = toReserve.length ? await materials.reserve(t, toReserve, actor) : [];
    for (const tool of tools)
      if (tool.checkedOutTo === null)
        await materials.checkOutTool(
          tool.id,
          t.id,
          team.map((m) => m.accountId),
          actor,
        );
    const all = newIds.length ? await materials.reservations(t.id) : held;
    let nextNew = 0;
    let nextTool = 0;
    return input.materials.map((m): MaterialLine => {
      if (m.kind === 'part') {
        const id = 'reservationId' in m ? m.reservationId : newIds[nextNew++]!;
        const r = all.find((x) => x.id === id)!;
        return { kind: 'part', partNo: r.partNo, name: r.name, qty: r.qty, storeId: r.storeId, reservationId: r.id };
      }
      if (m.kind === 'tool') {
        const tool = tools[nextTool++]!;
        return { kind: 'tool', toolId: tool.id, code: tool.code, name: tool.name };
      }
      return { kind: 'free', name: m.name, qty: m.qty ?? null, unit: m.unit ?? null, note: m.note ?? null };
    });
  }

  function checkInput(input: DraftInput): void {
    const times = input.milestones.map((m) => m.at);
    if (times.some((x, i) => i > 0 && x < times[i - 1]!))
      throw new PlatformError('VALIDATION_FAILED', 'body.milestones: list the milestones in time order');
  }

  return {
    /** Every version of the ticket's plan, oldest first (the draft, if any, last). */
    versions: rows,
    /** The latest issued version, or null. */
    async current(ticketId: number): Promise<SupportPlanVersion | null> {
      return (await rows(ticketId)).filter((v) => v.status === 'issued').at(-1) ?? null;
    },
    /** What a new draft starts from: the latest issued version, else the ticket's diagnosis, emergency plan and team. */
    async template(
      ticketId: number,
    ): Promise<{ content: SupportPlanContent; proposedParts: Awaited<ReturnType<SupportPlanMaterials['proposal']>> }> {
      const t = await tickets.get(ticketId);
      const issued = (await rows(ticketId)).filter((v) => v.status === 'issued').at(-1);
      const team = await tickets.team(ticketId);
      const proposedParts = await materials.proposal(t);
      // the ETA as the ticket has it now (it may have moved since the plan was issued)
      if (issued)
        return { content: { ...issued.content, people: team, eta: t.eta, etaNote: t.etaNote }, proposedParts };
      return {
        content: {
          workContent: suggestedWorkContent(t, tickets.planOf(t)),
          people: team,
          materials: [],
          milestones: [],
          transport: null,
          eta: t.eta,
          etaNote: t.etaNote,
          internalNote: null,
        },
        proposedParts,
      };
    },
    /** Writes the draft (the next version): reserves the new parts and checks the tools out first. */
    async saveDraft(ticketId: number, input: DraftInput, actor: string): Promise<SupportPlanVersion> {
      checkInput(input);
      const t = await tickets.get(ticketId);
      if (['closed', 'cancelled', 'verified', 'merged'].includes(t.status))
        throw new PlatformError('TICKET_CLOSED', `cannot plan ticket ${t.number}: it is ${t.status}`);
      const team = await tickets.team(ticketId);
      const content: SupportPlanContent = {
        workContent: input.workContent,
        people: team,
        materials: await materialise(t, input, actor, team),
        milestones: input.milestones,
        transport: input.transport ? { mode: input.transport.mode, vehicle: input.transport.vehicle ?? null } : null,
        eta: input.eta,
        etaNote: input.etaNote ?? null,
        internalNote: input.internalNote ?? null,
      };
      const at = now();
      const update = (version: number) =>
        db
          .updateTable('support_plan_versions')
          .set({ content: JSON.stringify(content), drafted_by: actor, drafted_at: at })
          .where('ticket_id', '=', ticketId)
          .where('version', '=', version)
          .where('status', '=', 'draft')
          .execute();
      const all = await rows(ticketId);
      const draft = all.find((v) => v.status === 'draft');
      if (draft) await update(draft.version);
      else {
        await db
          .insertInto('support_plan_versions')
          .values({
            ticket_id: ticketId,
            version: all.length + 1,
            status: 'draft',
            content: JSON.stringify(content),
            drafted_by: actor,
            drafted_at: at,
            issued_by: null,
            issued_at: null,
            reason: null,
            changes: null,
          })
          .execute()
          .catch(async (err: unknown) => {
            // another desk wrote the same next version meanwhile (unique ticket + version): write into that draft
            const other = (await rows(ticketId)).find((v) => v.status === 'draft');
            if (!other) throw err;
            await update(other.version);
          });
      }
      return (await rows(ticketId)).find((v) => v.status === 'draft')!;
    },
    /**
     * Issues the draft: the first version performs `issue_plan` on the ticket (the 加急 plan
     * deadline is met now), a later one needs the reason; the plan's ETA becomes the ticket's.
     */
    async issue(
      ticketId: number,
      actor: string,
      reason: string | null,
    ): Promise<{ ticket: Ticket; version: SupportPlanVersion }> {
      const all = await rows(ticketId);
      const draft = all.find((v) => v.status === 'draft');
      if (!draft)
        throw new PlatformError('SUPPORT_PLAN_NOT_FOUND', `ticket ${ticketId} has no draft support plan to issue`);
      if (!draft.content.workContent.trim())
        throw new PlatformError('VALIDATION_FAILED', 'the support plan needs its work content (保障工作内容)');
      const previous = all.filter((v) => v.status === 'issued').at(-1) ?? null;
      if (previous && !reason?.trim())
        throw new PlatformError('VALIDATION_FAILED', 'body.reason: say why the plan is issued again (what changed)');
      const team = await tickets.team(ticketId);
      const content: SupportPlanContent = { ...draft.content, people: team };
      const changes = planChanges(previous?.content ?? null, content);
      const at = now();
      const ticket = await tickets.issuePlan(ticketId, actor, {
        version: draft.version,
        note: `support plan v${draft.version} issued`,
        eta: content.eta,
        etaNote: content.etaNote,
        write: async (tx) => {
          const r = await tx
            .updateTable('support_plan_versions')
            .set({
              status: 'issued',
              content: JSON.stringify(content),
              issued_by: actor,
              issued_at: at,
              reason: reason?.trim() || null,
              changes: JSON.stringify(changes),
            })
            .where('ticket_id', '=', ticketId)
            .where('version', '=', draft.version)
            .where('status', '=', 'draft')
            .executeTakeFirst();
          // two desks issuing at once: one wins, the other finds no draft
          if (Number(r.numUpdatedRows) !== 1)
            throw new PlatformError('SUPPORT_PLAN_NOT_FOUND', `the draft v${draft.version} was issued meanwhile`);
        },
      });
      deps.log.info({ ticket: ticket.number, version: draft.version }, 'support plan issued');
      const version = (await rows(ticketId)).find((v) => v.version === draft.version)!;
      return { ticket, version };
    },
    reservations: (ticketId: number) => materials.reservations(ticketId),
    shipments: (ticketId: number) => materials.shipments(ticketId),
  };
}

export type SupportPlans = ReturnType<typeof createSupportPlans>;
