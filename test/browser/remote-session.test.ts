/// <reference lib="dom" />
/**
 * The remote session view in real Chromium (playwright-core, Debian's chromium) against the whole
 * platform on real ports, with a simulated vehicle publishing over MQTT: a crew on a phone-sized
 * context asks for remote support, the engineer at a desk-sized one answers and guides, both finish
 * the session; and the ring ladder moves on to the secondary engineer when nobody answers.
 *
 * The server push of `remote.ringing` to the rung accounts is not on this branch yet: the engineer
 * finds the ringing session the way the REST session list and the ticket page show it, and answers
 * in the session view (the ring alert's own Answer button needs that push).
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PlatformEvents } from '../../core/events.ts';
import { localTime } from '../../remote/roster.ts';
import type { Clock } from '../../simulators/clock.ts';
import { createFleet } from '../../simulators/fleet/fleet.ts';
import { addAccounts, DESK, PHONE, startConsole, type ConsoleUnderTest } from '../helpers/browser.ts';
import type { TestPlatform } from '../helpers/platform.ts';

/** Short enough for the ladder to move on within a test, long enough to answer a ring by hand. */
const RING_MS = 2500;

type Fleet = ReturnType<typeof createFleet>;

/** Real time, from now on. */
const wallClock: Clock = { now: () => Date.now() };

