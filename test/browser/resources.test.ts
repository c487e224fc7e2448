/// <reference lib="dom" />
/**
 * The resource register in real Chromium against the whole platform: the demo register seeded, an
 * engineer (the keeper of the overdue instrument) sees the tools with their due flags in Chinese,
 * the reminder sweep puts a calibration reminder in the engineer's inbox through the bus, the
 * outbox and the dispatcher. The console's writes, each checked through the API: an engineer adds a
 * tool past its calibration (flagged), changes it, checks it out and takes it back; supply chain
 * (suppliers only) adds a supplier, evaluates it, sends quality feedback on its quality record and
 * records the answer; the duty desk adds a partner with a contact and a person with a
 * qualification, and gets no supplier edit controls (the API lets it read suppliers, not change
 * them). A customer gets no Resources entry (and 403 from the API).
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemoResources } from '../../simulators/demo-resources.ts';
import { addAccounts, apiGet, startConsole, type ConsoleUnderTest } from '../helpers/browser.ts';
import type { TestPlatform } from '../helpers/platform.ts';

describe('resource register in Chromium', () => {
  let web: ConsoleUnderTest;
  let tp: TestPlatform;

  beforeAll(async () => {
    web = await startConsole();
    tp = web.tp;
    await tp.platform.customers.add({ id: 'UNIT-A', name: 'Unit A' });
    await addAccounts(tp.platform, [
      { id: 'engineer', name: 'Li Na', role: 'engineer' },
      { id: 'cust-a', name: 'Crew A', role: 'customer', customerId: 'UNIT-A' },
      { id: 'desk', name: 'Duty desk', role: 'dispatcher' },
      { id: 'sup', name: 'Supply chain', role: 'supply' },
    ]);
    await seedDemoResources(tp.platform.resourceRegister);
  }, 120_000);

  afterAll(() => web?.close());

  const signIn = (username: string, lang: 'en' | 'zh'): Promise<Page> =>
    web.signIn(username, { locale: lang === 'zh' ? 'zh-CN' : 'en-GB' });

  it('shows the tools with their due flags in Chinese and reminds the keeper in the inbox', async () => {
    const page = await signIn('engineer', 'zh');
    await page.click('a[href="#/resources"]');
    await page.waitForSelector('[data-testid=resources-view] tr[data-code="TL-INS-01"]');
    const overdue = await page.textContent('tr[data-code="TL-INS-01"]');
    expect(overdue).toContain('已过期');
    expect(await page.getAttribute('tr[data-code="TL-INS-01"]', 'class')).toContain('overdue');
    expect(await page.textContent('tr[data-code="TL-CLAMP-02"]')).toContain('即将到期');
    await page.click('text=修理厂/拖车公司');
    await page.waitForSelector('text=长沙专用车修理厂');
    await page.click('text=人员');
    await page.waitForSelector('text=市场部');

    // the sweep announces both instruments; the engineer keeps them: two reminders arrive in the inbox
    expect(await tp.platform.resourceRegister.reminders.sweep()).toBe(2);
    await page.waitForFunction(
      () => document.querySelector('[data-testid=inbox-count]')?.textContent?.trim() === '2',
      undefined,
      { timeout: 15_000 },
    );
    await page.click('[data-testid=inbox-bell]');
    await page.waitForSelector('[data-testid=inbox-panel] >> text=校准已过期');
    await page.context().close();
  });

  /** A local day (YYYY-MM-DD) `days` from now, as the date fields take it. */
  const day = (days: number) => {
    const d = new Date(Date.now() + days * 86_400_000);
    return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
  };
  /** Submits a register form (`[data-testid=X]` → its `X-save` button). */
  const save = (page: Page, form: string) => page.click(form.replace(/\]$/, '-save]'));
  const openResources = async (page: Page, tab: string) => {
    await page.click('a[href="#/resources"]');
    await page.click(`[data-testid=resources-view] button[data-tab=${tab}]`);
  };

  it('lets an engineer add a tool past its calibration, change it, check it out and take it back', async () => {
    const page = await signIn('engineer', 'en');
    await openResources(page, 'tools');
    await page.click('[data-testid=add-tool]');
    const form = '[data-testid=tool-form]';
    await page.fill(`${form} input[name=code]`, 'TL-MEG-07');
    await page.fill(`${form} input[name=name]`, 'Insulation tester');
    await page.fill(`${form} input[name=nameZh]`, '绝缘电阻测试仪');
    await page.selectOption(`${form} select[name=kind]`, 'instrument');
    await page.fill(`${form} input[name=location]`, 'Central store shelf 3');
    await page.fill(`${form} input[name=keeper]`, 'engineer');
    await page.fill(`${form} input[name=calibrationDueAt]`, day(-3));
    await page.fill(`${form} input[name=maintenanceDueAt]`, day(60));
    await save(page, form);
    const row = 'tr[data-code="TL-MEG-07"]';
    await page.waitForSelector(row);
    // past its calibration date: flagged on the row and in the notice above the register
    expect(await page.getAttribute(row, 'class')).toContain('overdue');
    expect(await page.textContent(`${row} [data-due=overdue]`)).toContain('Overdue');
    expect(await page.textContent('[data-testid=tools-overdue]')).toContain('TL-MEG-07');

    // calibrated: the next due date, and moved to the north service point
    await page.click(`${row} [data-testid=edit-tool]`);
    await page.fill(`${form} input[name=calibrationDueAt]`, day(180));
    await page.fill(`${form} input[name=location]`, 'North service point');
    await save(page, form);
    // (the maintenance cell was `ok` already: wait for the row itself to lose its flag)
    await page.waitForSelector(`${row}:not(.overdue)`);
    expect(await page.locator(`${row} [data-due=ok]`).count()).toBe(2);

    await page.click(`${row} [data-testid=checkout-tool]`);
    await page.fill('[data-testid=checkout-form] input[name=team]', 'Li Na, Zhang Wei');
    await page.fill('[data-testid=checkout-form] input[name=dueBackAt]', `${day(2)} 18:00`);
    await page.click('[data-testid=checkout-form-save]');
    await page.waitForSelector(`${row} [data-testid=return-tool]`);
    type Tool = { code: string; location: string; keeper: string | null; status: string; calibration: string };
    type Checkout = { team: string[]; dueBackAt: number | null; returnedAt: number | null };
    const find = async () =>
      (await apiGet<{ tools: (Tool & { id: number })[] }>(page, '/api/tools')).tools.find(
        (x) => x.code === 'TL-MEG-07',
      )!;
    const out = await find();
    expect(out).toMatchObject({
      location: 'North service point',
      keeper: 'engineer',
      status: 'checked_out',
      calibration: 'ok',
    });

    // back, put in the central store, with a note on its state
    await page.click(`${row} [data-testid=return-tool]`);
    expect(await page.inputValue('[data-testid=return-form] input[name=location]')).toBe('North service point');
    await page.fill('[data-testid=return-form] input[name=location]', 'Central store');
    await page.fill('[data-testid=return-form] input[name=note]', 'probe lead frayed, replaced');
    await page.click('[data-testid=return-form-save]');
    await page.waitForSelector(`${row} [data-testid=checkout-tool]`);
    expect(await find()).toMatchObject({ status: 'available', location: 'Central store' });
    const { checkouts } = await apiGet<{ checkouts: Checkout[] }>(page, `/api/tools/${out.id}/checkouts`);
    expect(checkouts).toHaveLength(1);
    expect(checkouts[0]!.team).toEqual(['Li Na', 'Zhang Wei']);
    expect(checkouts[0]!.dueBackAt).toBe(new Date(`${day(2)}T18:00`).getTime());
    expect(checkouts[0]!.returnedAt).not.toBeNull();

    // the engineer reads partners and people but does not keep them (the duty desk does)
    await page.click('[data-testid=resources-view] button[data-tab=partners]');
    await page.waitForSelector('tr[data-partner]');
    expect(await page.$('[data-testid=add-partner]')).toBeNull();
    expect(await page.$('[data-testid=edit-partner]')).toBeNull();
    await page.context().close();
  });

  it('lets supply chain add a supplier, evaluate it, send quality feedback and record the answer', async () => {
    const page = await signIn('sup', 'zh');
    await page.click('a[href="#/resources"]');
    await page.waitForSelector('[data-testid=resources-view]');
    // supply chain reads and keeps the suppliers, nothing else of the register
    const tabs = await page.$$eval('[data-testid=resources-view] nav button', (b) => b.map((x) => x.dataset.tab));
    expect(tabs).toEqual(['suppliers']);
    await page.click('[data-testid=add-supplier]');
    const form = '[data-testid=supplier-form]';
    await page.fill(`${form} input[name=id]`, 'SUP-RECT');
    await page.fill(`${form} input[name=name]`, 'Rectifier Works');
    await page.fill(`${form} input[name=nameZh]`, '整流器厂');
    await page.fill(`${form} input[name=contact]`, 'Wang, +86 731 5550 1234');
    await page.selectOption(`${form} select[name=status]`, 'approved');
    await page.fill(`${form} input[name=certification]`, 'ISO 9001');
    await page.fill(`${form} input[name=certifiedUntil]`, day(365));
    await page.fill(`${form} input[name=lastAuditAt]`, day(-30));
    await page.fill(`${form} input[name=nextAuditAt]`, day(335));
    await save(page, form);
    const row = 'tr[data-supplier="SUP-RECT"]';
    await page.waitForSelector(row);
    expect(await page.textContent(row)).toContain('整流器厂');

    // an engineer attributed a ticket's cause to one of its parts (from the ticket page)
    const record = await tp.platform.resourceRegister.quality.attribute(
      { id: 4711, vehicleId: 'VA-9', faultCode: 'PWR-RECT-01', receivedAt: Date.now() - 86_400_000 },
      { partNumber: 'RECT-40A', supplierId: 'SUP-RECT', by: 'engineer' },
    );
    await page.click(`${row} [data-testid=open-supplier]`);
    const detail = '[data-testid=supplier-quality][data-supplier="SUP-RECT"]';
    await page.waitForSelector(`${detail} tr[data-record="${record.id}"]`);

    await page.click(`${detail} [data-testid=evaluate-supplier]`);
    await page.selectOption('[data-testid=evaluation-form] select[name=quality]', '4');
    await page.selectOption('[data-testid=evaluation-form] select[name=delivery]', '5');
    await page.selectOption('[data-testid=evaluation-form] select[name=service]', '3');
    await page.fill('[data-testid=evaluation-form] textarea[name=note]', '年度评价');
    await page.click('[data-testid=evaluation-form-save]');
    await page.waitForSelector(`${detail} >> text=年度评价`);

    await page.click(`${detail} [data-testid=send-feedback]`);
    const fb = '[data-testid=feedback-form]';
    await page.fill(`${fb} input[name=subject]`, '整流模块早期失效');
    await page.selectOption(`${fb} select[name=partNumber]`, 'RECT-40A');
    await page.fill(`${fb} input[name=answerDueAt]`, day(14));
    await page.fill(`${fb} textarea[name=text]`, '请分析失效原因并给出纠正措施。');
    await save(page, fb);
    await page.waitForSelector(`${detail} tr[data-state=open] [data-testid=answer-feedback]`);
    await page.click(`${detail} [data-testid=answer-feedback]`);
    await page.fill('[data-testid=answer-form] textarea[name=answer]', '批次焊接缺陷，已更换工艺。');
    await page.click('[data-testid=answer-form-save]');
    await page.waitForSelector(`${detail} tr[data-state=answered]`);

    type Detail = {
      supplier: { status: string; certification: string | null; lastScore: number | null };
      evaluations: { quality: number; delivery: number; service: number; note: string | null; by: string }[];
      feedback: {
        partNumber: string | null;
        recordIds: number[];
        answer: string | null;
        state: string;
        answerDueAt: number;
      }[];
    };
    const got = await apiGet<Detail>(page, '/api/suppliers/SUP-RECT');
    expect(got.supplier).toMatchObject({ status: 'approved', certification: 'ISO 9001', lastScore: 4 });
    expect(got.evaluations).toEqual([
      expect.objectContaining({ quality: 4, delivery: 5, service: 3, note: '年度评价', by: 'sup' }),
    ]);
    expect(got.feedback).toEqual([
      expect.objectContaining({
        partNumber: 'RECT-40A',
        recordIds: [record.id],
        answer: '批次焊接缺陷，已更换工艺。',
        state: 'answered',
        answerDueAt: new Date(`${day(14)}T00:00`).getTime(),
      }),
    ]);
    // the part's failure rate is shown with the supplier
    expect(await page.textContent(`${detail} [data-testid=supplier-rates]`)).toContain('RECT-40A');
    await page.context().close();
  });

  it('lets the duty desk add a partner and a person, and shows it no supplier edit controls', async () => {
    const page = await signIn('desk', 'en');
    await openResources(page, 'partners');
    await page.click('[data-testid=add-partner]');
    const form = '[data-testid=partner-form]';
    await page.selectOption(`${form} select[name=kind]`, 'towing');
    await page.fill(`${form} input[name=name]`, 'Xiangjiang Heavy Towing');
    await page.fill(`${form} input[name=nameZh]`, '湘江重型拖车');
    await page.fill(`${form} input[name=regions]`, 'Changsha, G4 Jingzhu');
    await page.fill(`${form} input[name=capabilities]`, 'heavy_towing，recovery');
    await page.selectOption(`${form} select[name=reputation]`, '4');
    await page.selectOption(`${form} select[name=technicalStrength]`, '5');
    await page.fill(`${form} input[name=contractUntil]`, day(200));
    await page.fill(`${form} textarea[name=contractTerms]`, '24 h call-out, 2 h on highways');
    await page.click(`${form} [data-testid=add-contacts]`);
    await page.fill(`${form} [data-row="0"] input[name=name]`, 'Liu Qiang');
    await page.fill(`${form} [data-row="0"] input[name=phone]`, '+86 138 0000 1111');
    await page.fill(`${form} [data-row="0"] input[name=role]`, 'dispatch');
    await save(page, form);
    await page.waitForSelector('tr[data-partner="Xiangjiang Heavy Towing"]');
    type Partner = { name: string; kind: string; regions: string[]; capabilities: string[]; reputation: number };
    const { partners } = await apiGet<{ partners: (Partner & Record<string, unknown>)[] }>(page, '/api/partners');
    expect(partners.find((x) => x.name === 'Xiangjiang Heavy Towing')).toMatchObject({
      kind: 'towing',
      nameZh: '湘江重型拖车',
      regions: ['Changsha', 'G4 Jingzhu'],
      capabilities: ['heavy_towing', 'recovery'],
      reputation: 4,
      technicalStrength: 5,
      contacts: [{ name: 'Liu Qiang', phone: '+86 138 0000 1111', role: 'dispatch' }],
      contractTerms: '24 h call-out, 2 h on highways',
      active: true,
    });

    await page.click('[data-testid=resources-view] button[data-tab=people]');
    await page.click('[data-testid=add-person]');
    const pf = '[data-testid=person-form]';
    await page.fill(`${pf} input[name=id]`, 'chen.jie');
    await page.fill(`${pf} input[name=name]`, 'Chen Jie');
    await page.selectOption(`${pf} select[name=department]`, 'manufacturing');
    await page.fill(`${pf} input[name=phone]`, '+86 139 0000 2222');
    await page.click(`${pf} [data-testid=add-qualifications]`);
    await page.selectOption(`${pf} [data-row="0"] select[name=skill]`, 'generator_set');
    await page.fill(`${pf} [data-row="0"] input[name=certificate]`, 'GS-2026-88');
    await page.fill(`${pf} [data-row="0"] input[name=expiresAt]`, day(400));
    await save(page, pf);
    await page.waitForSelector('tr[data-person="chen.jie"]');
    // seconded and busy this week
    await page.click('tr[data-person="chen.jie"] [data-testid=edit-person]');
    await page.uncheck(`${pf} input[name=available]`);
    await page.fill(`${pf} input[name=availabilityNote]`, 'on the assembly line until Friday');
    await save(page, pf);
    await page.waitForSelector('tr[data-person="chen.jie"] >> text=on the assembly line until Friday');
    const { people } = await apiGet<{ people: Record<string, unknown>[] }>(page, '/api/people');
    expect(people.find((x) => x.id === 'chen.jie')).toMatchObject({
      name: 'Chen Jie',
      department: 'manufacturing',
      available: false,
      availabilityNote: 'on the assembly line until Friday',
      qualifications: [
        {
          skill: 'generator_set',
          certificate: 'GS-2026-88',
          expiresAt: new Date(`${day(400)}T00:00`).getTime(),
          valid: true,
        },
      ],
    });

    // suppliers: the duty desk reads them (and their quality) but the API lets it change none of it
    await page.click('[data-testid=resources-view] button[data-tab=suppliers]');
    await page.waitForSelector('tr[data-supplier="SUP-GENSET"]');
    await page.click('tr[data-supplier="SUP-GENSET"] [data-testid=open-supplier]');
    await page.waitForSelector('[data-testid=supplier-quality][data-supplier="SUP-GENSET"]');
    for (const control of ['add-supplier', 'edit-supplier', 'evaluate-supplier', 'send-feedback', 'answer-feedback'])
      expect(await page.$(`[data-testid=${control}]`), control).toBeNull();
    await page.context().close();
  });

  it('gives a customer no Resources entry', async () => {
    const page = await signIn('cust-a', 'en');
    expect(await page.$('a[href="#/resources"]')).toBeNull();
    const status = await page.evaluate(async () => (await fetch('/api/tools')).status);
    expect(status).toBe(403);
    await page.context().close();
  });
});
