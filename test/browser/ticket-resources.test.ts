/// <reference lib="dom" />
/**
 * The resources behind a response on the ticket page, in real Chromium against the whole platform:
 * the team suggestion (qualified, available people) and the team saved from it; the cause
 * attributed to a supplier's part (质量信息反馈); a partner (修理厂/拖车公司) dispatched with its ETA
 * and its outcome recorded; the store choice listing every store with the part. Results checked
 * through the API.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemoStock } from '../../simulators/demo-stock.ts';
import { addAccounts, apiGet, startConsole, type ConsoleUnderTest } from '../helpers/browser.ts';
import type { TestPlatform } from '../helpers/platform.ts';

const YEAR = 365 * 86_400_000;

describe('a ticket’s resources in the console (Chromium)', () => {
  let web: ConsoleUnderTest;
  let tp: TestPlatform;
  let base: string;
  let ticketId = 0;
  let towingId = 0;

  beforeAll(async () => {
    web = await startConsole();
    ({ tp, base } = web);
    const p = tp.platform;
    await p.customers.add({ id: 'UNIT-A', name: 'Unit A' });
    await tp.addVehicle('VA-1', 'UNIT-A');
    await addAccounts(p, [
      { id: 'desk', role: 'dispatcher' },
      { id: 'eng', role: 'engineer' },
      { id: 'eng2', role: 'engineer' },
    ]);
    await seedDemoStock({ stock: p.stock, vehicleIds: ['VA-1'] });
    await p.stock.reservations.setVehiclePosition('VA-1', { lat: 40.0, lon: 116.5 }, 'test', 'test');
    const { people, partners, suppliers } = p.resourceRegister;
    const now = Date.now();
    await people.add({
      id: 'P-ENG',
      name: 'Wang Gen',
      department: 'technical_centre',
      accountId: 'eng',
      qualifications: [{ skill: 'generator_set', certificate: 'GS-2291', expiresAt: now + YEAR }],
    });
    await people.add({
      id: 'P-OLD',
      name: 'Li Expired',
      department: 'manufacturing',
      accountId: 'eng2',
      qualifications: [{ skill: 'generator_set', certificate: 'GS-0001', expiresAt: now - 86_400_000 }],
    });
    await people.add({
      id: 'P-AWAY',
      name: 'Zhao Away',
      department: 'market',
      available: false,
      availabilityNote: 'on leave',
      qualifications: [{ skill: 'generator_set', expiresAt: null }],
    });
    await partners.add({
      kind: 'repair_shop',
      name: 'Canton Repair',
      regions: ['Guangdong'],
      capabilities: ['generator_set'],
      reputation: 5,
      technicalStrength: 5,
      contacts: [],
    });
    towingId = (
      await partners.add({
        kind: 'towing',
        name: 'Beijing Tow',
        nameZh: '北京拖车',
        regions: ['Beijing'],
        capabilities: ['heavy_towing'],
        reputation: 4,
        technicalStrength: 3,
        contacts: [{ name: 'Zhang', phone: '+86 10 5555' }],
      })
    ).id;
    await suppliers.add({ id: 'SUP-DEMO', name: 'Demo Power Parts Co.', contact: 'qa@demo.example' });
    ticketId = (
      await p.tickets.open(
        {
          source: 'rule',
          vehicleId: 'VA-1',
          customerId: 'UNIT-A',
          level: 'urgent',
          title: 'VA-1: generator failed to start',
          need: 'GEN-START-FAIL',
          faultCode: 'GEN-START-FAIL',
        },
        'system',
      )
    ).id;
  }, 120_000);

  afterAll(() => web?.close());

  const api = async <T>(username: string, path: string): Promise<T> => {
    const page = await web.signIn(username);
    return apiGet<T>(page, path);
  };

  it('the desk sees who is qualified and available, and saves the team from the suggestion', async () => {
    const page = await web.signIn('desk');
    await page.goto(`${base}/#/tickets/${ticketId}`);
    const panel = page.locator('[data-testid=ticket-team]');
    const suggested = panel.locator('[data-testid=team-suggestion] tr[data-person=P-ENG]');
    await suggested.waitFor();
    const text = await suggested.innerText();
    expect(text).toContain('Wang Gen');
    expect(text).toContain('Generator sets · GS-2291');
    expect(text).toContain('unexpired qualification in Generator sets, available');
    // an expired qualification never counts; an unavailable person is shown as such
    expect(await panel.locator('tr[data-person=P-OLD]').count()).toBe(0);
    expect(await panel.locator('tr[data-person=P-AWAY]').getAttribute('data-available')).toBe('no');
    expect(await panel.locator('tr[data-person=P-AWAY]').innerText()).toContain('on leave');

    await suggested.getByRole('button', { name: 'Add to team' }).click();
    const row = panel.locator('[data-testid=ticket-team-row]').first();
    expect(await row.locator('select[name=member]').inputValue()).toBe('eng');
    expect(await row.locator('select[name=team-role]').inputValue()).toBe('leader');
    await row.locator('input[name=duty]').fill('故障排查 fault finding');
    await panel.locator('[data-testid=ticket-team-save]').click();
    await panel.locator('li[data-role=leader][data-account=eng]').waitFor();
    const detail = await api<{ team: { accountId: string; role: string; duty: string | null }[] }>(
      'desk',
      `/api/tickets/${ticketId}`,
    );
    expect(detail.team).toEqual([{ accountId: 'eng', role: 'leader', duty: '故障排查 fault finding' }]);
  });

  it('the desk dispatches a towing company found by region with its ETA, then records the outcome', async () => {
    const page = await web.signIn('desk');
    await page.goto(`${base}/#/tickets/${ticketId}`);
    const panel = page.locator('[data-testid=ticket-partners]');
    const form = panel.locator('[data-testid=partner-dispatch-form]');
    await form.waitFor();
    await form.locator('input[name=partner-region]').fill('Beijing');
    await form.locator('input[name=partner-region]').press('Tab');
    // the list filtered by region: "—" and Beijing Tow (the unfiltered list may still show for a moment)
    await expect.poll(() => form.locator('select[name=partner] option').count(), { timeout: 10_000 }).toBe(2);
    await form.locator(`select[name=partner] option[value="${towingId}"]`).waitFor({ state: 'attached' });
    await form.locator('select[name=partner]').selectOption(String(towingId));
    await form.locator('input[name=partner-task]').fill('tow VA-1 to the service point');
    await form.locator('input[name=partner-eta]').fill('2030-01-02 10:30');
    await form.locator('[data-testid=partner-dispatch]').click();
    await panel.locator('[data-testid=dispatch-eta]').waitFor();
    type Dispatches = { dispatches: { id: number; partnerId: number; eta: number; outcome: string }[] };
    let { dispatches } = await api<Dispatches>('desk', `/api/partner-dispatches?ticketId=${ticketId}`);
    expect(dispatches).toHaveLength(1);
    expect(dispatches[0]).toMatchObject({
      partnerId: towingId,
      eta: new Date('2030-01-02T10:30').getTime(),
      outcome: 'pending',
    });

    const outcome = page.locator('[data-testid=ticket-partners] [data-testid=dispatch-outcome]');
    await outcome.locator('[data-testid=dispatch-arrived]').click();
    await outcome.locator('[data-testid=dispatch-arrived]').waitFor({ state: 'detached' });
    await outcome.locator('select[name=dispatch-outcome]').selectOption('resolved');
    await outcome.locator('[data-testid=dispatch-record]').click();
    await page.locator('[data-testid=ticket-partners] [data-outcome=resolved]').waitFor();
    ({ dispatches } = await api<Dispatches>('desk', `/api/partner-dispatches?ticketId=${ticketId}`));
    expect(dispatches[0]).toMatchObject({ outcome: 'resolved', onTime: true });
  });

  it('an engineer attributes the cause to a supplier’s part from the catalogue', async () => {
    const page = await web.signIn('eng');
    await page.goto(`${base}/#/tickets/${ticketId}`);
    const panel = page.locator('[data-testid=ticket-quality]');
    const form = panel.locator('[data-testid=quality-form]');
    await form.locator('select[name=quality-part] option[value=FF-5421]').waitFor({ state: 'attached' });
    await form.locator('select[name=quality-part]').selectOption('FF-5421');
    await form.locator('select[name=quality-supplier]').selectOption('SUP-DEMO');
    await form.locator('input[name=quality-note]').fill('fuel filter clogged, element collapsed');
    await form.locator('[data-testid=quality-attribute]').click();
    await panel.getByText('fuel filter clogged, element collapsed').waitFor();
    const { records } = await api<{ records: { partNumber: string; supplierId: string; note: string }[] }>(
      'eng',
      `/api/tickets/${ticketId}/quality-records`,
    );
    expect(records).toEqual([
      expect.objectContaining({
        partNumber: 'FF-5421',
        supplierId: 'SUP-DEMO',
        note: 'fuel filter clogged, element collapsed',
        recordedBy: 'eng',
      }),
    ]);
    // the desk sees the record but cannot attribute (admin and engineers only)
    const desk = await web.signIn('desk');
    await desk.goto(`${base}/#/tickets/${ticketId}`);
    await desk.locator('[data-testid=ticket-quality]').getByText('FF-5421').waitFor();
    expect(await desk.locator('[data-testid=quality-form]').count()).toBe(0);
  });

  it('the store choice lists every store with the part: on hand, available, distance, ETA by transport', async () => {
    const page = await web.signIn('desk');
    await page.goto(`${base}/#/tickets/${ticketId}`);
    const choice = page.locator('[data-testid=ticket-stock] [data-part=FF-5421] [data-testid=store-choice]');
    await choice.waitFor();
    // the demo keeps FF-5421 at the central store and the west service point: both listed, nearest first
    const rows = choice.locator('tbody tr');
    expect(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-store')))).toEqual([
      'CENTRAL',
      'SP-WEST',
    ]);
    const before = await api<{
      proposal: { lines: { partNo: string; options: { storeId: string; etas: { transport: string }[] }[] }[] };
    }>('desk', `/api/tickets/${ticketId}/stock`);
    const west = before.proposal.lines
      .find((l) => l.partNo === 'FF-5421')!
      .options.find((o) => o.storeId === 'SP-WEST')!;
    const text = await choice.locator('tr[data-store=SP-WEST]').innerText();
    expect(text).toMatch(/\d+(\.\d)? km/);
    for (const e of west.etas) expect(text).toContain(`by ${e.transport === 'air' ? 'air freight' : e.transport}`);
    // the nearest that covers it is proposed; the dispatcher picks the west service point instead
    expect(await choice.locator('tr[data-store=CENTRAL] input[type=radio]').isChecked()).toBe(true);
    await choice.locator('tr[data-store=SP-WEST] input[type=radio]').check();
    await page.locator('[data-testid=ticket-stock] [data-testid=reserve]').click();
    await page.locator('[data-testid=ticket-stock] table.grid tbody tr').first().waitFor();
    const stock = await api<{ reservations: { partNo: string; storeId: string; transport: string | null }[] }>(
      'desk',
      `/api/tickets/${ticketId}/stock`,
    );
    expect(stock.reservations.find((r) => r.partNo === 'FF-5421')).toMatchObject({
      storeId: 'SP-WEST',
      transport: west.etas[0]!.transport,
    });
  });
});
