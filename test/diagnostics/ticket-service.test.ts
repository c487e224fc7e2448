import { afterEach, describe, expect, it } from 'vitest';
import { createInProcessBus } from '../../core/bus.ts';
import type { PlatformEvents } from '../../core/events.ts';
import { silentLogger } from '../../core/logger.ts';
import { createTicketService, TICKET_SNAPSHOT } from '../../diagnostics/tickets/service.ts';
import type { Ticket } from '../../diagnostics/types.ts';
import { loadConfig } from '../../platform/config.ts';
import { createDiagnosticsStage } from '../../platform/diagnostics.ts';
import type { TelemetryFrame } from '../../protocol/index.ts';
import { inTransaction } from '../../records/db.ts';
import { openTestRecords } from '../helpers/records.ts';
import { healthy, onBattery, T0 } from './fixtures.ts';
import { PLANS, RULES, startDiagnostics } from './harness.ts';

/** Mains lost at 10 s, generator never starts, battery draining: an extra-urgent GEN-START-FAIL ticket. */
const cascade = (seconds: number): TelemetryFrame[] =>
  Array.from({ length: seconds }, (_, i) =>
    i < 10 ? healthy(i, T0 + i * 1000) : onBattery(i, T0 + i * 1000, Math.max(0, 40 - (i - 10) / 30), -60),
  );

const hotline = {
  source: 'hotline' as const,
  customerId: 'C1',
  level: 'urgent' as const,
  title: 'No power in shelter',
  need: 'Shelter dark since 08:00',
  contacts: [{ name: 'Zhang', phone: '0730-0000000' }],
};

