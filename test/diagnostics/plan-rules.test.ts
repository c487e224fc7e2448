import { Migrator, sql } from 'kysely';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { TICKET_LEVELS } from '../../diagnostics/tickets/status.ts';
import { loadConfig } from '../../platform/config.ts';
import { inTransaction } from '../../records/db.ts';
import { openTestRecords, advanceTimers, TEST_RECORDS_DIALECT } from '../helpers/records.ts';
import { migrationProvider } from '../../records/migrations.ts';
import { T0 } from './fixtures.ts';
import { startDiagnostics } from './harness.ts';

/**
 * Issue 13, "Fix what contradicts the plan" (docs/service.md): the service plan's rules hold in the
 * ticket service — two levels, the duty desk's classification and deadlines, contacts and
 * 省内/省外, emergency mode only at the user's request.
 */
describe('the service plan’s rules in the ticket service', () => {
  let h: Awaited<ReturnType<typeof startDiagnostics>> | undefined;
  afterEach(async () => {
    vi.useRealTimers();
    await h?.close();
    h = undefined;
  });
  const breaches = () =>
    h!.events
      .filter((e) => e.name === 'ticket.deadline_breached')
      .map((e) => e.payload as { ticket: { id: number }; deadline: string });
  const hotline = { source: 'hotline' as const, customerId: 'C1', title: 't', need: 'x' };

  it('two emergency levels only: 特急 and 加急 (常规 is no emergency level)', () => {
    expect(TICKET_LEVELS).toEqual(['extra_urgent', 'urgent']);
  });

  it('raising 加急 → 特急 (by a rule or by the duty desk) drops the plan deadline: it is never breached', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'], now: T0 });
    h = await startDiagnostics({ now: () => Date.now() });
    const tickets = h.tickets;
    const byRule = await tickets.open({ ...hotline, level: 'urgent' }, 'desk');
    const byDesk = await tickets.open({ ...hotline, source: 'customer', level: 'urgent' }, 'cust');
    expect(byRule.planDueAt).toBe(T0 + 30 * 60_000);
    const raised = await inTransaction(h.db, (tx) =>
      tickets.raiseLevel(tx, byRule.id, 'extra_urgent', 'system', 'worse'),
    );
    await raised.announce();
    expect(raised.ticket).toMatchObject({ level: 'extra_urgent', planDueAt: null });
    const reclassified = await tickets.classify(byDesk.id, 'extra_urgent', 'desk-chen', 'crew without power at night');
    expect(reclassified).toMatchObject({ level: 'extra_urgent', planDueAt: null, levelConfirmedBy: 'desk-chen' });
    await advanceTimers(31 * 60_000);
    // the work content (both levels have it) is still breached; the plan (特急 has none) is not
    expect(breaches().map((b) => [b.ticket.id, b.deadline])).toEqual([
      [byRule.id, 'work_content'],
      [byDesk.id, 'work_content'],
    ]);
    // reclassified down to 加急: the plan deadline is back, counted from receipt
    const lowered = await tickets.classify(byDesk.id, 'urgent', 'desk-chen', 'power restored by the crew');
    expect(lowered.planDueAt).toBe(T0 + 30 * 60_000);
  });

  it('a customer’s level is a proposal until the duty desk classifies it, with the reason on the timeline', async () => {
    h = await startDiagnostics();
    const t = await h.tickets.open({ ...hotline, source: 'customer', level: 'extra_urgent' }, 'cust-a');
    expect(t).toMatchObject({ proposedLevel: 'extra_urgent', levelConfirmedAt: null, levelConfirmedBy: null });
    const desk = await h.tickets.open({ ...hotline, level: 'urgent' }, 'desk-chen');
    expect(desk).toMatchObject({ proposedLevel: 'urgent', levelConfirmedBy: 'desk-chen' });
    const c = await h.tickets.classify(t.id, 'urgent', 'desk-chen', 'generator runs; battery only');
    expect(c).toMatchObject({ level: 'urgent', proposedLevel: 'extra_urgent', levelConfirmedBy: 'desk-chen' });
    expect((await h.tickets.timeline(t.id)).at(-1)).toMatchObject({
      action: 'level_reclassified',
      actor: 'desk-chen',
      note: 'extra_urgent → urgent: generator runs; battery only',
    });
    // determining the work content confirms a level not classified yet
    const other = await h.tickets.open({ ...hotline, source: 'customer', level: 'urgent' }, 'cust-a');
    const determined = await h.tickets.transition(other.id, 'determine_work_content', 'desk-chen');
    expect(determined).toMatchObject({ levelConfirmedBy: 'desk-chen', levelConfirmedAt: expect.any(Number) });
  });

  it('a rule-opened ticket takes the unit’s registered contacts, and emergency mode is only recommended', async () => {
    h = await startDiagnostics();
    const now = Date.now();
    for (const [name, phone, role] of [
      ['Zhang Wei', '0730-1111111', 'unit technician'],
      ['Liu Yang', '0730-2222222', null],
    ] as const)
      await h.db
        .insertInto('notification_contacts')
        .values({
          customer_id: 'C1',
          account_id: null,
          name,
          role,
          phone,
          email: null,
          language: 'zh',
          channels: '[]',
          quiet_from: null,
          quiet_to: null,
          time_zone: 'Asia/Shanghai',
          created_at: now,
          updated_at: now,
        })
        .execute();
    const opened = await inTransaction(h.db, (tx) =>
      h!.tickets.openForIncident(tx, {
        incidentId: 77,
        vehicleId: 'V1',
        customerId: 'C1',
        level: 'urgent',
        title: 'V1: power loss predicted',
        need: 'battery under 30 min',
        faultCode: 'PWR-LOSS-PREDICTED',
        snapshot: undefined,
      }),
    );
    expect(opened.ticket.contacts).toEqual([
      { name: 'Zhang Wei', phone: '0730-1111111', role: 'unit technician' },
      { name: 'Liu Yang', phone: '0730-2222222' },
    ]);
    // the plan recommends 紧急模式; the ticket's mode stays unset until the user asks for it
    expect(h.tickets.planOf(opened.ticket)?.recommendedMode).toBe('emergency_replacement');
    expect(opened.ticket).toMatchObject({ serviceMode: null, proposedLevel: 'urgent', levelConfirmedAt: null });
    const edited = await h.tickets.setSite(
      opened.ticket.id,
      { contacts: [{ name: 'Zhang Wei', phone: '0730-1111111' }], place: 'Yueyang depot', province: 'in' },
      'desk-chen',
    );
    expect(edited).toMatchObject({ place: 'Yueyang depot', province: 'in', contacts: [{ name: 'Zhang Wei' }] });
  });

  it('THIRTY_MINUTE_RULE=in_province: an out-of-province (省外) task has no 30-minute deadlines; an in-province one has', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'], now: T0 });
    h = await startDiagnostics({ now: () => Date.now(), env: { THIRTY_MINUTE_RULE: 'in_province' } });
    const out = await h.tickets.open({ ...hotline, level: 'urgent', province: 'out' }, 'desk');
    const placedLater = await h.tickets.open({ ...hotline, level: 'urgent' }, 'desk');
    const inside = await h.tickets.open({ ...hotline, level: 'urgent', province: 'in' }, 'desk');
    expect(out.deadlinesApply).toBe(false);
    expect(placedLater.deadlinesApply).toBe(true);
    await h.tickets.setSite(placedLater.id, { province: 'out' }, 'desk');
    await advanceTimers(31 * 60_000);
    expect(breaches().map((b) => [b.ticket.id, b.deadline])).toEqual([
      [inside.id, 'work_content'],
      [inside.id, 'plan'],
    ]);
    expect(() => loadConfig({ THIRTY_MINUTE_RULE: 'province' })).toThrow(
      /THIRTY_MINUTE_RULE="province": THIRTY_MINUTE_RULE must be all .* or in_province/,
    );
  });
});

