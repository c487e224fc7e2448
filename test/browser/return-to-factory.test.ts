/// <reference lib="dom" />
/**
 * Return-to-factory repair (返厂修理) in real Chromium (issue 13 item 3, docs/service.md): a ticket
 * in remote support is moved to on-site repair, then to return to factory by the duty desk (every
 * mode on the timeline, the earlier records kept); the engineer records the handover, which the
 * customer confirms, the shipping to the factory (carrier, tracking), the receipt with the count,
 * the repair, the assessment after repair and the return shipment; the customer side confirms the
 * receipt from its console.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addAccounts, startConsole, type ConsoleUnderTest } from '../helpers/browser.ts';
import type { TestPlatform } from '../helpers/platform.ts';

describe('return-to-factory repair to the customer’s receipt confirmation (Chromium)', () => {
  let web: ConsoleUnderTest;
  let tp: TestPlatform;
  let base: string;

  beforeAll(async () => {
    web = await startConsole();
    ({ tp, base } = web);
    const p = tp.platform;
    await p.customers.add({ id: 'UNIT-A', name: 'Unit A' });
    await addAccounts(p, [
      { id: 'desk', name: 'Di Desk', role: 'dispatcher' },
      { id: 'eng', name: 'Wang Eng', role: 'engineer' },
      { id: 'crew', name: 'Crew of Unit A', role: 'customer', customerId: 'UNIT-A' },
    ]);
    await tp.addVehicle('VA-1', 'UNIT-A');
  }, 120_000);

  afterAll(() => web?.close());

  const signIn = (username: string): Promise<Page> => web.signIn(username);

  /** Records the step the form offers first, with its fields (inputs and choices), and waits until it shows as done. */
  async function recordStep(page: Page, step: string, fields: Record<string, string> = {}, note?: string) {
    const form = page.locator('[data-testid=mode-step-form]');
    await form.waitFor();
    expect(await form.locator('[data-testid=mode-step-select]').inputValue()).toBe(step);
    for (const [name, value] of Object.entries(fields)) {
      const input = form.locator(`[data-testid=mode-step-field-${name}]`);
      if ((await input.evaluate((e) => e.tagName)) === 'SELECT') await input.selectOption(value);
      else await input.fill(value);
    }
    if (note) await form.locator('[data-testid=mode-step-note]').fill(note);
    await form.locator('[data-testid=mode-step-submit]').click();
    await page.waitForSelector(`[data-testid=mode-step-${step}][data-done=true]`);
  }

  it('remote → on-site → return to factory; the steps in order; the customer confirms the handover and the receipt', async () => {
    const p = tp.platform;
    const t = await p.tickets.open(
      {
        source: 'hotline',
        vehicleId: 'VA-1',
        customerId: 'UNIT-A',
        level: 'urgent',
        title: 'Inverter fault',
        need: 'inverter trips under load',
        contacts: [],
      },
      'desk',
    );
    await p.tickets.setServiceMode(t.id, 'remote_support', 'desk');
    const url = `${base}/#/tickets/${t.id}`;

    // remote support did not fix it: on-site first (the engineer agrees the transport), then the factory
    const desk = await signIn('desk');
    await desk.goto(url);
    await desk.waitForSelector('[data-testid=mode-steps-remote]');
    await desk.selectOption('[data-testid=service-mode-select]', 'on_site_repair');
    await recordStep(desk, 'agreed', { transport: 'train to Changsha' });
    await desk.selectOption('[data-testid=service-mode-select]', 'return_to_factory');
    await desk.waitForSelector('[data-testid=mode-steps-return_to_factory][data-current=true]');
    // the on-site record stays, no longer the current mode
    await desk.waitForSelector(
      '[data-testid=mode-steps-on_site_repair][data-current=false] [data-testid=mode-step-agreed][data-done=true]',
    );

    const eng = await signIn('eng');
    await eng.goto(url);
    await recordStep(eng, 'handed_over', { item: 'inverter module INV-3K', result: 'trips at 2 kW; casing intact' });

    // the customer confirms the handover (双方确认后办理交接手续); it cannot record the staff's steps
    const crew = await signIn('crew');
    await crew.goto(url);
    await crew.click('[data-testid=mode-step-confirm-handed_over]');
    await crew.waitForSelector('[data-testid=mode-step-confirmed-handed_over]');
    expect(await crew.locator('[data-testid=mode-step-form]').count()).toBe(0);

    await recordStep(eng, 'shipped_to_factory', { method: 'shipped', carrier: 'SF Express', tracking: 'SF1234567890' });
    await recordStep(eng, 'received_at_factory', { count: '1', result: 'one module, seals intact' });
    // the work-contact letter (《工作联系函》) is linked once the repair at the factory is recorded
    expect(await eng.locator('[data-testid=work-contact-letter]').count()).toBe(0);
    await recordStep(eng, 'repaired_at_factory', { result: 'IGBT bridge replaced' });
    await eng.waitForSelector('[data-testid=work-contact-letter-pdf]');
    await recordStep(eng, 'assessed_after_repair', { result: 'passes 4 h at full load' });
    await recordStep(eng, 'shipped_back', { method: 'shipped', carrier: 'SF Express', tracking: 'SF0987654321' });
    // nothing is left for staff: the receipt is the customer's
    expect(await eng.locator('[data-testid=mode-step-form]').count()).toBe(0);

    // the customer side confirms the receipt from its console
    await crew.goto(url);
    await recordStep(crew, 'receipt_confirmed', { count: '1' }, 'received in good order');
    const receipt = crew.locator('[data-testid=mode-step-receipt_confirmed]');
    expect(await receipt.innerText()).toContain('received in good order');
    expect(await crew.locator('[data-testid=mode-step-shipped_back]').innerText()).toContain('SF0987654321');
    // the letter the equipment came back with, from the steps panel: the receipt recorded in it
    const href = await crew.getAttribute('[data-testid=work-contact-letter-html]', 'href');
    const letter = await crew.context().request.get(`${base}${href}`);
    expect(letter.status()).toBe(200);
    const html = await letter.text();
    expect(html).toContain('SF0987654321');
    expect(html).toContain('received in good order');

    const steps = await p.records
      .selectFrom('ticket_mode_steps')
      .select(['mode', 'step', 'side', 'actor'])
      .where('ticket_id', '=', t.id)
      .orderBy('id')
      .execute();
    expect(steps.map((s) => `${s.mode}:${s.step}:${s.actor}`)).toEqual([
      'on_site_repair:agreed:desk',
      'return_to_factory:handed_over:eng',
      'return_to_factory:shipped_to_factory:eng',
      'return_to_factory:received_at_factory:eng',
      'return_to_factory:repaired_at_factory:eng',
      'return_to_factory:assessed_after_repair:eng',
      'return_to_factory:shipped_back:eng',
      'return_to_factory:receipt_confirmed:crew',
    ]);
    const modes = (await p.tickets.timeline(t.id)).filter((e) => e.action === 'service_mode_set').map((e) => e.note);
    expect(modes).toEqual(['remote_support', 'on_site_repair', 'return_to_factory']);
  }, 120_000);
});
