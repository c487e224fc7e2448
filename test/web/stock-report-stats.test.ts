import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ledgerReportParts } from '../../platform/report-parts.ts';
import { renderReportHtml } from '../../reports/html.ts';
import { SERVICE_REPORT } from '../../reports/service-report-layout.ts';
import { startWeb, type Agent, type TestWeb } from './helpers.ts';
import { seedStock } from './stock-helpers.ts';

const HOUR = 3_600_000;

/**
 * Consumed parts feed the service report and the statistics (issue 14 item 3): the report's
 * "parts used" is the stock ledger's consumptions (part number, names, quantity, the store) merged
 * with the ticket's free lines; the statistics count parts consumed per part, faults and
 * replacements per supplier part, and partner performance, in SQL.
 */
describe('consumed parts in the service report and the statistics', () => {
  let w: TestWeb;
  let supply: Agent;
  let dispatcher: Agent;
  let engineer: Agent;
  let admin: Agent;
  let custA: Agent;
  let ticketId: number;

  beforeAll(async () => {
    w = await startWeb();
    supply = await w.login('supply');
    dispatcher = await w.login('dispatcher');
    engineer = await w.login('engineer');
    admin = await w.login('admin');
    custA = await w.login('cust-a');
    await seedStock(supply);
    expect(
      (await supply.post('/api/stock/receipts', { partNo: 'FF-5421', storeId: 'CENTRAL', qty: 5, reason: 'opening' }))
        .statusCode,
    ).toBe(201);
    // a ticket whose fuel filters were reserved, handed to the engineer and used (two of them)
    const t = await w.ticket('VA1', 'urgent', 'GEN-START-FAIL');
    ticketId = t.id;
    const r = await dispatcher.post(`/api/tickets/${t.id}/reservations`, {
      lines: [{ partNo: 'FF-5421', storeId: 'CENTRAL', qty: 2 }],
    });
    expect(r.statusCode, r.body).toBe(201);
    const reservationId = (r.json().reservations as { id: number }[])[0]!.id;
    const issued = await supply.post(`/api/tickets/${t.id}/shipments`, {
      mode: 'issue',
      reservationIds: [reservationId],
      carrier: 'service vehicle',
      trackingNo: '-',
      consignee: 'engineer',
      address: 'Site A',
    });
    expect(issued.statusCode, issued.body).toBe(201);
    for (let i = 0; i < 2; i++)
      expect((await engineer.post(`/api/tickets/${t.id}/consumption`, { reservationId, qty: 1 })).statusCode).toBe(200);
    // the statistics' windows end now (exclusive): a minute later
    w.advance(60_000);
  });
  afterAll(async () => w?.close());

  it('prints the ledger’s consumptions in the service report: names in the report’s language, part number, quantity', async () => {
    const zh = await dispatcher.get(`/api/tickets/${ticketId}/report.html?lang=zh`);
    expect(zh.statusCode, zh.body.slice(0, 300)).toBe(200);
    expect(zh.body).toContain('<td>燃油滤清器</td><td>FF-5421</td><td>2 pc</td>');
    const en = await dispatcher.get(`/api/tickets/${ticketId}/report.html?lang=en`);
    expect(en.body).toContain('<td>Fuel filter</td><td>FF-5421</td><td>2 pc</td>');
    // the report is the document both sides sign: the customer's copy is the same, and neither names the store
    const mine = await custA.get(`/api/tickets/${ticketId}/report.html?lang=zh`);
    expect(mine.statusCode).toBe(200);
    expect(mine.body).toContain('燃油滤清器');
    for (const body of [zh.body, en.body, mine.body]) expect(body).not.toContain('CENTRAL');
  });

  it('the layout prints the store a part left when the model carries it (a staff-side model)', async () => {
    const t = await w.tickets.get(ticketId);
    const parts = await ledgerReportParts((id) => w.stock.consumed(id)).partsUsed(t);
    const model = SERVICE_REPORT.build({
      ticket: t,
      timeline: [],
      people: {},
      vehicle: null,
      unit: null,
      sessions: [],
      telemetry: null,
      parts,
      resolution: null,
      generatedAt: w.now(),
    });
    expect(renderReportHtml(SERVICE_REPORT.layout(model, 'zh', 'UTC'))).toContain('<td>出库仓库 CENTRAL</td>');
    expect(renderReportHtml(SERVICE_REPORT.layout(model, 'en', 'UTC'))).toContain('<td>from store CENTRAL</td>');
  });

  it('merges the ticket’s free lines, leaving out those that name a consumed part number', async () => {
    const t = await w.tickets.get(ticketId);
    const parts = ledgerReportParts((id) => w.stock.consumed(id));
    const lines = await parts.partsUsed({
      ...t,
      resolution: { rootCause: 'filter clogged', workDone: 'replaced', partsUsed: ['2× ff-5421', 'cable ties'] },
    });
    expect(lines).toEqual([
      {
        name: 'Fuel filter',
        names: { en: 'Fuel filter', zh: '燃油滤清器' },
        partNo: 'FF-5421',
        quantity: 2,
        unit: 'pc',
        note: null,
        store: 'CENTRAL',
      },
      { name: 'cable ties', partNo: null, quantity: null, unit: null, note: null },
    ]);
    // a ticket with nothing booked keeps its free lines
    const other = await w.ticket('VA1', 'urgent', 'PWR-MAINS-LOST');
    expect(
      await parts.partsUsed({ ...other, resolution: { rootCause: 'x', workDone: 'y', partsUsed: ['fuse 10 A'] } }),
    ).toEqual([{ name: 'fuse 10 A', partNo: null, quantity: null, unit: null, note: null }]);
  });

  it('counts parts consumed per part, faults and replacements per supplier part, and partner performance', async () => {
    expect(
      (await engineer.post('/api/suppliers', { id: 'S-1', name: 'Hunan Filters', contact: 'Wang' })).statusCode,
    ).toBe(201);
    expect(
      (await engineer.post(`/api/tickets/${ticketId}/quality-records`, { partNumber: 'FF-5421', supplierId: 'S-1' }))
        .statusCode,
    ).toBe(201);
    const partner = await dispatcher.post('/api/partners', {
      kind: 'repair_shop',
      name: 'Changsha Repairs',
      regions: ['Changsha'],
      capabilities: ['generator'],
      reputation: 4,
      technicalStrength: 4,
      contacts: [{ name: 'Liu', phone: '0731-5550001' }],
    });
    expect(partner.statusCode, partner.body).toBe(201);
    const partnerId = partner.json().partner.id as number;
    const eta = w.now() + HOUR;
    const d1 = (
      await dispatcher.post(`/api/tickets/${ticketId}/partner-dispatches`, { partnerId, task: 'a', eta })
    ).json().dispatch.id;
    const d2 = (
      await dispatcher.post(`/api/tickets/${ticketId}/partner-dispatches`, { partnerId, task: 'b', eta })
    ).json().dispatch.id;
    await dispatcher.patch(`/api/partner-dispatches/${d1}`, { arrivedAt: eta - 60_000, outcome: 'resolved' });
    await dispatcher.patch(`/api/partner-dispatches/${d2}`, {
      arrivedAt: eta + 40 * 60_000,
      outcome: 'resolved',
      rework: true,
    });

    w.advance(60_000);
    const res = await supply.get('/api/stats/resources');
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body.parts).toEqual([
      { partNo: 'FF-5421', name: { en: 'Fuel filter', zh: '燃油滤清器' }, unit: 'pc', qty: 2, tickets: 1 },
    ]);
    expect(body.supplierParts).toEqual([
      { supplierId: 'S-1', partNumber: 'FF-5421', failures: 1, tickets: 1, replaced: 2 },
    ]);
    expect(body.partners).toEqual([
      {
        partnerId,
        name: 'Changsha Repairs',
        kind: 'repair_shop',
        dispatches: 2,
        arrived: 2,
        onTime: 1,
        onTimeRate: 0.5,
        completed: 2,
        rework: 1,
        reworkRate: 0.5,
        avgLateMin: 40,
      },
    ]);
    // a window before any of it: nothing
    const before = await admin.get(
      `/api/stats/resources?from=${w.now() - 20 * 86_400_000}&to=${w.now() - 10 * 86_400_000}`,
    );
    expect(before.json()).toMatchObject({ parts: [], supplierParts: [], partners: [] });
    // who reads it: the duty desk, management and supply chain; not engineers or customers
    expect((await dispatcher.get('/api/stats/resources')).statusCode).toBe(200);
    expect((await engineer.get('/api/stats/resources')).statusCode).toBe(403);
    expect((await custA.get('/api/stats/resources')).statusCode).toBe(403);

    // the service statistics by supplier part: the attributed ticket in its group, the others in ''
    const by = (await admin.get('/api/stats/service?by=supplier_part')).json();
    expect(by.rows.map((r: { key: string; tickets: number }) => [r.key, r.tickets])).toEqual([
      ['', 1],
      ['S-1:FF-5421', 1],
    ]);
    expect(by.seams).toEqual({});
  });

  it('supply chain (供应链管理部) keeps suppliers, evaluates them and tracks quality feedback; attribution stays with the ticket’s engineers', async () => {
    const made = await supply.post('/api/suppliers', { id: 'S-2', name: 'Relay Works', contact: 'Zhao' });
    expect(made.statusCode, made.body).toBe(201);
    expect((await supply.patch('/api/suppliers/S-2', { status: 'approved' })).statusCode).toBe(200);
    expect(
      (await supply.post('/api/suppliers/S-2/evaluations', { quality: 4, delivery: 3, service: 5 })).statusCode,
    ).toBe(201);
    // the quality record on S-1 (from the ticket) gets feedback and its answer from supply chain
    const s1 = (await supply.get('/api/suppliers/S-1')).json() as { records: { id: number }[] };
    expect(s1.records).toHaveLength(1);
    const sent = await supply.post('/api/suppliers/S-1/feedback', {
      partNumber: 'FF-5421',
      recordIds: [s1.records[0]!.id],
      subject: 'Clogged filters',
      text: 'Two filters clogged within a month',
    });
    expect(sent.statusCode, sent.body).toBe(201);
    const answered = await supply.post(`/api/quality-feedback/${sent.json().feedback.id}/answer`, {
      answer: 'Batch 2026-11 recalled',
    });
    expect(answered.json()).toMatchObject({ feedback: { state: 'answered' } });
    expect((await supply.get('/api/quality/failure-rates')).statusCode).toBe(200);
    // supply chain sees no ticket: the attribution is made from the ticket by the technical centre
    expect(
      (await supply.post(`/api/tickets/${ticketId}/quality-records`, { partNumber: 'FF-5421', supplierId: 'S-2' }))
        .statusCode,
    ).toBe(403);
    // the duty desk still reads but does not keep suppliers
    expect((await dispatcher.post('/api/suppliers', { id: 'S-3', name: 'x', contact: 'y' })).statusCode).toBe(403);
  });

  it('puts the partner dispatch, its outcome and the cause attribution on the ticket’s timeline, for staff only', async () => {
    const timeline = async (as: Agent) =>
      ((await as.get(`/api/tickets/${ticketId}`)).json() as { timeline: { action: string; note: string | null }[] })
        .timeline;
    const entries = (await timeline(dispatcher)).filter((e) =>
      ['partner_dispatched', 'partner_outcome', 'quality_attributed'].includes(e.action),
    );
    expect(entries.map((e) => e.action)).toEqual([
      'quality_attributed',
      'partner_dispatched',
      'partner_dispatched',
      'partner_outcome',
      'partner_outcome',
    ]);
    expect(entries[0]!.note).toBe('cause attributed to part FF-5421 of supplier S-1');
    expect(entries[1]!.note).toMatch(/^Changsha Repairs \(repair_shop\) dispatched: a; ETA \d{4}-/);
    expect(entries[3]!.note).toMatch(/^Changsha Repairs: arrived .* \(on time\); outcome resolved$/);
    expect(entries[4]!.note).toMatch(/^Changsha Repairs: arrived .* \(late\); outcome resolved, rework$/);
    // the unit sees that they happened (as every staff-only step), never the partner, supplier or part
    const mine = (await timeline(custA)).filter((e) =>
      ['partner_dispatched', 'partner_outcome', 'quality_attributed'].includes(e.action),
    );
    expect(mine.map((e) => e.action)).toEqual(entries.map((e) => e.action));
    expect(mine.every((e) => e.note === null)).toBe(true);
  });
});
