import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Ticket } from '../../diagnostics/types.ts';
import { poppler } from '../helpers/poppler.ts';
import { codeOf, startWeb, type Agent, type TestWeb } from './helpers.ts';

const MIN = 60_000;

/**
 * The work-contact letter (《工作联系函》) of a return-to-factory repair over the API
 * (docs/service-reports.md): not before the repair at the factory, then the letter with the
 * handover, shipments, inspection, repair and receipt, as the unit sees it, in HTML and PDF.
 */
describe('the work-contact letter of a return-to-factory repair', () => {
  let w: TestWeb;
  let eng: Agent;
  let desk: Agent;
  let custA: Agent;
  let custB: Agent;
  let t: Ticket;
  let dir: string;
  const step = (a: Agent, s: string, details: object = {}, more: object = {}) =>
    a.post(`/api/tickets/${t.id}/mode-steps`, { mode: 'return_to_factory', step: s, details, ...more });
  const letter = (a: Agent, ext: 'html' | 'pdf', lang = 'zh') =>
    a.get(`/api/tickets/${t.id}/work-contact-letter.${ext}?lang=${lang}`);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pw-letter-'));
    w = await startWeb();
    eng = await w.login('engineer');
    desk = await w.login('dispatcher');
    custA = await w.login('cust-a');
    custB = await w.login('cust-b');
    t = await w.ticket('VA1');
    expect((await desk.post(`/api/tickets/${t.id}/service-mode`, { mode: 'return_to_factory' })).statusCode).toBe(200);
  });
  afterAll(async () => {
    await w.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is refused (409 LETTER_NOT_AVAILABLE) until the repair at the factory is recorded', async () => {
    expect(codeOf(await letter(custA, 'html'))).toBe('LETTER_NOT_AVAILABLE');
    const handed = await step(
      eng,
      'handed_over',
      { item: '逆变器模块 INV-7', result: '外壳完好，无法输出' },
      { note: 'INTERNAL-PALLET-REMARK', visibility: 'internal' },
    );
    expect(handed.statusCode, handed.body).toBe(201);
    const confirmed = await custA.post(`/api/tickets/${t.id}/mode-steps/${handed.json().step.id}/confirm`, {
      note: '状态属实',
    });
    expect(confirmed.statusCode, confirmed.body).toBe(200);
    w.advance(30 * MIN);
    expect(
      (await step(eng, 'shipped_to_factory', { method: 'shipped', carrier: '顺丰速运', tracking: 'SF1234567' }))
        .statusCode,
    ).toBe(201);
    w.advance(20 * MIN);
    expect((await step(eng, 'received_at_factory', { count: 1, result: '包装完好，数量相符' })).statusCode).toBe(201);
    expect(codeOf(await letter(desk, 'pdf'))).toBe('LETTER_NOT_AVAILABLE');
    w.advance(20 * MIN);
    expect((await step(eng, 'repaired_at_factory', { result: '更换IGBT功率模块' })).statusCode).toBe(201);
    // another unit's customer does not learn that the ticket exists
    custA = await w.login('cust-a');
    custB = await w.login('cust-b');
    expect(codeOf(await letter(custB, 'html'))).toBe('TICKET_NOT_FOUND');
    expect(codeOf(await letter(custB, 'pdf'))).toBe('TICKET_NOT_FOUND');
    // available now: the receipt still to confirm
    const early = await letter(custA, 'html');
    expect(early.statusCode, early.body.slice(0, 300)).toBe(200);
    expect(early.body).toContain('更换IGBT功率模块');
    expect(early.body).toContain('尚未确认收货');
  });

  it('prints the whole return to factory in HTML for the unit, without internal notes', async () => {
    w.advance(30 * MIN);
    expect((await step(eng, 'assessed_after_repair', { result: '满载试验合格' })).statusCode).toBe(201);
    w.advance(10 * MIN);
    expect(
      (await step(eng, 'shipped_back', { method: 'shipped', carrier: '顺丰速运', tracking: 'SF7654321' })).statusCode,
    ).toBe(201);
    w.advance(24 * 60 * MIN);
    custA = await w.login('cust-a');
    const receipt = await step(custA, 'receipt_confirmed', { count: 1, result: '外观完好' }, { note: '已验收' });
    expect(receipt.statusCode, receipt.body).toBe(201);
    custB = await w.login('cust-b');
    desk = await w.login('dispatcher');

    const res = await letter(custA, 'html');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/html');
    expect(res.headers['content-disposition']).toBe(`inline; filename="work-contact-letter-${t.number}-zh.html"`);
    const zh = res.body;
    for (const text of [
      '工作联系函',
      t.number,
      '逆变器模块 INV-7',
      '外壳完好，无法输出',
      '状态属实',
      '托运/邮寄',
      '顺丰速运',
      'SF1234567',
      '包装完好，数量相符',
      '更换IGBT功率模块',
      '满载试验合格',
      'SF7654321',
      '已确认收货',
      '已验收',
      '外观完好',
    ])
      expect(zh, text).toContain(text);
    expect(zh).not.toContain('INTERNAL-PALLET-REMARK');
    expect(zh).not.toContain('尚未确认收货');
    // staff by their public names, never a login id
    expect(zh).not.toMatch(/\bengineer\b/);
    // staff get the same document: the unit's view
    const staff = (await letter(desk, 'html')).body;
    expect(staff).not.toContain('INTERNAL-PALLET-REMARK');
    const en = (await letter(desk, 'html', 'en')).body;
    expect(en).toContain('Work contact letter');
    expect(en).toContain('Received at the factory, counted and inspected');
    expect(en).toContain('Receipt confirmed');
    expect(codeOf(await letter(custB, 'html'))).toBe('TICKET_NOT_FOUND');
    expect(codeOf(await custA.get(`/api/tickets/${t.id}/work-contact-letter.html?lang=fr`))).toBe('VALIDATION_FAILED');
  });

  it('prints it as a PDF with the CJK font: title and tracking number extractable, a page drawn', async () => {
    const res = await letter(custA, 'pdf');
    expect(res.statusCode, res.body.slice(0, 300)).toBe(200);
    expect(res.headers['content-type']).toBe('application/pdf');
    expect(res.headers['content-disposition']).toBe(`attachment; filename="work-contact-letter-${t.number}-zh.pdf"`);
    const pdf = poppler(dir, res.rawPayload, 'letter');
    const text = pdf.text();
    expect(text).toContain('工作联系函');
    expect(text).toContain('SF7654321');
    expect(text).toContain('顺丰速运');
    expect(text).not.toContain('INTERNAL-PALLET-REMARK');
    const page = pdf.inked();
    expect(page.inkShare).toBeGreaterThan(0.005);
    expect(page.inkShare).toBeLessThan(0.5);
  });
});