describe('the ticket service', () => {
  let h: Awaited<ReturnType<typeof startDiagnostics>> | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });
  const opened = () =>
    h!.events.filter((e) => e.name === 'ticket.opened').map((e) => (e.payload as { ticket: Ticket }).ticket);

  it('opens a ticket by hand with the fault’s plan, its service mode and the vehicle’s recent telemetry', async () => {
    h = await startDiagnostics();
    await h.feed('V3', cascade(60).slice(0, 30));
    const t = await h.tickets.open({ ...hotline, vehicleId: 'V3', faultCode: 'GEN-START-FAIL' }, 'desk-chen');
    expect(t).toMatchObject({
      source: 'hotline',
      status: 'received',
      planRef: { code: 'GEN-START-FAIL', version: 1 },
      serviceMode: PLANS.get('GEN-START-FAIL')!.recommendedMode,
    });
    expect(((await h.tickets.snapshot(t.id)) as { ts: number[] }).ts.length).toBe(30);
    // announced once, after the commit, as stored
    expect(opened()).toEqual([await h.tickets.get(t.id)]);
    expect(h.tickets.planOf(t)?.code).toBe('GEN-START-FAIL');

    // the desk's own choice of service mode wins; no vehicle, no telemetry, no plan
    const other = await h.tickets.open({ ...hotline, serviceMode: 'training' }, 'desk-chen');
    expect(other).toMatchObject({ serviceMode: 'training', planRef: null, vehicleId: null });
    expect(await h.tickets.snapshot(other.id)).toBeNull();
    expect(h.tickets.planOf(other)).toBeUndefined();
  });

  it('announces a change only once it is committed; a refused change writes and announces nothing', async () => {
    h = await startDiagnostics();
    const t = await h.tickets.open(hotline, 'desk');
    const updates = () => h!.events.filter((e) => e.name === 'ticket.updated').map((e) => e.payload);
    await expect(h.tickets.transition(t.id, 'close', 'desk')).rejects.toMatchObject({ code: 'INVALID_TRANSITION' });
    expect(updates()).toEqual([]);
    expect((await h.tickets.timeline(t.id)).map((e) => e.action)).toEqual(['received']);

    const moved = await h.tickets.transition(t.id, 'determine_work_content', 'desk', 'checked by phone');
    expect(updates()).toEqual([{ ticket: moved, action: 'determine_work_content' }]);
    expect(moved).toMatchObject({ status: 'work_content_determined', workContentDoneAt: expect.any(Number) });
    await h.tickets.assign(t.id, 'eng-li', 'desk');
    await h.tickets.comment(t.id, 'eng-li', 'on my way');
    expect(updates().map((u) => (u as { action: string }).action)).toEqual([
      'determine_work_content',
      'assigned',
      'comment',
    ]);
  });

  it('an incident’s ticket, opened inside the rules’ transaction, is announced by the caller after commit and never on rollback', async () => {
    h = await startDiagnostics();
    const { db, tickets } = h;
    const input = {
      incidentId: 77,
      vehicleId: 'V1',
      customerId: 'C1',
      level: 'urgent' as const,
      title: 'V1: fault',
      need: 'GEN-OVERHEAT detected automatically',
      faultCode: 'NO-SUCH-CODE',
      planFallback: ['GEN-START-FAIL'],
      snapshot: undefined,
    };
    await expect(
      inTransaction(db, async (tx) => {
        await tickets.openForIncident(tx, input);
        throw new Error('the alarm could not be linked');
      }),
    ).rejects.toThrow('could not be linked');
    expect(await tickets.list()).toEqual([]);

    const first = await inTransaction(db, (tx) => tickets.openForIncident(tx, input));
    expect(first.created).toBe(true);
    expect(first.ticket.planRef).toEqual({ code: 'GEN-START-FAIL', version: 1 }); // the root's plan
    expect(opened()).toEqual([]);
    await first.announce();
    expect(opened()).toEqual([first.ticket]);

    const again = await inTransaction(db, (tx) => tickets.openForIncident(tx, input));
    expect(again).toMatchObject({ created: false, ticket: { id: first.ticket.id } });
    await again.announce();
    expect(opened()).toHaveLength(1);

    // the level only goes up, and is announced by the caller too
    const raised = await inTransaction(db, (tx) =>
      tickets.raiseLevel(tx, first.ticket.id, 'extra_urgent', 'system', 'worse'),
    );
    const lower = await inTransaction(db, (tx) =>
      tickets.raiseLevel(tx, first.ticket.id, 'urgent', 'system', 'better'),
    );
    expect(h.events.filter((e) => e.name === 'ticket.updated')).toHaveLength(0);
    await raised.announce();
    await lower.announce();
    expect(h.events.filter((e) => e.name === 'ticket.updated').map((e) => e.payload)).toEqual([
      { ticket: raised.ticket, action: 'level_raised' },
    ]);
    expect(lower.ticket.level).toBe('extra_urgent');
  });

  it('faults of several vehicles handled at once each get their own ticket, announced once', async () => {
    h = await startDiagnostics();
    const frames = cascade(400);
    for (let i = 0; i < frames.length; i += 10) {
      const chunk = frames.slice(i, i + 10);
      await Promise.all(['V1', 'V2', 'V3'].map((v) => h!.feed(v, chunk)));
    }
    const list = await h.tickets.list();
    expect(list.map((t) => t.vehicleId).sort()).toEqual(['V1', 'V2', 'V3']);
    expect(
      opened()
        .map((t) => t.id)
        .sort(),
    ).toEqual(list.map((t) => t.id).sort());
    for (const t of list) expect(t).toMatchObject({ faultCode: 'GEN-START-FAIL', level: 'extra_urgent' });
  });
});

