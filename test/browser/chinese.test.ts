/// <reference lib="dom" />
/**
 * The Chinese console in real Chromium: every main view (fleet, vehicle, ticket, queue, alarms,
 * admin, duty roster, notifications, remote session — as staff and as the customer) is walked in
 * 简体中文 with a ticket that has a full timeline, and the test fails on any English word left in
 * the visible text, outside ids, codes, units, names and a small explicit allowlist. Also: the
 * language switch reads without Chinese fonts, times are in the one format, and an admin is offered
 * no Disable on its own account.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFleet } from '../../simulators/fleet/fleet.ts';
import { addAccounts, catchUpClock, DESK, startConsole, type ConsoleUnderTest } from '../helpers/browser.ts';
import type { TestPlatform } from '../helpers/platform.ts';

/**
 * Latin words a Chinese view may show: the product's name, the switch's "EN", units, and the
 * protocol and brand names users know in Latin letters. Ids, codes and names come on top (below).
 */
const ALLOWED = new Set([
  'PowerWatch',
  'EN',
  'V',
  'A',
  'Hz',
  'kW',
  'kPa',
  'rpm',
  'Ah',
  'h',
  'min',
  's',
  'C',
  'SOC',
  'MQTT',
  // a file format's name (the service report's download)
  'PDF',
  'ID',
  'API',
  'JSONL',
  'Webhook',
  'DingTalk',
  'WeCom',
  'JPEG',
  'PNG',
  'WebP',
  'MB',
  // the switch's position on the generator's controller, as printed on the panel (the plan's own words)
  'AUTO',
  // a language's name in its own language, in a choice of languages
  'English',
]);

/** The Latin words of `text` that are not allowed: codes (GEN-START-FAIL), ids and names removed first. */
export function englishWords(text: string, names: readonly string[]): string[] {
  let rest = text
    .replace(/\b[A-Z][A-Z0-9]*(?:[-_][A-Z0-9]+)+\b/g, ' ')
    .replace(/\b[A-Z][a-z]+\/[A-Z][A-Za-z_]+\b/g, ' '); // a time zone's IANA id: Asia/Shanghai
  for (const n of [...names].sort((a, b) => b.length - a.length)) rest = rest.split(n).join(' ');
  return [...new Set((rest.match(/[A-Za-z]+/g) ?? []).filter((w) => !ALLOWED.has(w)))];
}

