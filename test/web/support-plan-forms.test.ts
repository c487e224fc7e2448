import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWeb, type Agent, type TestWeb } from './helpers.ts';
import { seedStock } from './stock-helpers.ts';

const MIN = 60_000;

/** Page 1 of a PDF rendered by poppler at 60 dpi: its greyscale pixels' share of non-white, and the PNG's path. */
function render(dir: string, name: string, pdf: Buffer) {
  const file = join(dir, `${name}.pdf`);
  writeFileSync(file, pdf);
  execFileSync('pdftoppm', ['-r', '60', '-f', '1', '-l', '1', '-gray', file, join(dir, `${name}-page`)]);
  execFileSync('pdftoppm', ['-r', '60', '-f', '1', '-l', '1', '-png', file, join(dir, `${name}-page`)]);
  const files = readdirSync(dir);
  const pgm = readFileSync(
    join(
      dir,
      files.find((f) => f.startsWith(`${name}-page`) && f.endsWith('.pgm'))!,
    ),
  );
  const header = pgm
    .subarray(0, 40)
    .toString('latin1')
    .match(/^P5\s+(\d+)\s+(\d+)\s+(\d+)\s/);
  if (!header) throw new Error('not a PGM');
  const pixels = pgm.subarray(header[0].length);
  let dark = 0;
  for (const p of pixels) if (p < 200) dark++;
  return {
    fonts: execFileSync('pdffonts', [file], { encoding: 'utf8' }),
    text: execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' }),
    png: files.find((f) => f.startsWith(`${name}-page`) && f.endsWith('.png')),
    inkShare: dark / pixels.length,
  };
}

describe('the support plan’s forms as PDF (专项保障工作计划, 售后服务工作联系函, 售后服务发运通知)', () => {
  let w: TestWeb;
  let dispatcher: Agent;
  let supply: Agent;
  let custA: Agent;
  let dir: string;
  let ticketId = 0;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pw-plan-forms-'));
    w = await startWeb();
    dispatcher = await w.login('dispatcher');
    supply = await w.login('supply');
    custA = await w.login('cust-a');
    await seedStock(supply);
    await supply.post('/api/stock/receipts', { partNo: 'FF-5421', storeId: 'CENTRAL', qty: 3, reason: 'opening' });
    const t = await w.ticket('VA1', 'urgent', 'GEN-START-FAIL');
    ticketId = t.id;
    await dispatcher.post(`/api/tickets/${t.id}/transitions`, { action: 'determine_work_content' });
    await dispatcher.request('PUT', `/api/tickets/${t.id}/team`, {
      members: [{ accountId: 'engineer', role: 'leader', duty: '现场修理' }],
    });
    const draft = await dispatcher.request('PUT', `/api/tickets/${t.id}/support-plan`, {
      workContent: '更换燃油滤清器并检查启动继电器，恢复发电机组供电',
      materials: [
        { kind: 'part', partNo: 'FF-5421', storeId: 'CENTRAL', qty: 1 },
        { kind: 'free', name: '绝缘胶带', qty: 2, unit: '卷' },
      ],
      milestones: [
        { at: w.now() + 30 * MIN, label: '服务车出发' },
        { at: w.now() + 150 * MIN, label: '到达现场' },
      ],
      transport: { mode: 'service_vehicle', vehicle: '湘A-12345' },
      eta: w.now() + 150 * MIN,
      etaNote: '服务车从长沙出发',
      internalNote: 'INTERNAL-NOTE-9931',
    });
    expect(draft.statusCode, draft.body).toBe(200);
    const issued = await dispatcher.post(`/api/tickets/${t.id}/support-plan/issue`, {});
    expect(issued.statusCode, issued.body).toBe(200);
    const reservationId = issued.json().version.content.materials[0].reservationId;
    const ship = await supply.post(`/api/tickets/${t.id}/shipments`, {
      mode: 'shipment',
      reservationIds: [reservationId],
      carrier: '顺丰速运',
      trackingNo: 'SF7766554433',
      consignee: '李伟',
      address: '驻地 A 营区',
    });
    expect(ship.statusCode, ship.body).toBe(201);
  });
  afterAll(async () => {
    await w?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the customer’s Chinese PDFs embed the CJK font, print the plan and render to a page that is neither blank nor solid', async () => {
    const forms = [
      ['plan', '专项保障工作计划', ['更换燃油滤清器', '服务车出发', '湘A-12345', 'FF-5421']],
      ['contact-letter', '售后服务工作联系函', ['Unit A', '到达现场', '服务车从长沙出发']],
      ['shipment-notice', '售后服务发运通知', ['SF7766554433', '顺丰速运', '驻地 A 营区', '燃油滤清器']],
    ] as const;
    for (const [form, title, expected] of forms) {
      const res = await custA.get(`/api/tickets/${ticketId}/support-plan/${form}.pdf?lang=zh`);
      expect(res.statusCode, res.body.slice(0, 200)).toBe(200);
      expect(res.headers['content-type']).toBe('application/pdf');
      expect(res.headers['content-disposition']).toMatch(
        new RegExp(`attachment; filename="${form}-EM-CA-\\d+-v1-zh\\.pdf"`),
      );
      const pdf = render(dir, form, res.rawPayload);
      expect(pdf.fonts).toMatch(/WenQuanYi/i);
      const text = pdf.text.replace(/\s+/g, '');
      expect(text).toContain(title);
      for (const e of expected) expect(text, `${form}: ${e}`).toContain(e.replace(/\s+/g, ''));
      // the form goes to the unit: no internal note, no staff login id
      expect(pdf.text).not.toContain('INTERNAL-NOTE-9931');
      expect(pdf.text).not.toMatch(/\bengineer\b/);
      expect(pdf.png).toBeTruthy();
      expect(pdf.inkShare, form).toBeGreaterThan(0.005);
      expect(pdf.inkShare, form).toBeLessThan(0.5);
    }
  }, 60_000);

  it('staff get the same form in English, as HTML and PDF, without the internal note', async () => {
    const html = await dispatcher.get(`/api/tickets/${ticketId}/support-plan/plan.html?lang=en`);
    expect(html.statusCode).toBe(200);
    expect(html.body).toContain('Special support work plan');
    expect(html.body).not.toContain('INTERNAL-NOTE-9931');
    const res = await dispatcher.get(`/api/tickets/${ticketId}/support-plan/shipment-notice.pdf?lang=en`);
    expect(res.statusCode).toBe(200);
    const pdf = render(dir, 'en-notice', res.rawPayload);
    expect(pdf.text).toContain('Shipment');
    expect(pdf.text).toContain('SF7766554433');
  });
});
