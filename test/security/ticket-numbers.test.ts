import { Migrator } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { insertTicket, ticketNumber } from '../../diagnostics/tickets/records.ts';
import type { Ticket } from '../../diagnostics/types.ts';
import { inTransaction } from '../../records/db.ts';
import { openTestRecords, TEST_RECORDS_DIALECT } from '../helpers/records.ts';
import { migrationProvider } from '../../records/migrations.ts';
import { startWeb, type Agent, type TestWeb } from '../web/helpers.ts';

/**
 * Issue 16, item 10: ticket numbers were one global sequence (`EMyyyymmdd-<row id>`), so the gaps
 * between a customer's own ticket numbers told it how many tickets the other units had opened. Now
 * each customer unit numbers its own tickets (`EM-<unit>-0001`, …), advanced in the transaction
 * that opens the ticket.
 */
describe('ticket numbers per customer unit', () => {
  let w: TestWeb;
  let custA: Agent;
  let dispatcher: Agent;
  beforeEach(async () => {
    w = await startWeb();
    custA = await w.login('cust-a');
    dispatcher = await w.login('dispatcher');
  });
  afterEach(async () => {
    await w.close();
  });

  const numbersSeenBy = async (agent: Agent): Promise<string[]> => {
    const res = await agent.get('/api/tickets');
    expect(res.statusCode, res.body).toBe(200);
    return (res.json().tickets as Ticket[]).map((t) => t.number).sort();
  };

  it('unit B opening tickets leaves no gaps in unit A’s numbers', async () => {
    const custB = await w.login('cust-b');
    const opened: Ticket[] = [];
    opened.push(await w.ticket('VB1'));
    opened.push(await w.ticket('VB1', 'urgent'));
    opened.push(await w.ticket('VA1'));
    const byB = await custB.post('/api/tickets', {
      vehicleId: 'VB1',
      title: 'No power',
      need: 'Dark since 08:00',
      contacts: [{ name: 'Wang', phone: '0730-1' }],
    });
    expect(byB.statusCode, byB.body).toBe(201);
    opened.push(byB.json().ticket as Ticket);
    opened.push(await w.ticket('VB1', 'urgent'));
    const byA = await custA.post('/api/tickets', {
      vehicleId: 'VA1',
      title: 'No power',
      need: 'Dark since 09:00',
      contacts: [{ name: 'Li', phone: '0730-2' }],
    });
    expect(byA.statusCode, byA.body).toBe(201);
    opened.push(byA.json().ticket as Ticket);
    opened.push(await w.ticket('VA1', 'urgent'));

    // A's customer: 1, 2, 3 of its own unit, whatever B opened in between
    expect(await numbersSeenBy(custA)).toEqual(['EM-CA-0001', 'EM-CA-0002', 'EM-CA-0003']);
    expect(await numbersSeenBy(custB)).toEqual(['EM-CB-0001', 'EM-CB-0002', 'EM-CB-0003', 'EM-CB-0004']);
    // one ticket's own page says the same number
    const third = opened.at(-1)!;
    expect((await custA.get(`/api/tickets/${third.id}`)).json().ticket.number).toBe('EM-CA-0003');
    // the duty desk sees every unit's tickets, each with its unit and its number
    const all = (await dispatcher.get('/api/tickets')).json().tickets as Ticket[];
    expect(all.map((t) => [t.customerId, t.number]).sort()).toEqual(opened.map((t) => [t.customerId, t.number]).sort());
    expect(new Set(all.map((t) => t.number)).size).toBe(opened.length);
  });

  it('numbers given at the same time in one unit are distinct and consecutive', async () => {
    const got = await Promise.all(Array.from({ length: 8 }, () => w.ticket('VA1', 'urgent')));
    expect(got.map((t) => t.number).sort()).toEqual(
      Array.from({ length: 8 }, (_, i) => `EM-CA-${String(i + 1).padStart(4, '0')}`),
    );
  });

  it('the number format cannot collide between units, unit-less tickets and the older numbers', () => {
    expect(ticketNumber('CA', 3)).toBe('EM-CA-0003');
    expect(ticketNumber(null, 3)).toBe('EM-0003');
    // a unit named like a number of another unit still ends in a different sequence part
    expect(ticketNumber('CA-0003', 1)).toBe('EM-CA-0003-0001');
    expect(ticketNumber('CA', 12_345)).toBe('EM-CA-12345');
  });
});

describe('migration 0019', () => {
  it('keeps the numbers already given and goes on from each unit’s own count', async () => {
    const db = await openTestRecords();
    try {
      const migrator = new Migrator({ db, provider: migrationProvider(TEST_RECORDS_DIALECT) });
      expect((await migrator.migrateTo('0016_session_guests_photos')).error).toBeUndefined();
      const at = 1_800_000_000_000;
      const old: [string, string, number][] = [
        // number, unit, received at (ids in this order: B's tickets between A's)
        ['EM20270115-00001', 'CA', at],
        ['EM20270115-00002', 'CB', at + 1],
        ['EM20270115-00003', 'CB', at + 2],
        ['EM20270115-00004', 'CA', at + 3],
      ];
      for (const [number, unit, receivedAt] of old)
        await db
          .insertInto('tickets')
          .values({
            number,
            source: 'hotline',
            vehicle_id: null,
            customer_id: unit,
            level: 'urgent',
            status: 'received',
            title: 't',
            need: 'n',
            contacts: '[]',
            fault_code: null,
            incident_id: null,
            service_mode: null,
            assignee: null,
            escalated_to: null,
            received_at: receivedAt,
            work_content_due_at: receivedAt + 1,
            work_content_done_at: null,
            plan_due_at: null,
            plan_done_at: null,
            breaches: '[]',
            plan_ref: null,
            snapshot: null,
            updated_at: receivedAt,
            is_open: 1,
            queue_due_at: receivedAt + 1,
          })
          .execute();
      expect((await migrator.migrateToLatest()).error).toBeUndefined();
      const rows = await db.selectFrom('tickets').select(['number', 'customer_id', 'unit_seq']).orderBy('id').execute();
      expect(rows.map((r) => [r.number, r.customer_id, Number(r.unit_seq)])).toEqual([
        ['EM20270115-00001', 'CA', 1],
        ['EM20270115-00002', 'CB', 1],
        ['EM20270115-00003', 'CB', 2],
        ['EM20270115-00004', 'CA', 2],
      ]);
      const next = await inTransaction(db, (tx) =>
        insertTicket(
          tx,
          {
            source: 'hotline',
            vehicleId: null,
            customerId: 'CA',
            level: 'urgent',
            title: 't',
            need: 'n',
            contacts: [],
            faultCode: null,
            incidentId: null,
            serviceMode: null,
            planRef: null,
            snapshot: undefined,
          },
          { workContentDueAt: at + 10, planDueAt: null },
          'desk',
          at + 5,
        ),
      );
      expect(next.number).toBe('EM-CA-0003');
    } finally {
      await db.destroy();
    }
  });
});