describe('remote session view in Chromium', () => {
  let web: ConsoleUnderTest;
  let tp: TestPlatform;
  let base: string;
  let fleet: Fleet | undefined;
  const rings: PlatformEvents['remote.ringing'][] = [];

  beforeAll(async () => {
    web = await startConsole({
      LIVE_FLEET_INTERVAL_MS: '200',
      SESSION_RING_MS: String(RING_MS),
      DUTY_LEAD: 'lead',
    });
    ({ tp, base } = web);
    const p = tp.platform;
    p.bus.on('remote.ringing', (e) => void rings.push(e));
    await p.customers.add({ id: 'UNIT-A', name: 'Unit A' });
    // displayName: what the crew is shown of staff (web/public-names.ts); a crew member is shown by its account id
    await addAccounts(p, [
      { id: 'eng', name: 'Eve Engineer', displayName: 'Eve Engineer', role: 'engineer' },
      { id: 'eng2', name: 'Sam Second', displayName: 'Sam Second', role: 'engineer' },
      { id: 'lead', name: 'Lu Lead', displayName: 'Lu Lead', role: 'dispatcher' },
      { id: 'crew-a', name: 'Chen Crew', role: 'customer', customerId: 'UNIT-A' },
    ]);
    // a whole-day shift today in the service time zone: eng first, then eng2, then the duty lead
    await p.remote.roster.add({
      weekday: localTime(Date.now(), p.remote.roster.timeZone).weekday,
      date: null,
      start: '00:00',
      end: '00:00',
      primary: 'eng',
      secondary: 'eng2',
      dutyLead: 'lead',
    });

    const v1 = await tp.addVehicle('VS-1', 'UNIT-A');
    const v2 = await tp.addVehicle('VS-2', 'UNIT-A');
    // a generator that failed to start on VS-1: the ticket the crew's request joins, with its plan's steps
    await p.tickets.open(
      {
        source: 'rule',
        vehicleId: 'VS-1',
        customerId: 'UNIT-A',
        level: 'extra_urgent',
        title: 'VS-1: fault GEN-START-FAIL',
        need: 'GEN-START-FAIL detected automatically',
        faultCode: 'GEN-START-FAIL',
      },
      'system',
    );
    const now = Date.now();
    fleet = createFleet(
      { clock: wallClock },
      {
        vehicles: [v1, v2],
        brokerUrl: tp.mqttUrl,
        rateHz: 1,
        seed: 'remote-session',
        startTs: now,
        model: { mainsOutagesPerDay: 0 },
      },
    );
    fleet.start();
  }, 120_000);

  afterAll(async () => {
    await fleet?.stop(2000).catch(() => undefined);
    await web?.close();
  });

  const signIn = (
    username: string,
    viewport: { width: number; height: number },
    locale: 'en-GB' | 'zh-CN' = 'en-GB',
  ): Promise<Page> =>
    web.signIn(username, {
      locale,
      viewport,
      ...(viewport === PHONE ? { isMobile: true, hasTouch: true, deviceScaleFactor: 2 } : {}),
      live: true,
    });

  /** The crew asks for help from its vehicle's page and lands on the session view; its id. */
  async function requestSupport(crew: Page, vehicleId: string, words: string): Promise<number> {
    await crew.goto(`${base}/#/vehicles/${vehicleId}`);
    await crew.click('[data-testid=request-support]');
    await crew.fill('textarea', words);
    await crew.click('form button[type=submit]');
    const view = crew.locator('[data-testid=session-view][data-layout=crew]');
    await view.waitFor();
    return Number(await view.getAttribute('data-session'));
  }

  /** The engineer opens the ringing session from its ticket's page (the REST list says it rings). */
  async function openFromTicket(page: Page, sessionId: number): Promise<void> {
    const s = await tp.platform.remote.get(sessionId);
    expect(s.status).toBe('ringing');
    await page.goto(`${base}/#/tickets/${s.ticketId}`);
    await page.click(`[data-testid=session-open-${sessionId}]`);
    await page.waitForSelector(`[data-testid=session-view][data-layout=engineer][data-session="${sessionId}"]`);
  }

  const pointsOf = (page: Page, chart: string) =>
    page.evaluate(
      (c) => Number(document.querySelector(`[data-testid=chart-session-${c}]`)?.getAttribute('data-last') ?? 0),
      chart,
    );

  it('a crew on a phone and an engineer at a desk complete a session: answer, live values, steps, chat, end, record', async () => {
    const eng = await signIn('eng', DESK);
    const crew = await signIn('crew-a', PHONE);
    const sessionId = await requestSupport(crew, 'VS-1', 'The generator does not start, the display shows a fault');
    await crew.waitForSelector('[data-testid=crew-state]');
    expect(await crew.locator('[data-testid=crew-state]').innerText()).toContain('Calling the engineer on duty');
    // the engineer on duty was rung first
    expect(rings.find((r) => r.session.id === sessionId)).toMatchObject({ step: 'primary', accounts: ['eng'] });

    // the engineer's console rings (remote.ringing pushed to staff): answering opens the session view
    await eng.waitForSelector('[data-testid=ring-alert] [data-testid=ring-answer]');
    expect(await eng.locator('[data-testid=ring-alert]').innerText()).toContain('VS-1');
    await eng.click('[data-testid=ring-answer]');
    await eng.waitForSelector(`[data-testid=session-view][data-layout=engineer][data-session="${sessionId}"]`);
    await eng.waitForSelector('[data-testid=session-status][data-status=live]');

    // all four power sections chart live at the full rate; the values keep updating
    for (const c of ['mains', 'generator', 'battery', 'charging'])
      await eng.waitForSelector(`[data-testid=chart-session-${c}] canvas`);
    await eng.waitForFunction(
      () => Number(document.querySelector('[data-testid=chart-session-battery]')?.getAttribute('data-points')) > 0,
      undefined,
      { timeout: 15_000 },
    );
    const before = await pointsOf(eng, 'battery');
    await eng.waitForFunction(
      (b) => Number(document.querySelector('[data-testid=chart-session-battery]')?.getAttribute('data-last')) > b,
      before,
      { timeout: 15_000 },
    );
    expect(await eng.locator('[data-testid=values-battery]').innerText()).toMatch(/\d+\.\d V/);
    // next to each section, the vehicle's power profile its limits are relative to
    const profile = (await tp.platform.vehicles.get('VS-1'))!.profile;
    expect(await eng.locator('[data-testid=session-charts]').innerText()).toContain(
      `Mains ${profile.mains.nominalV} V, ${profile.mains.frequencyHz} Hz`,
    );
    // and the limits relative to it: the rules' bands as lines on the charts and in words under them
    const lo = Math.round(profile.mains.nominalV * 0.93 * 1000) / 1000;
    const hi = Math.round(profile.mains.nominalV * 1.07 * 1000) / 1000;
    const genLimits = await eng.locator('[data-testid=limits-generator]').innerText();
    expect(genLimits).toContain(
      `GEN-VOLTAGE Generator output voltage out of tolerance: ${lo.toFixed(1)}–${hi.toFixed(1)} V`,
    );
    expect(genLimits).toContain('(only while generator running, Generator rpm > 1000)');
    const limitLines = await eng.locator('[data-testid=chart-session-generator]').getAttribute('data-limits');
    expect(limitLines).toContain(`left:${lo}:GEN-VOLTAGE < ${lo.toFixed(1)} V`);
    expect(limitLines).toContain(`right:${profile.mains.frequencyHz * 1.04}:GEN-FREQUENCY > `);
    const cell = (profile.battery.nominalV / 2) * 1.8;
    expect(await eng.locator('[data-testid=limits-battery]').innerText()).toContain(`< ${cell.toFixed(1)} V`);
    // the generator that failed to start shows 0 V: below the band, but the band counts only while it runs
    expect(await eng.locator('[data-testid=values-generator] [data-field="generator.voltageV"]').innerText()).toBe(
      '0.0 V',
    );
    expect(await eng.locator('[data-testid=values-generator] .past-limit').count()).toBe(0);
    // the ticket's deadlines and the command panel are there for the lead
    expect(await eng.locator('[data-testid=session-ticket]').innerText()).toMatch(/left|overdue|done/);
    await eng.waitForSelector('[data-testid=command-panel]');

    // the first step's expected observation (fuel above 10 %) is checked against the live frames and
    // passes by itself, with its evidence; the crew's phone shows the next one in big type
    await eng.waitForSelector('[data-testid=step-0][data-status=passed]');
    expect(await eng.locator('[data-testid=step-0]').innerText()).toContain('generator.fuelPct');
    const step = crew.locator('[data-testid=crew-step][data-index="1"]');
    await step.waitFor();
    expect(await step.innerText()).toContain('Read the fault code');
    await crew.waitForFunction(() =>
      document.querySelector('[data-testid=key-values] [data-field=loadKw]')?.textContent?.includes('kW'),
    );
    expect(await crew.locator('[data-testid=crew-state]').innerText()).toContain('Eve Engineer is with you');
    // the big buttons fit the phone's width
    const box = await crew.locator('[data-testid=crew-done]').boundingBox();
    expect(box!.x + box!.width).toBeLessThanOrEqual(PHONE.width);
    expect(box!.height).toBeGreaterThanOrEqual(60);

    // the crew reports what it sees and marks the step done
    await crew.click('[data-testid=crew-observe]');
    await crew.fill('[data-testid=observation]', 'Display shows E-21 start failure, controller in AUTO');
    await crew.click('[data-testid=observation-send]');

    // the engineer sees the observation; the battery check passes from the frames; the engineer does
    // the trip reset and skips the remote start
    await eng.waitForFunction(() =>
      document.querySelector('[data-testid=step-1]')?.textContent?.includes('E-21 start failure'),
    );
    await eng.waitForSelector('[data-testid=step-2][data-status=passed]');
    await eng.waitForSelector('[data-testid=step-3].current');
    await eng.click('[data-testid=step-3] [data-testid=step-done]');
    await eng.waitForSelector('[data-testid=step-3][data-status=done]');
    await eng.waitForSelector('[data-testid=step-4].current');
    // the crew's phone follows: the engineer's step, with its safety note, nothing for the crew to press
    const engineerStep = crew.locator('[data-testid=crew-step][data-index="4"]');
    await engineerStep.waitFor();
    expect(await engineerStep.innerText()).toContain("Nobody at the generator's moving parts");
    expect(await engineerStep.innerText()).toContain('The engineer does this step');
    expect(await crew.locator('[data-testid=crew-done]').count()).toBe(0);
    await eng.click('[data-testid=step-4] [data-testid=step-skip]');
    await eng.waitForSelector('[data-testid=step-4][data-status=skipped]');
    await crew.waitForSelector('[data-testid=crew-step][data-index="5"]');

    // the lead may send a power command from the session, after the second confirmation naming the
    // vehicle; the gateway's answer (done, or refused with its reason) comes back to the panel
    await eng.click('[data-testid=cmd-startGenerator]');
    expect(await eng.locator('[data-testid=cmd-confirm]').innerText()).toContain('VS-1');
    await eng.click('[data-testid=cmd-confirm-send]');
    await eng.waitForSelector(
      '[data-testid=cmd-list] tr[data-state=done], [data-testid=cmd-list] tr[data-state=refused]',
    );
    expect(await eng.locator('[data-testid=cmd-error]').count()).toBe(0);
    // sent from the session: the command and its answer are on the session's timeline (the record)
    const kinds = (await tp.platform.remote.timeline(sessionId)).filter(
      (e) =>
        (e.kind === 'command' || e.kind === 'ack') && (e.data as { name?: string } | null)?.name === 'startGenerator',
    );
    expect(kinds.map((e) => e.kind)).toEqual(['command', 'ack']);

    // chat both ways, in order, with the sender's name and part
    await eng.fill('[data-testid=chat-input]', 'I reset the trip now; stand clear of the set');
    await eng.click('[data-testid=chat-send]');
    await crew.waitForFunction(() =>
      document.querySelector('[data-testid=session-chat]')?.textContent?.includes('stand clear of the set'),
    );
    expect(await crew.locator('[data-testid=session-chat] li').last().innerText()).toContain('lead engineer');
    await crew.fill('[data-testid=chat-input]', 'Clear, standing by');
    await crew.click('[data-testid=chat-send]');
    await eng.waitForFunction(() =>
      document.querySelector('[data-testid=session-chat]')?.textContent?.includes('Clear, standing by'),
    );
    const lines = await eng.locator('[data-testid=session-chat] li').allInnerTexts();
    expect(lines.at(-2)).toContain('Eve Engineer');
    expect(lines.at(-1)).toContain('crew-a · crew');

    // a reload keeps the state: the crew's phone rejoins with what it had
    await crew.reload();
    await crew.waitForSelector('[data-testid=crew-step][data-index="5"]');
    expect(await crew.locator('[data-testid=session-chat] li').count()).toBe(2);

    // the engineer ends it, resolved remotely; both sides see the outcome
    await eng.selectOption('[data-testid=session-outcome-select]', 'resolved_remotely');
    await eng.click('[data-testid=session-end]');
    await eng.waitForSelector('[data-testid=session-status][data-status=ended]');
    await crew.waitForSelector('[data-testid=session-status][data-status=ended]');
    expect(await crew.locator('[data-testid=session-outcome]').innerText()).toContain('resolved remotely');

    // the ticket page lists the session with its printable record
    const s = await tp.platform.remote.get(sessionId);
    await eng.goto(`${base}/#/tickets/${s.ticketId}`);
    const record = eng.locator(`[data-testid=session-record-${sessionId}]`);
    await record.waitFor();
    const res = await eng.request.get(`${base}${await record.getAttribute('href')}`);
    expect(res.status()).toBe(200);
    const html = await res.text();
    expect(html).toContain('Display shows E-21 start failure, controller in AUTO');
    expect(html).toContain('stand clear of the set');
  }, 60_000);

  it('a ring nobody answers moves on to the secondary engineer after SESSION_RING_MS, who answers', async () => {
    // this crew's phone is set to Chinese
    const crew = await signIn('crew-a', PHONE, 'zh-CN');
    const second = await signIn('eng2', DESK);
    const sessionId = await requestSupport(crew, 'VS-2', 'No power at all on VS-2');
    expect(await crew.locator('[data-testid=crew-state]').innerText()).toContain('正在呼叫值班工程师');
    const first = rings.find((r) => r.session.id === sessionId);
    expect(first).toMatchObject({ step: 'primary', accounts: ['eng'] });

    // the secondary watches the ringing session; nobody answers and the platform's timer rings it
    await openFromTicket(second, sessionId);
    await second.waitForFunction(
      () =>
        Array.from(document.querySelectorAll('[data-testid=session-timeline] li[data-kind=ring]')).some((li) =>
          li.textContent?.includes('ringing the secondary engineer'),
        ),
      undefined,
      { timeout: RING_MS * 4 },
    );
    const secondary = rings.find((r) => r.session.id === sessionId && r.step === 'secondary');
    expect(secondary?.accounts).toEqual(['eng2']);
    // not sooner than SESSION_RING_MS after the first ring
    expect(rings.indexOf(secondary!)).toBeGreaterThan(rings.indexOf(first!));

    await second.click('[data-testid=session-answer]');
    await second.waitForSelector('[data-testid=session-status][data-status=live]');
    const lead = await second.locator('[data-testid=participants] li').allInnerTexts();
    expect(lead.some((l) => l.includes('Sam Second') && l.includes('lead engineer'))).toBe(true);
    await crew.waitForFunction(() =>
      document.querySelector('[data-testid=crew-state]')?.textContent?.includes('Sam Second 正在为您服务'),
    );
    const s = await tp.platform.remote.get(sessionId);
    expect(s).toMatchObject({ status: 'live', answeredBy: 'eng2' });
    expect(s.answeredAt! - s.requestedAt).toBeGreaterThanOrEqual(RING_MS);
  }, 60_000);
});
