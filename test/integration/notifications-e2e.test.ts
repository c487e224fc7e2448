import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Ticket } from '../../diagnostics/types.ts';
import type { Selectable } from 'kysely';
import type { NotificationsTable } from '../../notifications/outbox.ts';
import { createAccounts } from '../../web/auth/accounts.ts';
import { apiAs, httpLogin, type Login } from '../helpers/live-client.ts';
import { frame, startTestPlatform, withTimeout, type TestPlatform } from '../helpers/platform.ts';
import { dingtalkAccepts, startReceiver, type Received } from '../notifications/receivers.ts';
import { PASSWORD as SMTP_PASSWORD, startSmtp, USER as SMTP_USER } from '../notifications/smtp.ts';
import { docsVerifier } from '../notifications/verifier.ts';
import { PASSWORD, TEST_COST } from '../web/helpers.ts';

const PUBLIC = 'https://pw.example.com';
const HOOK_SECRET = 'e2e-unit-hook-secret-2026';
const DING_SECRET = 'SECe2e0123456789abcdef0123456789abcdef0123456789abcdef0123456789';
const UNIT = 'C9';
const VEHICLE = 'AMB-E2E-1';
const VEHICLE_NAME = 'Ambulance 9 / 救护车9号';
const MINUTE = 60_000;
type NotificationRow = Selectable<NotificationsTable>;

/** Mains lost and the generator never starts: GEN-START-FAIL (critical) opens a 特急 ticket. */
function faultFrames(): ReturnType<typeof frame>[] {
  const t0 = Date.now() - 150_000;
  return Array.from({ length: 150 }, (_, i) => {
    const ts = t0 + i * 1000;
    if (i < 20) return frame(i, ts);
    return frame(i, ts, {
      source: 'battery',
      mains: { present: false, voltageV: 0, frequencyHz: 0, currentA: 0 },
      generator: {
        running: false,
        voltageV: 0,
        frequencyHz: 0,
        currentA: 0,
        rpm: 0,
        fuelPct: 80,
        coolantC: 25,
        oilKpa: 0,
      },
      battery: { voltageV: 25.1, currentA: -45, socPct: 70 - i / 10, tempC: 26 },
    });
  });
}

const keyOf = (r: Received) => r.headers['x-powerwatch-id'] as string;

/**
 * Issue 12 end to end, through the whole platform: the channels file points at a real SMTP server
 * (STARTTLS + login), a webhook receiver that checks signatures with the documented verifier and a
 * DingTalk robot receiver that checks DingTalk's signature; the unit's contacts are set through the
 * contacts API; a vehicle's fault over MQTT opens a 特急 ticket. Then: a restart between enqueue and
 * delivery, a receiver failing 3 times, and a breach (the platform's clock moved past the
 * 30-minute deadline across a restart) that pages, escalates unacknowledged and is acknowledged by
 * the signed link. No sleeps: every wait is for a delivery the platform reports or a receiver sees.
 */