describe('migration 0023', () => {
  it('moves the 常规 (routine) tickets to service orders and cancels the open ones; an assignee becomes the leader', async () => {
    const db = await openTestRecords();
    try {
      const migrator = new Migrator({ db, provider: migrationProvider(TEST_RECORDS_DIALECT) });
      expect((await migrator.migrateTo('0021_vehicle_units')).error).toBeUndefined();
      const at = 1_800_000_000_000;
      const rows: [string, string, string | null, string][] = [
        ['EM-CA-0001', 'routine', 'training', 'received'],
        ['EM-CA-0002', 'routine', 'remote_support', 'closed'],
        ['EM-CA-0003', 'urgent', null, 'received'],
      ];
      for (const [i, [number, level, mode, status]] of rows.entries())
        await sql`insert into tickets (number, unit_seq, source, vehicle_id, customer_id, level, status, title, need, contacts,
            fault_code, incident_id, service_mode, assignee, escalated_to, received_at, work_content_due_at,
            work_content_done_at, plan_due_at, plan_done_at, breaches, plan_ref, snapshot, updated_at, is_open, queue_due_at)
          values (${number}, ${i + 1}, 'customer', null, 'CA', ${level}, ${status}, 'title', 'need', '[]', null, null, ${mode},
            null, null, ${at}, ${at + 1800000}, null, null, null, '[]', null, null, ${at}, ${status === 'closed' ? 0 : 1},
            ${at + 1800000})`.execute(db);
      await sql`update tickets set assignee = 'eng-li' where number = 'EM-CA-0003'`.execute(db);
      expect((await migrator.migrateToLatest()).error).toBeUndefined();
      // the single assignee so far is the response team's leader
      const team = await db
        .selectFrom('ticket_team_members')
        .select(['ticket_id', 'account_id', 'team_role'])
        .execute();
      expect(team.map((m) => [Number(m.ticket_id), m.account_id, m.team_role])).toEqual([[3, 'eng-li', 'leader']]);
      const orders = await db
        .selectFrom('service_orders')
        .select(['number', 'kind', 'status', 'from_ticket_id'])
        .orderBy('id')
        .execute();
      expect(orders.map((o) => [o.number, o.kind, o.status, Number(o.from_ticket_id)])).toEqual([
        ['SO-CA-0001', 'training', 'requested', 1],
        ['SO-CA-0002', 'patrol_inspection', 'done', 2],
      ]);
      const tickets = await db
        .selectFrom('tickets')
        .select(['number', 'level', 'status', 'is_open', 'service_order_id', 'proposed_level'])
        .orderBy('id')
        .execute();
      expect(tickets.map((t) => [t.number, t.level, t.status, Number(t.is_open), t.service_order_id])).toEqual([
        ['EM-CA-0001', 'urgent', 'cancelled', 0, 1],
        ['EM-CA-0002', 'urgent', 'closed', 0, 2],
        ['EM-CA-0003', 'urgent', 'received', 1, null],
      ]);
      const moved = await db
        .selectFrom('ticket_timeline')
        .select(['ticket_id', 'note'])
        .where('action', '=', 'moved_to_service_order')
        .execute();
      expect(moved.map((m) => m.note)).toEqual([
        '常规 (routine) is no emergency level: moved to service order SO-CA-0001',
        '常规 (routine) is no emergency level: moved to service order SO-CA-0002',
      ]);
    } finally {
      await db.destroy();
    }
  });
});
