/// <reference lib="dom" />
/**
 * The console in real Chromium (Debian's `chromium`, driven by playwright-core) against the whole
 * platform on real ports, with simulated vehicles publishing over MQTT. The browser app is built
 * from source first (Vite), so this tests what `npm run build:console` ships.
 */
import type { Page } from 'playwright-core';
import { generateSync } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NUMERIC_FIELDS, vehicleTopic } from '../../protocol/index.ts';
import { createFleet } from '../../simulators/fleet/fleet.ts';
import {
  addAccounts,
  catchUpClock,
  PASSWORD,
  startConsole,
  submitLogin,
  type ConsoleUnderTest,
} from '../helpers/browser.ts';
import { frame, type TestPlatform } from '../helpers/platform.ts';

type Fleet = ReturnType<typeof createFleet>;

describe('web console in Chromium', () => {
  let web: ConsoleUnderTest;
  let tp: TestPlatform;
  let base: string;
  let genVehicle: { id: string; secret: string; customerId: string };
  const fleets: Fleet[] = [];
  /** The ticket the customer opened (its `#/tickets/ID`), for the internal-notes check. */
  let customerTicket = '';

  beforeAll(async () => {
    // admins must use a second factor here (no other test signs in as one)
    web = await startConsole({ LIVE_FLEET_INTERVAL_MS: '200', REQUIRE_2FA_ROLES: 'admin' });
    ({ tp, base } = web);

    const p = tp.platform;
    await p.customers.add({ id: 'UNIT-A', name: 'Unit A' });
    await p.customers.add({ id: 'UNIT-B', name: 'Unit B' });
    await addAccounts(p, [
      { id: 'eng', name: 'Eve Engineer', role: 'engineer' },
      { id: 'boss', name: 'Bo Admin', role: 'admin' },
      { id: 'desk', name: 'Di Desk', role: 'dispatcher' },
      { id: 'cust-b', name: 'Bob of Unit B', role: 'customer', customerId: 'UNIT-B' },
    ]);

    const live = await tp.addVehicle('VA-LIVE', 'UNIT-A');
    genVehicle = { ...(await tp.addVehicle('VA-GEN', 'UNIT-A')), customerId: 'UNIT-A' };
    const other = await tp.addVehicle('VB-ONE', 'UNIT-B');

    // two vehicles streaming in real time (one of unit A, one of unit B)
    const now = Date.now();
    const steady = createFleet(
      { clock: catchUpClock(now, 1) },
      {
        vehicles: [live, other],
        brokerUrl: tp.mqttUrl,
        rateHz: 1,
        seed: 'browser',
        startTs: now,
        model: { mainsOutagesPerDay: 0 },
      },
    );
    fleets.push(steady);
    steady.start();
  }, 120_000);

  afterAll(async () => {
    for (const f of fleets) await f.stop(2000).catch(() => undefined);
    await web?.close();
  });

  const signIn = (username: string, lang: 'en' | 'zh' = 'en'): Promise<Page> =>
    web.signIn(username, { locale: lang === 'zh' ? 'zh-CN' : 'en-GB', live: true });

  it('a signed-out start shows the login form and logs no error in the browser (no 401 asked for)', async () => {
    const page = await web.openPage();
    const errors: string[] = [];
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    page.on('pageerror', (e) => errors.push(e.message));
    const statuses: number[] = [];
    page.on('response', (r) => r.url().includes('/api/') && statuses.push(r.status()));
    await page.goto(`${base}/`);
    await page.waitForSelector('input[name=username]');
    expect(errors).toEqual([]);
    expect(statuses.filter((s) => s >= 400)).toEqual([]);
  });

  it('an engineer opens a vehicle and its live chart updates from the simulated vehicle', async () => {
    const page = await signIn('eng');
    await page.waitForSelector('[data-testid=fleet-table] tr[data-vehicle=VA-LIVE]');
    await page.click('tr[data-vehicle=VA-LIVE] a');
    await page.waitForSelector('[data-testid=vehicle-view]');
    const chart = page.locator('[data-testid=chart-battery]');
    await chart.waitFor();
    await page.waitForFunction(
      () => Number(document.querySelector('[data-testid=chart-battery]')?.getAttribute('data-points')) > 0,
      undefined,
      { timeout: 15_000 },
    );
    const before = Number(await chart.getAttribute('data-last'));
    // new frames arrive over the socket and are appended in place (the chart is not rebuilt)
    await page.waitForFunction(
      (b) => Number(document.querySelector('[data-testid=chart-battery]')?.getAttribute('data-last')) > b,
      before,
      { timeout: 15_000 },
    );
    const canvas = page.locator('[data-testid=chart-battery] canvas');
    expect(await canvas.count()).toBe(1);
    expect(await page.locator('[data-testid=vehicle-view] .fact-value').first().innerText()).toContain('online');

    // every field of the contract is charted, grouped by power section, one unit per axis
    const live = page.locator('[data-testid=live-charts]');
    const ids = await live
      .locator('.chart')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-testid')?.replace('chart-', '')));
    expect(ids).toEqual([
      'mains',
      'generator',
      'engine',
      'engine-supply',
      'battery',
      'battery-state',
      'charging',
      'load',
    ]);
    const series = await live.locator('.u-legend .u-series:not(:first-child) .u-label').allInnerTexts();
    expect(series).toHaveLength(NUMERIC_FIELDS.length);
    for (const label of ['Coolant °C', 'Oil pressure kPa', 'Fuel %', 'Battery °C', 'Alternator V', 'Generator rpm'])
      expect(series).toContain(label);
    // off the plot, the legend shows the newest values with units (not "—" until hovered) and the time
    const battery = page.locator('[data-testid=chart-battery] .u-legend');
    await page.waitForFunction(() =>
      /\d+\.\d+ V/.test(document.querySelector('[data-testid=chart-battery] .u-legend')?.textContent ?? ''),
    );
    expect(await battery.innerText()).toMatch(/\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}/);
    // the vehicle's limits are drawn on its charts
    expect(await page.locator('[data-testid=chart-generator]').getAttribute('data-limits')).toContain('GEN-VOLTAGE');
  }, 60_000);

  it('the fleet table follows a vehicle’s charge from the fleet batches, and reads the list again after the live channel came back', async () => {
    const soc = await tp.addVehicle('VA-SOC', 'UNIT-A');
    const gateway = await tp.connect(soc.id, soc.secret);
    let seq = 0;
    const publish = (socPct: number) =>
      gateway.publishAsync(
        vehicleTopic(soc.id, 'telemetry'),
        JSON.stringify(frame(++seq, Date.now(), { battery: { voltageV: 26.4, currentA: 3.2, socPct, tempC: 24 } })),
        { qos: 1 },
      );
    const row = (page: Page) => page.locator('[data-testid=fleet-table] tr[data-vehicle=VA-SOC]');
    const rowShows = (page: Page, text: string) =>
      page.waitForFunction(
        (t) => document.querySelector('[data-testid=fleet-table] tr[data-vehicle=VA-SOC]')?.textContent?.includes(t),
        text,
        { timeout: 15_000 },
      );
    try {
      await publish(50);
      // what arrives on the live channel, as the server sent it; later, a way to cut the channel
      const fleetMessages: string[] = [];
      let cut = false;
      const page = await web.signIn('eng', {
        live: true,
        prepare: async (p) => {
          p.on('websocket', (ws) =>
            ws.on('framereceived', (f) => {
              if (typeof f.payload === 'string' && f.payload.startsWith('42["fleet"')) fleetMessages.push(f.payload);
            }),
          );
          await p.route('**/socket.io/**', (r) => (cut ? r.abort() : r.continue()));
        },
      });
      await page.goto(`${base}/#/fleet`);
      await rowShows(page, '50 %');

      // a new charge: the entry carries it (and the times), the table shows it
      await publish(61);
      await rowShows(page, '61 %');
      // the same charge again: the vehicle comes in `seen` only, and the table keeps its values
      await publish(61);
      await expect.poll(() => fleetMessages.some((m) => m.includes('["VA-SOC",')), { timeout: 15_000 }).toBe(true);
      expect(await row(page).innerText()).toContain('61 %');
      expect(await row(page).innerText()).toMatch(/mains/i);

      // the live channel breaks; meanwhile the charge changes and the batch goes to another console
      const other = await signIn('desk');
      await other.goto(`${base}/#/fleet`);
      await rowShows(other, '61 %');
      cut = true;
      await page.routeWebSocket(/socket\.io/, (ws) => (cut ? ws.close() : ws.connectToServer()));
      for (const s of tp.platform.web.live!.io.of('/').sockets.values())
        if (s.data.account.id === 'eng') s.conn.close();
      await page.waitForSelector('[data-testid=live-status]:not(.on)');
      await publish(72);
      await rowShows(other, '72 %');
      await publish(72); // from now on the vehicle only reports again: `seen`, no charge
      expect(await row(page).innerText()).toContain('61 %');
      // back on line: the console reads the list again and shows what it missed
      cut = false;
      await page.waitForSelector('[data-testid=live-status].on', { timeout: 30_000 });
      await rowShows(page, '72 %');
    } finally {
      await gateway.endAsync();
    }
  }, 90_000);

  it('a generator-start failure injected in the simulator shows up in the queue as an extra-urgent ticket with its countdown', async () => {
    const page = await signIn('eng');
    await page.goto(`${base}/#/tickets`);
    await page.waitForSelector('.view.tickets');
    expect(await page.locator('tr[data-level=extra_urgent]').count()).toBe(0);
    expect(await page.title()).toBe('PowerWatch');
    // what the console does to call the engineer, recorded: browser notifications (allowed) and tones
    await page.evaluate(() => {
      const w = window as unknown as { alerts: string[]; Notification: unknown; AudioContext: unknown };
      w.alerts = [];
      w.Notification = Object.assign(
        function (this: unknown, title: string, o: { body: string }) {
          w.alerts.push(`notification: ${title} | ${o.body}`);
        },
        { permission: 'granted', requestPermission: () => Promise.resolve('granted') },
      );
      const Real = w.AudioContext as new () => { createOscillator(): { start(): void } };
      w.AudioContext = function () {
        const ctx = new Real();
        const make = ctx.createOscillator.bind(ctx);
        ctx.createOscillator = () => {
          const o = make();
          const start = o.start.bind(o);
          o.start = () => (w.alerts.push('tone'), start());
          return o;
        };
        return ctx;
      };
    });

    // the vehicle starts 150 s in the past at 10× speed, so the fault's 90 s signature plays out in seconds
    const startTs = Date.now() - 150_000;
    const faulty = createFleet(
      { clock: catchUpClock(startTs, 10) },
      {
        vehicles: [genVehicle],
        brokerUrl: tp.mqttUrl,
        rateHz: 1,
        seed: 'browser-gen',
        startTs,
        model: { mainsOutagesPerDay: 0 },
        scenarios: [
          {
            name: 'generator-start-failure',
            atS: 10,
            durationS: null,
            vehicles: ['VA-GEN'],
            params: { withOutage: true },
          },
        ],
      },
    );
    fleets.push(faulty);
    faulty.start();

    const row = page.locator('tr[data-level=extra_urgent]');
    await row.waitFor({ timeout: 45_000 });
    expect(await row.locator('.badge.level-extra_urgent').innerText()).toBe('Extra urgent');
    expect(await row.innerText()).toContain('VA-GEN');
    // the countdown to the 30-minute deadline ticks in the browser
    const countdown = row.locator('[data-testid=countdown]');
    const first = await countdown.innerText();
    expect(first).toMatch(/^\d+:\d\d left$/);
    await page.waitForFunction(
      (f) => document.querySelector('tr[data-level=extra_urgent] [data-testid=countdown]')?.textContent !== f,
      first,
      { timeout: 5000 },
    );
    expect(await page.locator('[data-testid=ticket-notice]').innerText()).toContain('New ticket opened');
    // the queue shows the vehicle by name with its charge and time to empty, linked
    const vehicleCell = row.locator('[data-testid=queue-vehicle-VA-GEN]');
    expect(await vehicleCell.locator('a').getAttribute('href')).toBe('#/vehicles/VA-GEN');
    await page.waitForFunction(() =>
      /%/.test(document.querySelector('[data-testid=queue-vehicle-VA-GEN]')?.textContent ?? ''),
    );
    // the engineer is called: a tone, a browser notification, and the tab's title counts it
    await page.waitForFunction(() => document.title === '(1) extra urgent · PowerWatch');
    const alerts = await page.evaluate(() => (window as unknown as { alerts: string[] }).alerts);
    expect(alerts).toContain('tone');
    expect(alerts.find((a) => a.startsWith('notification: New ticket · Extra urgent |'))).toContain('VA-GEN');

    // the ticket page shows the emergency plan and the actions an engineer may take
    await row.click();
    await page.waitForSelector('[data-testid=ticket-view]');
    await page.waitForSelector('[data-testid=plan]');
    // the vehicle by name in the title, its power now, the plan before the snapshot, a readable need
    const name = (await tp.platform.vehicles.get('VA-GEN'))!.name;
    expect((await page.locator('[data-testid=ticket-vehicle-name]').innerText()).trim()).toBe(`· ${name}`);
    await page.locator('[data-testid=ticket-power-now]').waitFor();
    expect(await page.locator('[data-testid=ticket-power-now]').innerText()).toContain('%');
    const order = await page
      .locator('[data-testid=ticket-view] > section')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-testid') ?? e.querySelector('h3')?.textContent ?? ''));
    expect(order.indexOf('plan')).toBeLessThan(order.findIndex((x) => x.startsWith('Telemetry')));
    expect(await page.locator('[data-testid=ticket-view] .pre').first().innerText()).toMatch(
      new RegExp(`on ${name} at \\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2} \\(GEN-START-FAIL, detected automatically`),
    );
    // the work content is the duty desk's (市场部): an engineer has no such step; the desk's change arrives live
    expect(await page.locator('[data-action=determine_work_content]').count()).toBe(0);
    await tp.platform.tickets.transition(
      Number(/#\/tickets\/(\d+)/.exec(page.url())![1]),
      'determine_work_content',
      'desk',
    );
    await page.waitForSelector('[data-testid=ticket-view][data-status=work_content_determined]');
    // the service report (售后服务报告) in the console's language: the printable page and the PDF
    const reportLinks = await page
      .locator('[data-testid=ticket-report] a')
      .evaluateAll((as) => as.map((a) => (a as HTMLAnchorElement).href));
    expect(reportLinks).toEqual([
      expect.stringMatching(/\/report\.html\?lang=en$/),
      expect.stringMatching(/\/report\.pdf\?lang=en$/),
    ]);
    const fetched = await page.evaluate(async (urls) => {
      const [html, pdf] = await Promise.all(urls.map((u) => fetch(u)));
      return { html: await html!.text(), pdfType: pdf!.headers.get('content-type'), pdfStatus: pdf!.status };
    }, reportLinks);
    expect(fetched.html).toContain('After-sales service report');
    expect(fetched).toMatchObject({ pdfStatus: 200, pdfType: 'application/pdf' });

    // the fleet shows the vehicle's open ticket — level, status, next deadline — whatever its alarms
    await page.goto(`${base}/#/fleet`);
    const open = page.locator('[data-testid=open-ticket-VA-GEN]');
    await open.waitFor();
    expect(await open.innerText()).toMatch(/Extra urgent[\s\S]*Work content determined/);
    expect(await page.locator('[data-testid=fleet-table] tr[data-vehicle=VA-LIVE]').innerText()).not.toContain(
      'Extra urgent',
    );
  }, 90_000);

  it('the hotline form: no name of the desk’s own, the unit narrows the vehicles, phones checked, refusals by field in the user’s language', async () => {
    const page = await signIn('desk', 'zh');
    const errors: string[] = [];
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    await page.goto(`${base}/#/request`);
    const form = page.locator('[data-testid=request-form]');
    await form.waitFor();
    // the caller's name, not the dispatcher's
    expect(await form.locator('input[name=contact-name-0]').inputValue()).toBe('');
    const vehicleOptions = () =>
      form
        .locator('select[name=vehicle] option')
        .evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value).filter(Boolean));
    // the fleet and the units load after the form
    await form.locator('select[name=vehicle] option[value=VA-LIVE]').waitFor({ state: 'attached' });
    await form.locator('select[name=customer] option[value=UNIT-B]').waitFor({ state: 'attached' });
    expect(await vehicleOptions()).toEqual(expect.arrayContaining(['VA-LIVE', 'VB-ONE']));
    await form.locator('select[name=customer]').selectOption('UNIT-B');
    expect(await vehicleOptions()).toEqual(['VB-ONE']);
    // the phone pattern is a valid expression the browser applies
    const phone = form.locator('input[name=contact-phone-0]');
    await phone.fill('call me maybe');
    expect(await phone.evaluate((e) => (e as HTMLInputElement).validity.patternMismatch)).toBe(true);
    await phone.fill('+86 (10) 5555-0101');
    expect(await phone.evaluate((e) => (e as HTMLInputElement).validity.valid)).toBe(true);
    // a refusal of the platform is shown at its field, in Chinese, not as `body.title … (VALIDATION_FAILED)`
    await form.locator('select[name=vehicle]').selectOption('VB-ONE');
    await form.locator('select[name=level]').selectOption('urgent');
    await form.locator('input[name=contact-name-0]').fill('Caller');
    await form.locator('textarea[name=need]').fill('The generator does not start.');
    await form.locator('input[name=title]').evaluate((e) => {
      (e as HTMLInputElement).value = 'x'.repeat(300); // past maxLength: a script, not a person, can do that
      e.dispatchEvent(new Event('input', { bubbles: true }));
    });
    await form.locator('button[type=submit]').click();
    const fieldError = form.locator('label:has(input[name=title]) .field-error');
    await fieldError.waitFor();
    expect(await fieldError.innerText()).toBe('请填写此项（不超过限定长度）。');
    expect(await form.locator('.error').innerText()).toBe('有字段需要更正，请看下方标注。');
    expect(await form.innerText()).not.toContain('VALIDATION_FAILED');
    expect(errors.filter((e) => /pattern|regular expression/i.test(e))).toEqual([]);
  });

  it('a customer sees only its own unit’s vehicles, opens a request and follows it; the Chinese labels are remembered', async () => {
    const page = await signIn('cust-b');
    await page.waitForSelector('[data-testid=fleet-table] tr[data-vehicle=VB-ONE]');
    const ids = await page
      .locator('[data-testid=fleet-table] tbody tr')
      .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-vehicle')));
    expect(ids).toEqual(['VB-ONE']);
    expect(await page.locator('[data-testid=count-total] .tile-value').innerText()).toBe('1');
    // no alarms view for customers, and another unit's vehicle is not found
    expect(await page.locator('nav a[href="#/alarms"]').count()).toBe(0);
    await page.goto(`${base}/#/vehicles/VA-LIVE`);
    await page.waitForSelector('.error');
    expect(await page.locator('.error').innerText()).toContain('VEHICLE_NOT_FOUND');
    expect(await page.locator('[data-testid=live-charts]').count()).toBe(0);
    // the ticket queue holds none of unit A's tickets
    await page.goto(`${base}/#/tickets`);
    await page.waitForSelector('.view.tickets');
    await page.click('.view.tickets .toolbar button:has-text("All")');
    expect(await page.locator('tr[data-level=extra_urgent]').count()).toBe(0);

    // a request for support: the need and the contacts, then the ticket page to follow progress
    await page.goto(`${base}/#/request?vehicle=VB-ONE`);
    await page.waitForSelector('[data-testid=request-form]');
    // the unit's vehicles load after the form
    await page.waitForSelector('select[name=vehicle] option[value=VB-ONE]', { state: 'attached' });
    expect(
      await page
        .locator('select[name=vehicle] option')
        .evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value)),
    ).toEqual(['', 'VB-ONE']);
    await page.fill('input[name=title]', 'Generator will not start');
    await page.fill(
      'textarea[name=need]',
      'Mains is down at the site and the generator does not start; battery at 60 %.',
    );
    await page.fill('input[name=contact-phone-0]', '+86 138 0000 0000');
    await page.click('[data-testid=request-form] button[type=submit]');
    await page.waitForSelector('[data-testid=ticket-view][data-status=received]');
    expect(await page.locator('[data-testid=ticket-view] .ticket-title').innerText()).toBe('Generator will not start');
    expect(await page.locator('[data-testid=ticket-actions]').count()).toBe(0);
    await page.fill('.inline-form input', 'The crew is waiting at the vehicle.');
    await page.click('.inline-form button[type=submit]');
    await page.waitForFunction(() =>
      document.querySelector('[data-testid=timeline]')?.textContent?.includes('The crew is waiting'),
    );
    customerTicket = new URL(page.url()).hash;

    // switch to Chinese: labels change, and the choice survives a reload
    await page.goto(`${base}/#/fleet`);
    await page.click('[data-testid=lang-switch]');
    await page.waitForSelector('nav a:has-text("车队")');
    expect(await page.locator('nav').innerText()).toContain('工单');
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('zh-CN');
    await page.reload();
    await page.waitForSelector('[data-testid=who]');
    expect(await page.locator('nav').innerText()).toContain('车队');
    expect(await page.locator('[data-testid=fleet-table] thead').innerText()).toContain('电池电量');
  }, 60_000);

  it('staff comment on the customer’s ticket internal by default (marked Internal) or for the customer; the customer sees only the latter', async () => {
    expect(customerTicket).toMatch(/^#\/tickets\/\d+$/);
    const staff = await signIn('eng');
    await staff.goto(`${base}/${customerTicket}`);
    await staff.waitForSelector('[data-testid=ticket-view]');
    expect(await staff.locator('[data-testid=comment-visibility]').inputValue()).toBe('internal');
    await staff.fill('.inline-form input', 'Staff only: check the fuel pump wiring first.');
    await staff.click('.inline-form button[type=submit]');
    const internal = staff.locator('[data-testid=timeline] li[data-visibility=internal]');
    await internal.waitFor();
    expect(await internal.innerText()).toContain('Staff only: check the fuel pump wiring');
    expect(await internal.locator('[data-testid=internal-badge]').innerText()).toBe('Internal');
    await staff.selectOption('[data-testid=comment-visibility]', 'customer');
    await staff.fill('.inline-form input', 'An engineer will call you within 10 minutes.');
    await staff.click('.inline-form button[type=submit]');
    await staff.waitForFunction(() =>
      document.querySelector('[data-testid=timeline]')?.textContent?.includes('will call you within'),
    );
    // back to internal for the next note
    expect(await staff.locator('[data-testid=comment-visibility]').inputValue()).toBe('internal');

    const customer = await signIn('cust-b');
    await customer.goto(`${base}/${customerTicket}`);
    await customer.waitForFunction(() =>
      document.querySelector('[data-testid=timeline]')?.textContent?.includes('will call you within'),
    );
    const seen = await customer.locator('[data-testid=timeline]').innerText();
    expect(seen).not.toContain('Staff only');
    expect(await customer.locator('[data-testid=internal-badge]').count()).toBe(0);
    expect(await customer.locator('[data-testid=comment-visibility]').count()).toBe(0);
  }, 60_000);

  it('a browser set to Chinese starts in Chinese: the queue shows the level badge 特急', async () => {
    const page = await signIn('eng', 'zh');
    expect(await page.locator('nav').innerText()).toContain('车队');
    await page.goto(`${base}/#/tickets`);
    await page.click('.view.tickets .toolbar button:has-text("全部")');
    await page.waitForSelector('tr[data-level=extra_urgent] .badge.level-extra_urgent');
    expect(await page.locator('tr[data-level=extra_urgent] .badge.level-extra_urgent').first().innerText()).toBe(
      '特急',
    );
    // the fault's title in Chinese only, not the bilingual title stored with the ticket
    const title = await page.locator('tr[data-level=extra_urgent] td:nth-child(3)').first().innerText();
    expect(title).toContain('发电机组未运行');
    expect(title).not.toContain('Generator not running');
  }, 60_000);
  it('the duty lead sends commands from a vehicle page: a snapshot is done; a generator start asks a second time, naming the vehicle; customers get no panel', async () => {
    await addAccounts(tp.platform, [{ id: 'duty-lead', name: 'Duty Lead', role: 'engineer' }]);
    const page = await signIn('duty-lead');
    await page.goto(`${base}/#/vehicles/VA-LIVE`);
    await page.waitForSelector('[data-testid=command-panel]');
    await page.click('[data-testid=cmd-snapshot]');
    await page.waitForSelector('[data-testid=cmd-list] tbody tr[data-state=done]', { timeout: 15_000 });

    await page.click('[data-testid=cmd-startGenerator]');
    const dialog = page.locator('[data-testid=cmd-confirm]');
    await dialog.waitFor();
    expect(await dialog.innerText()).toContain('VA-LIVE');
    expect(await page.locator('[data-testid=cmd-list] tbody tr').count()).toBe(1); // nothing sent before confirming
    await page.click('[data-testid=cmd-confirm-send]');
    await page.waitForFunction(
      () => document.querySelectorAll('[data-testid=cmd-list] tbody tr[data-state=done]').length === 2,
      undefined,
      { timeout: 15_000 },
    );
    expect(await page.locator('[data-testid=cmd-list] tbody tr').first().innerText()).toContain('Start generator');

    const customer = await signIn('cust-b');
    await customer.goto(`${base}/#/vehicles/VB-ONE`);
    await customer.waitForSelector('[data-testid=live-charts]');
    expect(await customer.locator('[data-testid=command-panel]').count()).toBe(0);
  }, 60_000);

  it('an admin required to use two-factor authentication enrols from the QR code page, keeps the recovery codes, then signs in with one', async () => {
    const page = await web.openPage({ who: 'boss' });
    await submitLogin(page, base, 'boss');
    // nothing but the security page until enrolled
    await page.waitForSelector('.security button.primary');
    expect(await page.locator('[data-testid=who]').count()).toBe(0);
    await page.click('.security button.primary');
    const qr = page.locator('.security img');
    await qr.waitFor();
    expect(await qr.getAttribute('src')).toMatch(/^data:image\/svg\+xml;base64,/);
    const uri = await page.locator('.security code').innerText();
    const secret = new URL(uri).searchParams.get('secret')!;
    await page.fill('.security input[autocomplete=one-time-code]', generateSync({ secret }));
    await page.click('.security form button[type=submit]');
    const codes = (await page.locator('[data-testid=recovery-codes]').innerText()).split('\n').filter(Boolean);
    expect(codes).toHaveLength(10);
    await page.click('.security .notice button.primary');
    await page.waitForSelector('[data-testid=who]');
    await page.click('[data-testid=logout]');
    // the second step: a recovery code
    await page.fill('input[name=username]', 'boss');
    await page.fill('input[name=password]', PASSWORD);
    await page.click('button[type=submit]');
    await page.fill('input[name=recovery]', codes[0]!);
    await page.click('button[type=submit]');
    await page.waitForSelector('[data-testid=who]');
    await page.click('nav a[href="#/security"]');
    // the page's two-factor state loads after the page itself
    await page.locator('.security', { hasText: '9 recovery codes left' }).waitFor();
  });
});
