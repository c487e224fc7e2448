import { Migrator } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isPlatformError, type ErrorCode } from '../../core/errors.ts';
import { silentLogger } from '../../core/logger.ts';
import {
  createServiceOrders,
  type ServiceOrderKind,
  type ServiceOrders,
} from '../../diagnostics/service-orders/orders.ts';
import type { RecordsDb } from '../../records/db.ts';
import { migrationProvider } from '../../records/migrations.ts';
import { openTestRecords, TEST_RECORDS_DIALECT } from '../helpers/records.ts';
import { buildOrderReport } from '../../reports/order-report.ts';
import { layoutPatrolReport } from '../../reports/patrol-report-layout.ts';
import { layoutTrainingReport } from '../../reports/training-report-layout.ts';

async function code(p: Promise<unknown>): Promise<ErrorCode | 'none'> {
  try {
    await p;
    return 'none';
  } catch (e) {
    if (isPlatformError(e)) return e.code;
    throw e;
  }
}

/** The steps and records of each kind of service order, in the domain (diagnostics/service-orders/order-records.ts). */
describe('service order records', () => {
  let db: RecordsDb;
  let orders: ServiceOrders;
  let clock = 1_000_000;
  beforeEach(async () => {
    db = await openTestRecords();
    orders = createServiceOrders({ db, log: silentLogger(), now: () => clock });
  });
  afterEach(async () => db.destroy());

  const request = (kind: ServiceOrderKind) =>
    orders.request(
      {
        kind,
        customerId: 'CA',
        vehicleId: 'VA1',
        title: 't',
        details: 'd',
        place: 'p',
        requestedDate: '2026-12-20',
        people: 1,
        contacts: [{ name: '李伟', phone: '0730' }],
      },
      'cust-a',
    );
  const start = async (id: number) => {
    await orders.act(id, 'schedule', 'desk', { schedule: { scheduledStart: 1, scheduledEnd: null, team: null } });
    await orders.act(id, 'start', 'eng');
  };
  const visit = (findings = [{ text: '蓄电池老化', severity: 'major' as const, needsRepair: true, link: null }]) => ({
    type: 'visit' as const,
    vehicleId: 'VA1',
    equipment: '',
    at: clock,
    stateFound: 'ok',
    readings: '',
    findings,
    workDone: '',
    parts: [],
  });

  it('a record belongs to its kind and to the statuses that take it, each with a stable code', async () => {
    const patrol = await request('patrol_inspection');
    const training = await request('training');
    expect(await code(orders.records.add(patrol.id, visit(), 'eng', null))).toBe('ORDER_STATUS_INVALID');
    expect(await code(orders.records.add(patrol.id, { type: 'log', at: 1, text: 'x' }, 'eng', null))).toBe(
      'ORDER_KIND_MISMATCH',
    );
    // training materials and attendees are prepared before it starts
    const a = await orders.records.add(
      training.id,
      { type: 'attendee', name: '张三', unit: 'u', role: 'r' },
      'eng',
      null,
    );
    expect(
      await code(
        orders.records.add(
          training.id,
          { type: 'assessment', attendeeId: a.id, score: 90, passed: true, note: null },
          'eng',
          null,
        ),
      ),
    ).toBe('ORDER_STATUS_INVALID');
    await start(training.id);
    await orders.records.add(
      training.id,
      { type: 'assessment', attendeeId: a.id, score: 90, passed: true, note: null },
      'eng',
      null,
    );
    // an assessment names an attendee of the same order
    expect(
      await code(
        orders.records.add(
          training.id,
          { type: 'assessment', attendeeId: 999, score: null, passed: false, note: null },
          'eng',
          null,
        ),
      ),
    ).toBe('ORDER_RECORD_NOT_FOUND');
    expect(await code(orders.records.add(4242, visit(), 'eng', null))).toBe('SERVICE_ORDER_NOT_FOUND');
    await orders.act(training.id, 'complete', 'eng', { note: '合格 1 人' });
    expect(
      await code(
        orders.records.add(
          training.id,
          { type: 'session', at: 1, hours: null, topic: 'x', trainer: 'y', place: null },
          'eng',
          null,
        ),
      ),
    ).toBe('ORDER_STATUS_INVALID');
    const r = buildOrderReport({
      order: await orders.get(training.id),
      unit: { id: 'CA', name: null },
      vehicles: {},
      team: [],
      records: await orders.records.list(training.id),
      events: await orders.events(training.id),
      generatedAt: clock,
    });
    expect(r.attendees).toEqual([
      { id: a.id, name: '张三', unit: 'u', role: 'r', assessment: { score: 90, passed: true, note: null } },
    ]);
    expect(r.order.outcome).toBe('合格 1 人');
    const doc = layoutTrainingReport(r, 'zh', 'Asia/Shanghai');
    expect(doc.title).toBe('技术培训服务报告');
  });

  it('the team: order roles only, one leader, not after the order is done; its event names no login id', async () => {
    const o = await request('patrol_inspection');
    expect(
      await code(orders.records.setTeam(o.id, [{ accountId: 'eng', role: 'commander', duty: null }], 'desk')),
    ).toBe('INVALID_ARGUMENT');
    expect(
      await code(
        orders.records.setTeam(
          o.id,
          [
            { accountId: 'a', role: 'leader', duty: null },
            { accountId: 'b', role: 'leader', duty: null },
          ],
          'desk',
        ),
      ),
    ).toBe('INVALID_ARGUMENT');
    await orders.records.setTeam(o.id, [{ accountId: 'eng', role: 'leader', duty: '勘查' }], 'desk');
    expect(await orders.records.team(o.id)).toEqual([{ accountId: 'eng', role: 'leader', duty: '勘查' }]);
    expect((await orders.events(o.id)).at(-1)).toMatchObject({ action: 'team_set', note: 'leader (勘查)' });
    await start(o.id);
    await orders.act(o.id, 'complete', 'eng');
    expect(await code(orders.records.setTeam(o.id, [], 'desk'))).toBe('ORDER_STATUS_INVALID');
  });

  it('a finding is linked once; the customer signs a done order off once; the report shows both sides', async () => {
    const o = await request('patrol_inspection');
    await start(o.id);
    const v = await orders.records.add(o.id, visit(), 'eng', 'internal');
    expect(
      await code(
        orders.records.linkFinding(o.id, v.id, 3, { kind: 'ticket', ticketId: 1, number: 'EM-CA-0001' }, 'eng'),
      ),
    ).toBe('ORDER_RECORD_NOT_FOUND');
    await orders.records.linkFinding(o.id, v.id, 0, { kind: 'ticket', ticketId: 1, number: 'EM-CA-0001' }, 'eng');
    expect(await code(orders.records.findingOpenable(o.id, v.id, 0))).toBe('ORDER_STATUS_INVALID');
    expect(await code(orders.records.signOff(o.id, 'cust-a', '李伟', null))).toBe('ORDER_STATUS_INVALID');
    clock += 60_000;
    await orders.act(o.id, 'complete', 'eng', { note: '完成' });
    await orders.records.signOff(o.id, 'cust-a', '李伟', '同意');
    expect(await code(orders.records.signOff(o.id, 'cust-a', '李伟', null))).toBe('ORDER_ALREADY_SIGNED');
    const order = await orders.get(o.id);
    expect(order.signOff).toEqual({ at: clock, by: 'cust-a', name: '李伟', note: '同意' });
    const r = buildOrderReport({
      order,
      unit: { id: 'CA', name: 'Unit A' },
      vehicles: { VA1: { id: 'VA1', name: 'Shelter', model: 'XJ' } },
      team: [{ name: 'Engineer', role: 'leader', duty: null }],
      records: await orders.records.list(o.id),
      events: await orders.events(o.id),
      generatedAt: clock,
    });
    expect(r.visits[0]).toMatchObject({ what: 'Shelter (VA1)', model: 'XJ' });
    expect(r.signOff).toEqual({ staff: { name: 'eng', at: clock }, customer: order.signOff });
    const doc = layoutPatrolReport(r, 'en', 'Asia/Shanghai');
    const text = JSON.stringify(doc);
    expect(text).toContain('opened EM-CA-0001');
    expect(doc.blocks.find((b) => b.kind === 'signatures')).toMatchObject({
      parties: [{ signed: true }, { signed: true, name: '李伟', note: '同意' }],
    });
  });

  it('migration 0029 goes down and up again (the records tables and the order columns)', async () => {
    const o = await request('patrol_inspection');
    const migrator = new Migrator({ db, provider: migrationProvider(TEST_RECORDS_DIALECT) });
    expect((await migrator.migrateTo('0026_service_records')).error).toBeUndefined();
    const tables = (await db.introspection.getTables()).map((t) => t.name);
    expect(tables).not.toContain('service_order_records');
    expect((await migrator.migrateToLatest()).error).toBeUndefined();
    expect(await orders.get(o.id)).toMatchObject({ application: null, outcome: null, signOff: null });
  });
});