describe('notifications end to end through the platform', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pw-notify-e2e-'));
  const cleanup: (() => Promise<unknown> | void)[] = [];
  afterAll(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a fault reaches email, webhook and DingTalk once per key; survives a restart; retries; a breach pages, escalates and is acknowledged', async () => {
    const verify = await docsVerifier();
    const smtp = await startSmtp();
    cleanup.push(() => smtp.close());
    /** How the webhook receiver answers; set per phase. */
    let hookAnswer: (r: Received, tries: number) => { status: number } | 'hang' = () => ({ status: 200 });
    const hookTries = new Map<string, number>();
    /** Keys the receiver accepted (answered 200). */
    const hookAccepted: string[] = [];
    const hook = await startReceiver((r) => {
      const n = (hookTries.get(keyOf(r)) ?? 0) + 1;
      hookTries.set(keyOf(r), n);
      const a = hookAnswer(r, n);
      if (a !== 'hang' && a.status === 200) hookAccepted.push(keyOf(r));
      return a;
    });
    cleanup.push(() => hook.close());
    const ding = await startReceiver(() => ({ status: 200, body: JSON.stringify({ errcode: 0, errmsg: 'ok' }) }));
    cleanup.push(() => ding.close());

    const channels = join(dir, 'channels.yaml');
    writeFileSync(
      channels,
      [
        'smtp:',
        '  host: 127.0.0.1',
        `  port: ${smtp.port}`,
        '  security: starttls',
        `  user: ${SMTP_USER}`,
        `  password: ${SMTP_PASSWORD}`,
        '  from: "PowerWatch <noreply@pw.example.com>"',
        '  rejectUnauthorized: false',
        'webhooks:',
        '  - id: unit-hook',
        `    url: ${hook.url}/hook`,
        `    secret: ${HOOK_SECRET}`,
        `    customerId: ${UNIT}`,
        'robots:',
        '  - id: unit-ding',
        '    kind: dingtalk',
        `    url: ${ding.url}/robot/send?access_token=ding-e2e`,
        `    secret: ${DING_SECRET}`,
        '',
      ].join('\n'),
    );
    const env = {
      NOTIFY_CHANNELS_FILE: channels,
      PUBLIC_URL: PUBLIC,
      NOTIFY_POLL_MS: '100',
      NOTIFY_BACKOFF_BASE_MS: '20',
      NOTIFY_BACKOFF_MAX_MS: '200',
      NOTIFY_STOP_TIMEOUT_MS: '50',
      PAGE_AT_RISK_MS: '0',
      PAGE_CHAIN: 'duty_lead:1s,service_manager',
      PAGE_SECRET: 'e2e-page-secret-'.padEnd(40, 'x'),
    };
    const dataDir = join(dir, 'data');
    let offset = 0;
    const now = () => Date.now() + offset;
    let tp: TestPlatform = await startTestPlatform(env, { dataDir, now });
    cleanup.push(() => tp.close());
    let base = `http://127.0.0.1:${tp.platform.ports.http}`;

    const outbox = () => tp.platform.records.selectFrom('notifications').selectAll().orderBy('id').execute();
    /** Resolves once `cond` holds over the outbox, checked now and after every delivery or failure. */
    const whenOutbox = (cond: (rows: NotificationRow[]) => boolean, what: string, ms = 15_000) => {
      const offs: (() => void)[] = [];
      return withTimeout(
        new Promise<NotificationRow[]>((resolve, reject) => {
          const check = () =>
            void outbox().then((rows) => {
              if (cond(rows)) resolve(rows);
            }, reject);
          offs.push(tp.platform.bus.on('notification.delivered', check));
          offs.push(tp.platform.bus.on('notification.failed', check));
          check();
        }),
        ms,
        what,
      ).finally(() => offs.forEach((off) => off()));
    };
    const ticketRows = (rows: NotificationRow[], id: number, kind = 'ticket_opened') =>
      rows.filter((r) => r.ticket_id === id && r.kind === kind);
    const allDelivered = (rows: NotificationRow[]) => rows.length > 0 && rows.every((r) => r.status === 'delivered');

    // -- the unit, its vehicle, staff and contacts (through the API) --------------------------------
    await tp.platform.customers.add({ id: UNIT, name: 'Unit 9' });
    const { secret } = await tp.platform.vehicles.add({ id: VEHICLE, customerId: UNIT, name: VEHICLE_NAME });
    const accounts = createAccounts({ db: tp.platform.records }, { passwordCost: TEST_COST });
    await accounts.add({ id: 'admin-e2e', name: 'Admin', role: 'admin', password: PASSWORD });
    await accounts.add({ id: 'duty-lead', name: 'Duty Lead', role: 'dispatcher', password: PASSWORD });
    await accounts.add({ id: 'service-manager', name: 'Service Manager', role: 'admin', password: PASSWORD });
    let admin: Login = await httpLogin(base, 'admin-e2e', PASSWORD);
    const addContact = async (body: unknown) => {
      const res = await apiAs(base, admin, 'POST', `/api/customers/${UNIT}/contacts`, body);
      expect(res.status, await res.clone().text()).toBe(201);
    };
    await addContact({
      name: '李工',
      language: 'zh',
      channels: [
        { channel: 'email', target: 'li@c9.example' },
        { channel: 'webhook', target: 'unit-hook' },
        { channel: 'dingtalk', target: 'unit-ding' },
      ],
    });
    await addContact({ name: 'Ann Duty', language: 'en', channels: [{ channel: 'email', target: 'ann@c9.example' }] });

    // -- 1. a fault over MQTT opens a 特急 ticket; every receiver gets its message within seconds ----
    const opened = new Promise<Ticket>((resolve) =>
      tp.platform.bus.on('ticket.opened', (e) => {
        if (e.ticket.vehicleId === VEHICLE) resolve(e.ticket);
      }),
    );
    const gw = await tp.connect(VEHICLE, secret);
    await gw.publishAsync(`v1/vehicles/${VEHICLE}/telemetry`, JSON.stringify({ frames: faultFrames() }), { qos: 1 });
    const t1 = await withTimeout(opened, 10_000, 'the ticket the fault opens');
    const rows1 = ticketRows(
      await whenOutbox(
        (rows) => ticketRows(rows, t1.id).length === 4 && allDelivered(ticketRows(rows, t1.id)),
        'the 4 deliveries',
      ),
      t1.id,
    );
    const final1 = await tp.platform.diagnostics.tickets.get(t1.id);
    expect(final1.level).toBe('extra_urgent');
    expect(rows1.map((r) => [r.channel, r.target, r.language, r.urgent])).toEqual([
      ['email', 'li@c9.example', 'zh', 1],
      ['webhook', 'unit-hook', 'zh', 1],
      ['dingtalk', 'unit-ding', 'zh', 1],
      ['email', 'ann@c9.example', 'en', 1],
    ]);
    for (const r of rows1) expect(r.delivered_at! - t1.receivedAt, `${r.channel} ${r.target}`).toBeLessThan(5000);
    const link = `${PUBLIC}/#/tickets/${t1.id}`;

    const mails = smtp.arrived.filter((a) =>
      String(a.mail.headers.get('x-powerwatch-id')).startsWith(`ticket:${t1.id}:opened:`),
    );
    expect(mails.map((m) => m.rcpt)).toEqual(expect.arrayContaining([['li@c9.example'], ['ann@c9.example']]));
    expect(mails).toHaveLength(2);
    for (const m of mails) {
      expect(m.secure).toBe(true);
      expect(m.user).toBe(SMTP_USER);
      const zh = m.rcpt[0] === 'li@c9.example';
      expect(m.mail.headers.get('content-language')).toBe(zh ? 'zh-CN' : 'en');
      expect(m.mail.text).toContain(VEHICLE_NAME);
      expect(m.mail.text).toContain(link);
      expect(m.mail.subject).toContain(zh ? '特急' : t1.number);
    }
    const hooks1 = hook.received.filter((r) => keyOf(r).startsWith(`ticket:${t1.id}:opened:`));
    expect(hooks1).toHaveLength(1);
    expect(verify(HOOK_SECRET, hooks1[0]!.headers, hooks1[0]!.body)).toBe(true);
    const payload = JSON.parse(hooks1[0]!.body) as Record<string, unknown>;
    expect(payload).toMatchObject({
      id: rows1[1]!.key,
      language: 'zh',
      urgent: true,
      customerId: UNIT,
      ticketId: t1.id,
      link,
    });
    expect(payload.text).toContain(VEHICLE_NAME);
    expect(ding.received).toHaveLength(
      ticketRows(await outbox(), t1.id, 'ticket_opened').filter((r) => r.channel === 'dingtalk').length,
    );
    const robot = ding.received[0]!;
    expect(dingtalkAccepts(robot.url, DING_SECRET, Date.now())).toBe(true);
    const md = JSON.parse(robot.body) as { msgtype: string; markdown: { title: string; text: string } };
    expect(md.msgtype).toBe('markdown');
    expect(md.markdown.text).toContain(VEHICLE_NAME);
    expect(md.markdown.text).toContain(link);

    // -- 2. a restart between enqueue and delivery: the webhook send hangs, the platform stops ------
    hookAnswer = () => 'hang';
    const openByHand = async (title: string) => {
      const res = await apiAs(base, admin, 'POST', '/api/tickets', {
        vehicleId: VEHICLE,
        level: 'extra_urgent',
        title,
        need: 'The crew reports it by phone.',
        contacts: [{ name: 'Crew', phone: '+86 138 0000 0000' }],
      });
      expect(res.status, await res.clone().text()).toBe(201);
      return ((await res.json()) as { ticket: Ticket }).ticket;
    };
    const hanging = hook.next();
    const t2 = await openByHand('Smoke from the battery box');
    const first = await withTimeout(hanging, 10_000, 'the webhook send of ticket 2');
    expect(keyOf(first)).toMatch(new RegExp(`^ticket:${t2.id}:opened:`));
    await tp.close(); // the send is in flight: its row stays pending
    hookAnswer = () => ({ status: 200 });
    tp = await startTestPlatform(env, { dataDir, now });
    base = `http://127.0.0.1:${tp.platform.ports.http}`;
    admin = await httpLogin(base, 'admin-e2e', PASSWORD);
    await whenOutbox((rows) => allDelivered(ticketRows(rows, t2.id)), 'ticket 2 delivered after the restart');
    const tries2 = hook.received.filter((r) => keyOf(r) === keyOf(first));
    expect(tries2).toHaveLength(2); // the hung send and the one after the restart, with the same key
    for (const r of tries2) expect(verify(HOOK_SECRET, r.headers, r.body)).toBe(true);

    // -- 3. a receiver answering 500 three times, then 200: delivered on the 4th try ---------------
    hookAnswer = (_r, n) => (n <= 3 ? { status: 500 } : { status: 200 });
    const t3 = await openByHand('Inverter tripped');
    const rows3 = await whenOutbox(
      (rows) => allDelivered(ticketRows(rows, t3.id).filter((r) => r.channel === 'webhook')),
      'ticket 3’s webhook after three 500s',
    );
    const hookRow3 = ticketRows(rows3, t3.id).find((r) => r.channel === 'webhook')!;
    const tries3 = hook.received.filter((r) => keyOf(r) === hookRow3.key);
    expect(tries3.map((r) => r.headers['x-powerwatch-attempt'])).toEqual(['1', '2', '3', '4']);
    expect(hookRow3.tries).toBeGreaterThanOrEqual(3);

    // exactly once per key: every delivered email and webhook row was accepted once, and nothing else
    const settled = await outbox();
    const deliveredKeys = (channel: string) =>
      settled
        .filter((r) => r.channel === channel && r.status === 'delivered')
        .map((r) => r.key)
        .sort();
    expect(smtp.arrived.map((a) => String(a.mail.headers.get('x-powerwatch-id'))).sort()).toEqual(
      deliveredKeys('email'),
    );
    expect([...hookAccepted].sort()).toEqual(deliveredKeys('webhook'));

    // -- 4. a breach: the clock passes the 30-minute deadline across a restart ----------------------
    await tp.close();
    offset = 31 * MINUTE;
    tp = await startTestPlatform(env, { dataDir, now });
    base = `http://127.0.0.1:${tp.platform.ports.http}`;
    const pageRows = await whenOutbox(
      (rows) =>
        rows.some(
          (r) =>
            r.kind === 'page' && r.ticket_id === t3.id && r.target === 'service-manager' && r.status === 'delivered',
        ),
      'the escalated page of ticket 3',
    );
    const [paged, escalated] = pageRows.filter((r) => r.kind === 'page' && r.ticket_id === t3.id);
    expect([paged!.target, escalated!.target]).toEqual(['duty-lead', 'service-manager']);
    const ack = /\/api\/pages\/ack\?token=[^\s)"<\]]+/.exec(escalated!.body)?.[0];
    expect(ack, escalated!.body).toBeDefined();
    expect((await fetch(`${base}${ack}`)).status).toBe(200);
    const [page] = await tp.platform.alerts.paging.ofTicket(t3.id);
    expect(page).toMatchObject({ reason: 'breached', state: 'acknowledged', accountId: 'service-manager' });
    admin = await httpLogin(base, 'admin-e2e', PASSWORD);
    const detail = (await (await apiAs(base, admin, 'GET', `/api/tickets/${t3.id}`)).json()) as {
      timeline: { action: string }[];
    };
    expect(detail.timeline.map((e) => e.action).filter((a) => a.startsWith('page'))).toEqual([
      'paged_breached',
      'page_escalated',
      'page_acknowledged_by_link',
    ]);
  }, 60_000);

  it('quiet hours hold a 加急 ticket’s message back until they end, but not a 特急 one', async () => {
    const hook = await startReceiver(() => ({ status: 200 }));
    cleanup.push(() => hook.close());
    const qdir = mkdtempSync(join(tmpdir(), 'pw-notify-quiet-'));
    cleanup.push(() => rmSync(qdir, { recursive: true, force: true }));
    writeFileSync(
      join(qdir, 'channels.yaml'),
      `webhooks:\n  - id: q-hook\n    url: ${hook.url}/hook\n    secret: ${HOOK_SECRET}\n`,
    );
    const tp = await startTestPlatform({ NOTIFY_CHANNELS_FILE: join(qdir, 'channels.yaml'), PUBLIC_URL: PUBLIC });
    cleanup.push(() => tp.close());
    const base = `http://127.0.0.1:${tp.platform.ports.http}`;
    await tp.platform.customers.add({ id: 'CQ', name: 'Quiet unit' });
    await tp.platform.vehicles.add({ id: 'CQ-V1', customerId: 'CQ', name: 'Quiet vehicle' });
    await createAccounts({ db: tp.platform.records }, { passwordCost: TEST_COST }).add({
      id: 'desk-q',
      name: 'Desk',
      role: 'dispatcher',
      password: PASSWORD,
    });
    const desk = await httpLogin(base, 'desk-q', PASSWORD);
    // quiet from an hour ago to two hours ahead, in UTC
    const hhmm = (ms: number) => new Date(ms).toISOString().slice(11, 16);
    const quietEnd = Date.now() + 2 * 3_600_000;
    const res = await apiAs(base, desk, 'POST', '/api/customers/CQ/contacts', {
      name: 'Night owl',
      language: 'en',
      channels: [{ channel: 'webhook', target: 'q-hook' }],
      quietHours: { from: hhmm(Date.now() - 3_600_000), to: hhmm(quietEnd) },
      timeZone: 'UTC',
    });
    expect(res.status, await res.clone().text()).toBe(201);
    const open = async (level: string, title: string) => {
      const r = await apiAs(base, desk, 'POST', '/api/tickets', {
        vehicleId: 'CQ-V1',
        level,
        title,
        need: 'The crew reports it by phone.',
        contacts: [{ name: 'Crew', phone: '+86 138 0000 0000' }],
      });
      expect(r.status, await r.clone().text()).toBe(201);
      return ((await r.json()) as { ticket: Ticket }).ticket;
    };
    const routine = await open('urgent', 'Battery charger fault');
    const arrived = hook.next();
    const delivered = new Promise<void>((resolve) =>
      tp.platform.bus.on('notification.delivered', (e) => {
        if (e.delivery.ticketId !== routine.id) resolve();
      }),
    );
    const urgent = await open('extra_urgent', 'Mains lost, generator does not start');
    const got = await withTimeout(arrived, 10_000, 'the 特急 message during quiet hours');
    await withTimeout(delivered, 10_000, 'the 特急 row marked delivered');
    expect(JSON.parse(got.body)).toMatchObject({ ticketId: urgent.id, urgent: true });
    const rows = await tp.platform.records
      .selectFrom('notifications')
      .selectAll()
      .where('ticket_id', 'in', [routine.id, urgent.id])
      .execute();
    const held = rows.find((r) => r.ticket_id === routine.id)!;
    expect(held).toMatchObject({ status: 'held', channel: 'webhook' });
    // held until the quiet hours end (to the minute), then delivered as it is
    expect(Math.abs(held.next_at - quietEnd)).toBeLessThan(61_000);
    expect(rows.find((r) => r.ticket_id === urgent.id)!.status).toBe('delivered');
    expect(hook.received.map((r) => (JSON.parse(r.body) as { ticketId: number }).ticketId)).toEqual([urgent.id]);
  }, 30_000);
});
