import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Generated } from 'kysely';
import { PlatformError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { createDeadlineTimer } from '../diagnostics/tickets/deadlines.ts';
import type { Ticket } from '../diagnostics/types.ts';
import { inTransaction, type RecordsDb } from '../records/db.ts';
import type { Messages } from './messages.ts';
import './errors.ts';

/**
 * Paging staff (issue 12 point 5). A page is a row with an acknowledgement state, delivered through
 * the outbox to the paged account's channels and console inbox (a 特急-class message: never held by
 * quiet hours or rate limits). Deadline at risk (`atRiskMs` before the 30-minute work-content or
 * plan deadline) pages the assignee, or the duty lead when there is none; a breach pages the duty
 * lead. A page is acknowledged in the console (`POST /api/pages/:id/ack`) or by the signed link in
 * the message (`GET /api/pages/ack?token=…`); one not acknowledged within its step's time escalates
 * along the chain (assignee → duty lead → service manager by default). Every page, escalation and
 * acknowledgement is an entry of the ticket's timeline, written through the ticket service. The
 * timer is armed from the database (at start and after every change), so it survives restarts.
 */
export interface PagesTable {
  id: Generated<number>;
  /** Idempotency: one page per ticket, reason and deadline (`ticket:42:at_risk:work_content`). */
  key: string;
  ticket_id: number | null;
  reason: string;
  deadline: string | null;
  /** What the page is about, in plain words (English; the message itself is per language). */
  message: string;
  /** Index in the escalation chain of the account paged last. */
  step: number;
  account_id: string;
  state: PageState;
  created_at: number;
  paged_at: number;
  /** When it escalates unless acknowledged; null: the chain's last step (or no longer open). */
  escalate_at: number | null;
  acked_at: number | null;
  acked_by: string | null;
}

declare module '../records/schema.ts' {
  interface RecordsSchema {
    pages: PagesTable;
  }
}

export const PAGE_STATES = ['open', 'acknowledged', 'resolved'] as const;
export type PageState = (typeof PAGE_STATES)[number];
export const CHAIN_ROLES = ['assignee', 'duty_lead', 'service_manager'] as const;
export type ChainRole = (typeof CHAIN_ROLES)[number];
/** One step of the escalation chain: who, and how long before the next step (null: the last). */
export interface ChainStep {
  role: ChainRole;
  waitMs: number | null;
}

export interface Page {
  id: number;
  ticketId: number | null;
  reason: string;
  deadline: string | null;
  message: string;
  step: number;
  accountId: string;
  state: PageState;
  createdAt: number;
  pagedAt: number;
  escalateAt: number | null;
  ackedAt: number | null;
  ackedBy: string | null;
}

export interface PagingOptions {
  atRiskMs: number;
  chain: ChainStep[];
  dutyLead: string;
  serviceManager: string;
  /** HMAC key of the acknowledgement links. */
  secret: string;
  publicUrl: string;
}

/** What a page writes on its ticket's timeline (diagnostics/tickets/timeline-actions.ts). */
export type PageAction = `paged_${string}` | 'page_escalated' | 'page_acknowledged' | 'page_acknowledged_by_link';

export interface PagingDeps {
  db: RecordsDb;
  log: Logger;
  messages: Messages;
  /** The ticket service's timeline (one place) and its ticket read inside a transaction. */
  tickets: {
    note(
      tx: RecordsDb,
      id: number,
      entry: { actor: string; action: PageAction; note?: string | null },
    ): Promise<{ announce: () => Promise<void> }>;
    getIn(tx: RecordsDb, id: number): Promise<Ticket>;
  };
  now?: () => number;
  /** Called after a commit that wrote outbox rows (wakes the dispatcher). */
  written?: () => void;
  /** Cluster mode: whether this node may fire its timer's jobs now (the leader); default always. */
  gate?: () => boolean;
  /** Cluster mode: the longest wait between two looks at the due times (another node writes them too). */
  gatePollMs?: number;
}

/** What to page about: the ticket, why, and where in the chain to start. */
export interface PageRequest {
  ticket: Ticket;
  /** `at_risk`, `breached`, or the caller's own (e.g. `session` for a remote session's ringing). */
  reason: string;
  deadline?: 'work_content' | 'plan' | null;
  /** Default `ticket:<id>:<reason>:<deadline>`: paging twice with one key pages once. */
  key?: string;
  /** First role of the chain to try (default: the chain's first; a breach starts at duty_lead). */
  startAt?: ChainRole;
  /** The reason as people read it; default from `reason` and `deadline`. */
  says?: { en: string; zh: string };
  deadlineAt?: number;
}

const REASONS: Record<string, { en: string; zh: string }> = {
  'at_risk:work_content': { en: 'Deadline at risk: work content not yet determined', zh: '期限临近：尚未确定工作内容' },
  'at_risk:plan': { en: 'Deadline at risk: support plan not yet issued', zh: '期限临近：尚未下发保障方案' },
  'breached:work_content': {
    en: 'Deadline missed: work content not determined within 30 min',
    zh: '已超期：30分钟内未确定工作内容',
  },
  'breached:plan': {
    en: 'Deadline missed: support plan not issued within 30 min',
    zh: '已超期：30分钟内未下发保障方案',
  },
};

type Row = Omit<PagesTable, 'id'> & { id: number };
const toPage = (r: Row): Page => ({
  id: Number(r.id),
  ticketId: r.ticket_id === null ? null : Number(r.ticket_id),
  reason: r.reason,
  deadline: r.deadline,
  message: r.message,
  step: Number(r.step),
  accountId: r.account_id,
  state: r.state,
  createdAt: Number(r.created_at),
  pagedAt: Number(r.paged_at),
  escalateAt: r.escalate_at === null ? null : Number(r.escalate_at),
  ackedAt: r.acked_at === null ? null : Number(r.acked_at),
  ackedBy: r.acked_by,
});

export function createPaging(deps: PagingDeps, options: PagingOptions) {
  const { db, log, messages, tickets } = deps;
  const now = deps.now ?? Date.now;
  const chain = options.chain;
  const announcements: (() => Promise<void>)[] = [];

  const sign = (id: number, createdAt: number) =>
    createHmac('sha256', options.secret).update(`page:${id}:${createdAt}`).digest('base64url');
  const tokenOf = (p: Pick<Page, 'id' | 'createdAt'>) => `${p.id}.${sign(p.id, p.createdAt)}`;
  const ackLink = (p: Pick<Page, 'id' | 'createdAt'>) =>
    `${options.publicUrl.replace(/\/+$/, '')}/api/pages/ack?token=${tokenOf(p)}`;

  /** The account of chain step `i` for a ticket, or null when the step names nobody (no assignee). */
  function accountAt(i: number, t: Ticket): string | null {
    const role = chain[i]!.role;
    return role === 'assignee' ? t.assignee : role === 'duty_lead' ? options.dutyLead : options.serviceManager;
  }
  /** The first step from `i` that names somebody. */
  function stepFrom(i: number, t: Ticket): { step: number; account: string } | null {
    for (let s = i; s < chain.length; s++) {
      const account = accountAt(s, t);
      if (account) return { step: s, account };
    }
    return null;
  }
  const escalateAt = (step: number, at: number) =>
    step < chain.length - 1 && chain[step]!.waitMs !== null ? at + chain[step]!.waitMs! : null;
  const reasonOf = (p: { reason: string; deadline: string | null }) =>
    REASONS[`${p.reason}:${p.deadline}`] ?? { en: p.reason, zh: p.reason };

  async function deliver(tx: RecordsDb, p: Page, t: Ticket, escalated: boolean, says?: { en: string; zh: string }) {
    const r = says ?? reasonOf(p);
    await messages.toStaff(
      tx,
      p.accountId,
      t,
      'page',
      `page:${p.id}:step:${p.step}:${p.accountId}`,
      p.pagedAt,
      {
        reason: escalated ? { en: `Escalated — ${r.en}`, zh: `上报 — ${r.zh}` } : r,
        ackLink: ackLink(p),
        ...(p.deadline === 'work_content'
          ? { deadlineAt: t.workContentDueAt }
          : p.deadline === 'plan' && t.planDueAt !== null
            ? { deadlineAt: t.planDueAt }
            : {}),
      },
      { urgent: true },
    );
  }

  async function note(tx: RecordsDb, ticketId: number | null, action: PageAction, text: string) {
    if (ticketId === null) return;
    const { announce } = await tickets.note(tx, ticketId, { actor: 'system', action, note: text });
    announcements.push(announce);
  }

  /** Announces what committed (bus events) and re-arms the timer, once the caller's transaction is done. */
  function afterCommit(): void {
    setTimeout(() => {
      const list = announcements.splice(0);
      void (async () => {
        for (const a of list) await a();
        deps.written?.();
        await timer.reschedule();
      })().catch((err: unknown) => log.error({ err }, 'paging follow-up failed'));
    }, 0);
  }

  async function getIn(tx: RecordsDb, id: number): Promise<Page> {
    const row = await tx.selectFrom('pages').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw new PlatformError('PAGE_NOT_FOUND', `page ${id} not found`);
    return toPage(row);
  }

  /**
   * Pages inside the caller's transaction: the page row, its messages in the outbox and the
   * ticket's timeline entry commit with the caller's change. Returns the page, or undefined when
   * one with that key exists already or the chain names nobody. The seam for other parts (the
   * remote session's "ring the on-duty engineer"): call it with your own `reason` and `key`.
   */
  async function page(tx: RecordsDb, req: PageRequest): Promise<Page | undefined> {
    const t = req.ticket;
    const deadline = req.deadline ?? null;
    const start = chain.findIndex(
      (s) => s.role === (req.startAt ?? (req.reason === 'breached' ? 'duty_lead' : chain[0]!.role)),
    );
    const first = stepFrom(Math.max(0, start), t) ?? { step: chain.length - 1, account: options.dutyLead };
    const at = now();
    const says = req.says ?? reasonOf({ reason: req.reason, deadline });
    const res = await tx
      .insertInto('pages')
      .values({
        key: req.key ?? `ticket:${t.id}:${req.reason}:${deadline ?? '-'}`,
        ticket_id: t.id,
        reason: req.reason,
        deadline,
        message: says.en,
        step: first.step,
        account_id: first.account,
        state: 'open',
        created_at: at,
        paged_at: at,
        escalate_at: escalateAt(first.step, at),
        acked_at: null,
        acked_by: null,
      })
      .onConflict((oc) => oc.column('key').doNothing())
      .returning('id')
      .executeTakeFirst();
    if (!res) return undefined;
    // a breach supersedes the at-risk page of the same deadline: one story, escalated from the duty lead
    if (req.reason === 'breached' && deadline)
      await tx
        .updateTable('pages')
        .set({ state: 'resolved', escalate_at: null })
        .where('ticket_id', '=', t.id)
        .where('reason', '=', 'at_risk')
        .where('deadline', '=', deadline)
        .where('state', '=', 'open')
        .execute();
    const p = await getIn(tx, Number(res.id));
    await deliver(tx, p, t, false, says);
    await note(tx, t.id, `paged_${req.reason}`, `paged ${p.accountId}`);
    afterCommit();
    return p;
  }

  /** Pages the assignees of deadlines now at risk, then escalates the pages whose step time ran out. */
  async function check(): Promise<void> {
    const at = now();
    const soon = await db
      .selectFrom('tickets')
      .select(['id'])
      .where('is_open', '=', 1)
      .where((eb) =>
        eb.or([
          eb.and([eb('work_content_done_at', 'is', null), eb('work_content_due_at', '<=', at + options.atRiskMs)]),
          eb.and([
            eb('plan_due_at', 'is not', null),
            eb('plan_done_at', 'is', null),
            eb('plan_due_at', '<=', at + options.atRiskMs),
          ]),
        ]),
      )
      .execute();
    for (const { id } of soon) {
      await inTransaction(db, async (tx) => {
        const t = await tickets.getIn(tx, Number(id));
        if (t.workContentDoneAt === null && t.workContentDueAt > at && !t.breaches.includes('work_content'))
          await page(tx, { ticket: t, reason: 'at_risk', deadline: 'work_content', deadlineAt: t.workContentDueAt });
        if (t.planDueAt !== null && t.planDoneAt === null && t.planDueAt > at && !t.breaches.includes('plan'))
          await page(tx, { ticket: t, reason: 'at_risk', deadline: 'plan', deadlineAt: t.planDueAt });
      });
    }
    const due = await db
      .selectFrom('pages')
      .select('id')
      .where('state', '=', 'open')
      .where('escalate_at', 'is not', null)
      .where('escalate_at', '<=', at)
      .execute();
    for (const { id } of due) await escalate(Number(id), at);
  }

  async function escalate(id: number, at: number): Promise<void> {
    await inTransaction(db, async (tx) => {
      const p = await getIn(tx, id);
      if (p.state !== 'open' || p.escalateAt === null || p.escalateAt > at || p.ticketId === null) return;
      const t = await tickets.getIn(tx, p.ticketId);
      const met =
        !['received', 'work_content_determined', 'plan_issued', 'in_service', 'repaired'].includes(t.status) ||
        (p.reason === 'at_risk' &&
          ((p.deadline === 'work_content' && t.workContentDoneAt !== null) ||
            (p.deadline === 'plan' && t.planDoneAt !== null)));
      const next = met ? null : stepFrom(p.step + 1, t);
      if (!next) {
        // nothing left to do (deadline met, ticket closed) or nobody further up: stays as it is, no timer
        await tx
          .updateTable('pages')
          .set({ escalate_at: null, ...(met ? { state: 'resolved' as const } : {}) })
          .where('id', '=', id)
          .execute();
        return;
      }
      await tx
        .updateTable('pages')
        .set({ step: next.step, account_id: next.account, paged_at: at, escalate_at: escalateAt(next.step, at) })
        .where('id', '=', id)
        .where('state', '=', 'open')
        .execute();
      const after = await getIn(tx, id);
      await deliver(tx, after, t, true);
      await note(tx, t.id, 'page_escalated', `page escalated to ${next.account}`);
      log.warn({ page: id, ticket: t.number, to: next.account }, 'page not acknowledged; escalated');
    });
    afterCommit();
  }

  async function nextDue(): Promise<number | null> {
    const at = now();
    const esc = await db
      .selectFrom('pages')
      .select((eb) => eb.fn.min('escalate_at').as('due'))
      .where('state', '=', 'open')
      .where('escalate_at', 'is not', null)
      .executeTakeFirst();
    const work = await db
      .selectFrom('tickets')
      .select((eb) => eb.fn.min('work_content_due_at').as('due'))
      .where('is_open', '=', 1)
      .where('work_content_done_at', 'is', null)
      .where('work_content_due_at', '>', at + options.atRiskMs)
      .executeTakeFirst();
    const plan = await db
      .selectFrom('tickets')
      .select((eb) => eb.fn.min('plan_due_at').as('due'))
      .where('is_open', '=', 1)
      .where('plan_done_at', 'is', null)
      .where('plan_due_at', '>', at + options.atRiskMs)
      .executeTakeFirst();
    const all = [
      esc?.due == null ? Infinity : Number(esc.due),
      work?.due == null ? Infinity : Number(work.due) - options.atRiskMs,
      plan?.due == null ? Infinity : Number(plan.due) - options.atRiskMs,
    ];
    const next = Math.min(...all);
    return next === Infinity ? null : next;
  }

  const timer = createDeadlineTimer({
    nextDue,
    check,
    now,
    log,
    ...(deps.gate ? { gate: deps.gate } : {}),
    ...(deps.gatePollMs ? { pollMs: deps.gatePollMs } : {}),
  });

  async function acknowledge(
    id: number,
    by: string,
    via: 'console' | 'link',
  ): Promise<{ page: Page; already: boolean }> {
    const at = now();
    const result = await inTransaction(db, async (tx) => {
      const p = await getIn(tx, id);
      if (p.state !== 'open') return { page: p, already: true };
      await tx
        .updateTable('pages')
        .set({ state: 'acknowledged', acked_at: at, acked_by: by, escalate_at: null })
        .where('id', '=', id)
        .where('state', '=', 'open')
        .execute();
      await note(
        tx,
        p.ticketId,
        via === 'link' ? 'page_acknowledged_by_link' : 'page_acknowledged',
        `page acknowledged by ${by}`,
      );
      return { page: await getIn(tx, id), already: false };
    });
    if (!result.already) afterCommit();
    return result;
  }

  return {
    page,
    /** Re-arms the timer (a ticket opened: its at-risk time is new). */
    poke: () => afterCommit(),
    ackLink,
    async get(id: number): Promise<Page> {
      return getIn(db, id);
    },
    async ofTicket(ticketId: number): Promise<Page[]> {
      const rows = await db.selectFrom('pages').selectAll().where('ticket_id', '=', ticketId).orderBy('id').execute();
      return rows.map(toPage);
    },
    /** Open pages, newest first (the console's list of what waits for an acknowledgement). */
    async open(): Promise<Page[]> {
      const rows = await db.selectFrom('pages').selectAll().where('state', '=', 'open').orderBy('id', 'desc').execute();
      return rows.map(toPage);
    },
    /** Acknowledges in the console. Idempotent: an acknowledged page answers as it is. */
    acknowledge: (id: number, by: string) => acknowledge(id, by, 'console'),
    /**
     * Acknowledges by the signed link in the message (no login): the paged account acknowledges.
     * `check` only verifies the token (a HEAD request, a link scanner's probe): nothing changes.
     */
    async acknowledgeByToken(token: string, check = false): Promise<{ page: Page; already: boolean }> {
      const m = /^(\d{1,15})\.([A-Za-z0-9_-]{43})$/.exec(token);
      const invalid = () => new PlatformError('PAGE_TOKEN_INVALID', 'this acknowledgement link is not valid');
      if (!m) throw invalid();
      const id = Number(m[1]);
      const row = await db.selectFrom('pages').selectAll().where('id', '=', id).executeTakeFirst();
      if (!row) throw invalid();
      const p = toPage(row);
      const expected = Buffer.from(sign(p.id, p.createdAt));
      const given = Buffer.from(m[2]!);
      if (expected.length !== given.length || !timingSafeEqual(expected, given)) throw invalid();
      if (check) return { page: p, already: p.state !== 'open' };
      return acknowledge(id, p.accountId, 'link');
    },
    start: () => timer.start(),
    stop: () => timer.stop(),
  };
}

export type Paging = ReturnType<typeof createPaging>;