describe('the console in Chinese', () => {
  let web: ConsoleUnderTest;
  let tp: TestPlatform;
  let base: string;
  let ticketId = 0;
  const fleets: ReturnType<typeof createFleet>[] = [];
  /** Ids and proper names a view may show as they are. */
  const names = ['VA-GEN', 'VA-CALM', 'UNIT-A', 'boss', 'eng', 'desk', 'crew', 'system'];
  /** The platform's first administrator, as web/auth/bootstrap.ts creates it. */
  names.push('admin', 'Administrator');

  beforeAll(async () => {
    web = await startConsole({ LIVE_FLEET_INTERVAL_MS: '200' });
    ({ tp, base } = web);
    const p = tp.platform;
    await p.customers.add({ id: 'UNIT-A', name: '北方电网应急分队' });
    await addAccounts(p, [
      { id: 'boss', name: '周平', role: 'admin' },
      { id: 'eng', name: '王工', role: 'engineer' },
      { id: 'desk', name: '李值班', role: 'dispatcher' },
      { id: 'crew', name: '北方电网应急分队车组', role: 'customer', customerId: 'UNIT-A' },
    ]);
    await p.remote.roster.add({
      weekday: null,
      date: '2026-12-03',
      start: '08:00',
      end: '20:00',
      primary: 'eng',
      secondary: null,
      dutyLead: 'desk',
    });
    const gen = await p.vehicles.add({ id: 'VA-GEN', customerId: 'UNIT-A', name: '方舱 3 号' });
    const calm = await p.vehicles.add({ id: 'VA-CALM', customerId: 'UNIT-A', name: '通信车 1 号' });

    // a generator that does not start after a mains outage, played 10× fast: alarms and an extra-urgent ticket
    const opened = new Promise<number>((resolve) =>
      p.bus.on('ticket.opened', (e) => {
        if (e.ticket.vehicleId === 'VA-GEN') resolve(e.ticket.id);
      }),
    );
    const startTs = Date.now() - 150_000;
    const fleet = createFleet(
      { clock: catchUpClock(startTs, 10) },
      {
        vehicles: [
          { id: gen.vehicle.id, secret: gen.secret },
          { id: calm.vehicle.id, secret: calm.secret },
        ],
        brokerUrl: tp.mqttUrl,
        rateHz: 1,
        seed: 'zh',
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
    fleets.push(fleet);
    fleet.start();
    ticketId = await opened;

    // a timeline with the platform's own entries: assigned, mode, ETA, a status change, a comment
    await p.tickets.assign(ticketId, 'eng', 'desk');
    await p.tickets.setServiceMode(ticketId, 'remote_support', 'eng');
    await p.tickets.setEta(ticketId, Date.now() + 3_600_000, null, 'eng');
    await p.tickets.transition(ticketId, 'determine_work_content', 'eng');
    await p.tickets.comment(ticketId, 'eng', '请先检查燃油泵。', 'customer');
  }, 120_000);

  afterAll(async () => {
    for (const f of fleets) await f.stop(2000).catch(() => undefined);
    await web?.close();
  });

  const signIn = (username: string): Promise<Page> =>
    web.signIn(username, { locale: 'zh-CN', viewport: DESK, live: true });

  /** Opens `hash`, waits for `ready`, and returns the English words left in what the page shows. */
  async function englishOn(page: Page, hash: string, ready: string): Promise<string[]> {
    if (hash) await page.goto(`${base}/${hash}`);
    await page.waitForSelector(ready);
    await page.waitForFunction(() => !document.querySelector('.content')?.textContent?.includes('加载中'));
    // what is marked as code (ids, expressions) is not words
    const text = await page.evaluate(() => {
      let all = document.body.innerText;
      for (const c of Array.from(document.querySelectorAll('code')))
        all = all.replace((c as HTMLElement).innerText, ' ');
      return all;
    });
    if (process.env.ZH_TEXT_DIR)
      writeFileSync(join(process.env.ZH_TEXT_DIR, `${(hash || ready).replace(/\W+/g, '_')}.txt`), text);
    return englishWords(text, names).map((w) => `${hash || ready}: ${w}`);
  }

  it('staff views say no English word', async () => {
    const eng = await signIn('eng');
    const left: string[] = [];
    left.push(...(await englishOn(eng, '#/fleet', '[data-testid=open-ticket-VA-GEN]')));
    left.push(...(await englishOn(eng, '#/vehicles/VA-GEN', '[data-testid=chart-battery] .u-legend')));
    left.push(...(await englishOn(eng, `#/tickets/${ticketId}`, '[data-testid=plan]')));
    left.push(...(await englishOn(eng, '#/tickets', 'tr[data-level=extra_urgent]')));
    left.push(...(await englishOn(eng, '#/alarms', '.view.alarms tbody tr')));
    left.push(...(await englishOn(eng, '#/roster', '.view.roster')));
    left.push(...(await englishOn(eng, '#/notifications', '.view.notifications')));
    const boss = await signIn('boss');
    left.push(...(await englishOn(boss, '#/admin', '[data-testid=account-disable-eng]')));
    expect(left).toEqual([]);
  }, 120_000);

  it('the customer’s views and a remote session say no English word', async () => {
    const crew = await signIn('crew');
    const left: string[] = [];
    left.push(...(await englishOn(crew, '#/fleet', '[data-testid=fleet-table] tr[data-vehicle=VA-GEN]')));
    left.push(...(await englishOn(crew, `#/tickets/${ticketId}`, '[data-testid=timeline]')));
    left.push(...(await englishOn(crew, '#/notifications', '.view.notifications')));
    await crew.goto(`${base}/#/vehicles/VA-CALM`);
    await crew.click('[data-testid=request-support]');
    await crew.fill('textarea', '发电机无法启动，请远程支援。');
    await crew.click('form button[type=submit]');
    const view = crew.locator('[data-testid=session-view][data-layout=crew]');
    await view.waitFor();
    const sessionId = Number(await view.getAttribute('data-session'));
    left.push(...(await englishOn(crew, '', '[data-testid=session-view][data-layout=crew]')));

    const eng = await signIn('eng');
    const s = await tp.platform.remote.get(sessionId);
    await eng.goto(`${base}/#/tickets/${s.ticketId}`);
    await eng.click(`[data-testid=session-open-${sessionId}]`);
    left.push(...(await englishOn(eng, '', '[data-testid=session-view][data-layout=engineer]')));
    expect(left).toEqual([]);
  }, 120_000);

  it('times in the one format and the timeline in Chinese, the platform’s entries included', async () => {
    const eng = await signIn('eng');
    await eng.goto(`${base}/#/tickets/${ticketId}`);
    const timeline = eng.locator('[data-testid=timeline]');
    await timeline.waitFor();
    const text = await timeline.innerText();
    expect(text).toContain('指派给 eng');
    expect(text).toContain('远程技术支援');
    expect(text).toMatch(/设定预计完成时间\s+\d{4}-\d\d-\d\d \d\d:\d\d/);
    expect(text).not.toMatch(/\d{4}-\d\d-\d\dT/);
    // date and time fields in the same format, not the browser locale's picker ("12/04/2026, 11:09 AM")
    expect(await eng.locator('[data-testid=eta-form] input[data-format=datetime]').inputValue()).toMatch(
      /^\d{4}-\d\d-\d\d \d\d:\d\d$/,
    );
    expect(await eng.locator('input[data-format=datetime]').first().getAttribute('placeholder')).toBe(
      '2026-12-03 17:37',
    );
    // the duty desk's roster form: the date and the hours the same way
    const desk = await signIn('desk');
    for (const [hash, ready] of [
      [`#/tickets/${ticketId}`, 'input[data-format=datetime]'],
      ['#/roster', 'input[data-format=date] ~ input[data-format=time]'],
      ['#/notifications', '[data-testid=notifications-view]'],
    ]) {
      await desk.goto(`${base}/${hash}`);
      await desk.waitForSelector(ready!);
      expect(await desk.locator('input[type=date], input[type=time], input[type=datetime-local]').count()).toBe(0);
    }

    // no "pm" or "Time" on the charts: 24-hour ticks and the legend's time column in Chinese
    await eng.goto(`${base}/#/vehicles/VA-GEN`);
    const legend = eng.locator('[data-testid=chart-battery] .u-legend');
    await legend.waitFor();
    // the legend shows the newest values once the history has loaded into the chart
    await expect
      .poll(() => legend.innerText(), { timeout: 15_000 })
      .toMatch(/时间[\s\S]*\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/);
    expect(await legend.innerText()).not.toMatch(/\b(am|pm|Time)\b/i);
  }, 60_000);

  it('the language switch reads "中文 / EN" without Chinese fonts; an admin has no Disable for itself', async () => {
    const boss = await signIn('boss');
    const sw = boss.locator('[data-testid=lang-switch]');
    // "中文" is drawn, not written: the button's text needs no CJK font
    expect((await sw.innerText()).replace(/\s+/g, ' ').trim()).toBe('/ EN');
    expect(await sw.locator('svg.zhongwen path').count()).toBe(2);
    expect(await sw.getAttribute('data-lang')).toBe('zh');
    await boss.goto(`${base}/#/admin`);
    await boss.waitForSelector('[data-testid=account-disable-eng]');
    expect(await boss.locator('[data-testid=account-disable-boss]').count()).toBe(0);
  }, 60_000);
});
