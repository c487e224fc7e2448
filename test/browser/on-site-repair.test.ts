/// <reference lib="dom" />
/**
 * On-site repair (现场修理) in real Chromium (issue 13 item 3, docs/service.md): a generator that
 * fails to start during a mains outage, played by the simulator fleet through the real broker,
 * opens an extra-urgent (特急) ticket by the rules; the duty desk classifies it, determines the work
 * content, names the leader and chooses on-site repair; the engineer records the steps (transport
 * agreed, departure with the ETA, arrival at the time it happened, the joint assessment, the cause,
 * the repair); the customer confirms the joint assessment, then — the fault over and the alarms
 * cleared — the repair; the desk closes it; the service report PDF carries the steps; the
 * customer answers the survey.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localDateTime } from '../../core/local-time.ts';
import { createFleet } from '../../simulators/fleet/fleet.ts';
import { addAccounts, catchUpClock, startConsole, type ConsoleUnderTest } from '../helpers/browser.ts';
import type { TestPlatform } from '../helpers/platform.ts';

const pad = (n: number) => String(n).padStart(2, '0');
/** A time as the console's date field takes it: "2026-12-04 13:20" (local time). */
const field = (ms: number) => {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
};

describe('on-site repair of a rule-opened 特急 ticket, to the report and the survey (Chromium)', () => {
  let web: ConsoleUnderTest;
  let tp: TestPlatform;
  let base: string;
  let ticketId = 0;
  let alarmsCleared: Promise<void>;
  const fleets: ReturnType<typeof createFleet>[] = [];

  beforeAll(async () => {
    web = await startConsole({ DIAGNOSTICS_TICK_MS: '200' });
    ({ tp, base } = web);
    const p = tp.platform;
    await p.customers.add({ id: 'UNIT-A', name: 'Unit A' });
    await addAccounts(p, [
      { id: 'desk', name: 'Di Desk', role: 'dispatcher' },
      { id: 'eng', name: 'Wang Eng', role: 'engineer' },
      { id: 'crew', name: 'Crew of Unit A', role: 'customer', customerId: 'UNIT-A' },
    ]);
    const gen = await p.vehicles.add({ id: 'VA-GEN', customerId: 'UNIT-A', name: 'Shelter 3' });

    // the generator fails to start in a mains outage (the fault frames go through the broker); the
    // outage ends 200 s later (simulated, 20× fast) and the alarms clear
    const raised = new Set<number>();
    const cleared = new Set<number>();
    alarmsCleared = new Promise<void>((resolve) => {
      const check = () => {
        if (raised.size > 0 && [...raised].every((id) => cleared.has(id))) resolve();
      };
      p.bus.on('alarm.raised', (e) => void (e.alarm.vehicleId === 'VA-GEN' && raised.add(e.alarm.id)));
      p.bus.on('alarm.cleared', (e) => {
        if (e.alarm.vehicleId !== 'VA-GEN') return;
        cleared.add(e.alarm.id);
        check();
      });
    });
    const opened = new Promise<number>((resolve) =>
      p.bus.on('ticket.opened', (e) => {
        if (e.ticket.vehicleId === 'VA-GEN' && e.ticket.source === 'rule' && e.ticket.level === 'extra_urgent')
          resolve(e.ticket.id);
      }),
    );
    const startTs = Date.now() - 400_000;
    const fleet = createFleet(
      { clock: catchUpClock(startTs, 20) },
      {
        vehicles: [{ id: gen.vehicle.id, secret: gen.secret }],
        brokerUrl: tp.mqttUrl,
        rateHz: 1,
        seed: 'on-site',
        startTs,
        model: { mainsOutagesPerDay: 0 },
        scenarios: [
          {
            name: 'generator-start-failure',
            atS: 10,
            durationS: 200,
            vehicles: ['VA-GEN'],
            params: { withOutage: true },
          },
        ],
      },
    );
    fleets.push(fleet);
    fleet.start();
    ticketId = await opened;
  }, 120_000);

  afterAll(async () => {
    for (const f of fleets) await f.stop(2000).catch(() => undefined);
    await web?.close();
  });

  const signIn = (username: string): Promise<Page> => web.signIn(username, { acceptDownloads: true });

  /** Records the step the form offers first, with its fields, and waits until it shows as done. */
  async function recordStep(page: Page, step: string, fields: Record<string, string> = {}, at?: string) {
    const form = page.locator('[data-testid=mode-step-form]');
    await form.waitFor();
    expect(await form.locator('[data-testid=mode-step-select]').inputValue()).toBe(step);
    for (const [name, value] of Object.entries(fields)) {
      const input = form.locator(`[data-testid=mode-step-field-${name}], input[name=mode-step-field-${name}]`);
      await input.fill(value);
    }
    if (at) await form.locator('input[name=mode-step-at]').fill(at);
    await form.locator('[data-testid=mode-step-submit]').click();
    await page.waitForSelector(`[data-testid=mode-step-${step}][data-done=true]`);
  }

  it('classification, team, on-site steps, repair, both sides’ confirmation, report PDF, survey', async () => {
    const url = `${base}/#/tickets/${ticketId}`;
    // the duty desk: classifies, determines the work content, names the leader, chooses on-site repair
    const desk = await signIn('desk');
    await desk.goto(url);
    await desk.waitForSelector('[data-testid=classification][data-confirmed=no]');
    await desk.selectOption('[data-testid=classify-form] select[name=level]', 'extra_urgent');
    await desk.fill('[data-testid=classify-form] input[name=reason]', 'generator down, shelter on battery');
    await desk.click('[data-testid=classify-form] button[type=submit]');
    await desk.waitForSelector('[data-testid=classification][data-confirmed=yes]');
    await desk.click('[data-action=determine_work_content]');
    await desk.waitForSelector('[data-testid=ticket-view][data-status=work_content_determined]');
    await desk.selectOption('[data-testid=assign-select]', 'eng');
    await desk.waitForSelector('[data-testid=ticket-team] li[data-role=leader]');
    await desk.selectOption('[data-testid=service-mode-select]', 'on_site_repair');
    await desk.waitForSelector('[data-testid=mode-steps-on_site_repair][data-current=true]');
    await desk.click('[data-action=start_service]');
    await desk.waitForSelector('[data-testid=ticket-view][data-status=in_service]');

    // the engineer records the on-site steps in their order
    const eng = await signIn('eng');
    await eng.goto(url);
    await recordStep(eng, 'agreed', { transport: 'service car from Yueyang' });
    await recordStep(eng, 'departed', { eta: field(Date.now() + 90 * 60_000) });
    expect(await eng.locator('[data-testid=ticket-eta]').innerText()).toContain(
      field(Date.now() + 90 * 60_000).slice(0, 10),
    );
    // arrival typed as it happened (this minute: the console's times have no seconds)
    const arrival = Math.floor(Date.now() / 60_000) * 60_000;
    await recordStep(eng, 'arrived', {}, field(arrival));
    await recordStep(eng, 'joint_assessment', { result: 'controller latched GEN_START_FAIL; starter relay burnt' });

    // the customer side confirms the joint assessment (双方鉴定)
    const crew = await signIn('crew');
    await crew.goto(url);
    await crew.click('[data-testid=mode-step-confirm-joint_assessment]');
    await crew.waitForSelector('[data-testid=mode-step-confirmed-joint_assessment]');
    expect(await crew.locator('[data-testid=mode-step-arrived]').innerText()).toContain(field(arrival));

    await recordStep(eng, 'cause_found', { result: 'starter relay contacts burnt' });
    await recordStep(eng, 'repaired_on_site', { result: 'starter relay replaced; three test starts' });
    await eng.fill('[data-testid=resolution-root-cause]', 'starter relay contacts burnt');
    await eng.fill('[data-testid=resolution-work-done]', 'starter relay replaced, three test starts');
    await eng.click('[data-action=mark_repaired]');
    await eng.waitForSelector('[data-testid=ticket-view][data-status=repaired]');

    // the fault is over: the alarms clear, and the customer confirms the repair (双方确认)
    await alarmsCleared;
    await crew.goto(url);
    await crew.waitForSelector('[data-testid=ticket-view][data-status=repaired]');
    await crew.fill('[data-testid=confirm-repair] input[name=note]', 'generator starts again');
    await crew.click('[data-testid=confirm-repair] button[type=submit]');
    await crew.waitForSelector('[data-testid=ticket-view][data-status=verified]');

    await desk.goto(url);
    await desk.click('[data-action=close]');
    await desk.waitForSelector('[data-testid=ticket-view][data-status=closed]');

    // the service report PDF carries the on-site steps with their times and people
    const dir = mkdtempSync(join(tmpdir(), 'pw-report-'));
    try {
      const [download] = await Promise.all([
        desk.waitForEvent('download'),
        desk.click('[data-testid=ticket-report-pdf]'),
      ]);
      const file = join(dir, 'report.pdf');
      await download.saveAs(file);
      const text = execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' }).replace(/\s+/g, ' ');
      expect(text).toContain('Steps of each service mode');
      for (const s of [
        'Transport and time agreed',
        'Departed',
        'Arrived on site',
        'Cause of the fault found',
        'Repaired on site',
      ])
        expect(text).toContain(s);
      // times in the service centre's zone (SERVICE_TIME_ZONE), staff by their public label
      expect(text).toContain(`${localDateTime(arrival, 'Asia/Shanghai')} Arrived on site Engineer`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }

    // the customer answers the satisfaction survey
    await crew.goto(url);
    await crew.waitForSelector('[data-testid=survey] [data-testid=survey-submit]');
    await crew.selectOption('[data-testid=survey-quality]', '4');
    await crew.click('[data-testid=survey-submit]');
    await crew.waitForSelector('[data-testid=survey-answered]');

    // the statistics' time to arrive comes from the arrival step
    const outcome = await tp.platform.records
      .selectFrom('ticket_outcomes')
      .select('arrived_at')
      .where('ticket_id', '=', ticketId)
      .executeTakeFirstOrThrow();
    expect(Number(outcome.arrived_at)).toBe(arrival);
  }, 180_000);
});