describe('the ticket snapshot window', () => {
  it('is 15 minutes and 300 points unless the service is given another', async () => {
    expect(TICKET_SNAPSHOT).toEqual({ beforeMs: 15 * 60_000, maxPoints: 300 });
    const db = await openTestRecords();
    try {
      const asked: number[][] = [];
      const deps = {
        db,
        bus: createInProcessBus<PlatformEvents>(silentLogger()),
        log: silentLogger(),
        plans: PLANS,
        now: () => T0,
        series: async (vehicleId: string, from: number, to: number, maxPoints: number) => {
          asked.push([from, to, maxPoints]);
          return { vehicleId, from, to, bucketMs: 1000, ts: [from], count: [1], fields: {} };
        },
      };
      await createTicketService(deps, { dutyLead: 'lead' }).snapshotAt('V1', T0 - 1000);
      await createTicketService(deps, { dutyLead: 'lead', snapshot: { beforeMs: 60_000, maxPoints: 10 } }).open(
        { ...hotline, vehicleId: 'V1' },
        'desk',
      );
      // the rules' snapshot ends now, not at the fault: what happened since is in it too
      expect(asked).toEqual([
        [T0 - 1000 - 15 * 60_000, T0, 300],
        [T0 - 60_000, T0, 10],
      ]);
    } finally {
      await db.destroy();
    }
  });

  it('the platform’s wiring passes its window to the service', async () => {
    const db = await openTestRecords();
    try {
      const asked: number[] = [];
      const stage = createDiagnosticsStage(
        {
          bus: createInProcessBus<PlatformEvents>(silentLogger()),
          records: db,
          log: silentLogger(),
          counters: { inc: () => undefined } as never,
          now: () => T0,
          vehicles: { get: async () => undefined, ids: async () => [] },
          telemetry: {
            series: async (q) => {
              asked.push(q.to - q.from, q.maxPoints);
              return { vehicleId: q.vehicleId, from: q.from, to: q.to, bucketMs: 1000, ts: [], count: [], fields: {} };
            },
            frames: async () => [],
          },
          rules: RULES,
          plans: PLANS,
        },
        loadConfig({}),
        { snapshot: { beforeMs: 5000, maxPoints: 7 } },
      );
      await stage.tickets.snapshotAt('V1', T0);
      expect(asked).toEqual([5000, 7]);
    } finally {
      await db.destroy();
    }
  });
});

describe('escalating a missed deadline (issue 15, item 3)', () => {
  it('to the accounts the escalation names (deduplicated); to DUTY_LEAD only when it names nobody or fails', async () => {
    const db = await openTestRecords();
    let clock = T0;
    let answer: () => Promise<string[]> = async () => ['desk-1', 'desk-2', 'desk-1'];
    const bus = createInProcessBus<PlatformEvents>(silentLogger());
    const told: { escalatedTo: string; escalatedAccounts: string[] }[] = [];
    bus.on('ticket.deadline_breached', (e) => void told.push(e));
    const tickets = createTicketService(
      {
        db,
        bus,
        log: silentLogger(),
        plans: PLANS,
        now: () => clock,
        series: async (vehicleId, from, to) => ({ vehicleId, from, to, bucketMs: 0, ts: [], count: [], fields: {} }),
        escalation: () => answer(),
      },
      { dutyLead: 'lead-on-paper' },
    );
    try {
      const breach = async () => {
        const t = await tickets.open({ ...hotline, level: 'extra_urgent' }, 'desk');
        clock += 31 * 60_000;
        await tickets.start();
        tickets.stop();
        return { t: await tickets.get(t.id), timeline: await tickets.timeline(t.id) };
      };
      const first = await breach();
      expect(first.t).toMatchObject({ escalatedTo: 'desk-1', escalatedAccounts: ['desk-1', 'desk-2'] });
      expect(first.timeline.find((e) => e.action === 'escalated')?.note).toBe('escalated to desk-1, desk-2');
      expect(told).toEqual([
        expect.objectContaining({ escalatedTo: 'desk-1', escalatedAccounts: ['desk-1', 'desk-2'] }),
      ]);

      answer = async () => [];
      expect((await breach()).t.escalatedAccounts).toEqual(['lead-on-paper']);
      answer = async () => {
        throw new Error('records unavailable');
      };
      expect((await breach()).t.escalatedAccounts).toEqual(['lead-on-paper']);
    } finally {
      tickets.stop();
      await db.destroy();
    }
  });
});
