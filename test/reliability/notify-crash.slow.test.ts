import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createContacts } from '../../notifications/contacts.ts';
import { recordsFile } from '../../platform/data-files.ts';
import { openSqliteRecords, type RecordsDb } from '../../records/db.ts';
import { createCustomers } from '../../registry/customers.ts';
import { createVehicleRegistry } from '../../registry/vehicles.ts';
import { createAccounts } from '../../web/auth/accounts.ts';
import { apiAs, httpLogin, type Login } from '../helpers/live-client.ts';
import { startReceiver } from '../notifications/receivers.ts';
import { docsVerifier } from '../notifications/verifier.ts';
import { PASSWORD, TEST_COST } from '../web/helpers.ts';
import { freePort, kill9, outputOf, prng, startPlatformProcess, until } from './kill-loop.ts';

/** kill -9 this many times while tickets are opened and their notifications delivered. */
const KILLS = 12;
/** Each life is killed at a random moment of this much uptime after it said it started. */
const UPTIME_MS: [number, number] = [800, 2500];
const CONTACTS = 3;
/** The desk opens a 特急 ticket this often (each writes CONTACTS webhook rows). */
const OPEN_EVERY_MS = 60;
const CONCURRENCY = 3;
const SECRET = 'crash-loop-hook-secret-123456';
const UNIT = 'CK';

/**
 * The crash loop extended to notifications: the platform runs as its own process and is killed
 * with SIGKILL again and again while a client keeps opening 特急 tickets through the API (each one
 * writes a webhook row per contact into the outbox, in the ticket's transaction) and a webhook
 * receiver, answering after a random delay, receives them. After the last restart:
 *  - every ticket the API confirmed has its rows in the outbox, and every row of the outbox is
 *    delivered and was received at least once, with a valid signature (none lost);
 *  - a key received more than once was first received in a life that was killed and again in a
 *    later one (in flight at a kill), never twice within one life, and at most NOTIFY_CONCURRENCY
 *    keys per kill.
 * `NOTIFY_CRASH_SEED=<seed> npm run test:slow -- test/reliability/notify-crash` repeats the kill moments.
 */
describe('notifications crash loop', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pw-notify-crash-'));
  const dataDir = join(dir, 'data');
  const children: ChildProcess[] = [];
  const cleanup: (() => Promise<unknown> | void)[] = [];
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    for (const c of cleanup.splice(0).reverse()) await c();
    rmSync(dir, { recursive: true, force: true });
  });

  it(`every enqueued notification delivered at least once across ${KILLS} kill -9s; repeats only for sends in flight at a kill`, async () => {
    const seed = Number(process.env.NOTIFY_CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));
    console.log(`notify crash loop seed ${seed}`);
    const random = prng(seed);
    const verify = await docsVerifier();

    /** The life of the platform (1, 2, …) each receipt happened in. */
    let life = 0;
    const receipts: { key: string; life: number; valid: boolean }[] = [];
    const receiver = await startReceiver((r) => {
      receipts.push({ key: r.headers['x-powerwatch-id'] as string, life, valid: verify(SECRET, r.headers, r.body) });
      return { status: 200, delayMs: Math.floor(random() * 150) };
    });
    cleanup.push(() => receiver.close());
    writeFileSync(
      join(dir, 'channels.yaml'),
      `webhooks:\n  - id: ops\n    url: ${receiver.url}/hook\n    secret: ${SECRET}\n`,
    );

    // the unit, its vehicle, its contacts (each on the webhook) and a dispatcher, before the first start
    let db: RecordsDb = await openSqliteRecords({ file: recordsFile(dataDir) });
    await createCustomers({ db }).add({ id: UNIT, name: 'Crash unit' });
    await createVehicleRegistry({ db }).add({ id: 'CK-V1', customerId: UNIT, name: 'Crash vehicle' });
    const contacts = createContacts({ db, now: Date.now }, { timeZone: 'Asia/Shanghai' });
    for (let i = 0; i < CONTACTS; i++)
      await contacts.addToCustomer(UNIT, {
        name: `Contact ${i}`,
        language: i % 2 ? 'en' : 'zh',
        channels: [{ channel: 'webhook', target: 'ops' }],
      });
    await createAccounts({ db }, { passwordCost: TEST_COST }).add({
      id: 'crash-desk',
      name: 'Desk',
      role: 'dispatcher',
      password: PASSWORD,
    });
    await db.destroy();

    const env = (httpPort: number) => ({
      HTTP_PORT: String(httpPort),
      NOTIFY_CHANNELS_FILE: join(dir, 'channels.yaml'),
      NOTIFY_POLL_MS: '200',
      NOTIFY_CONCURRENCY: String(CONCURRENCY),
      // a send that fails (a slow receiver on a loaded machine) is tried again within seconds, not
      // the default's minutes: this test is about loss, not about the backoff's timing
      NOTIFY_BACKOFF_BASE_MS: '500',
      NOTIFY_BACKOFF_MAX_MS: '4000',
      LOG_LEVEL: 'warn',
      // one dispatcher opens tickets as fast as it can: far over the per-account rate limit a person gets
      RATE_TICKETS_PER_MIN: '100000',
    });
    // 'platform started' is logged at info: the helper waits for it
    const start = async () => {
      const port = await freePort();
      const p = await startPlatformProcess(children, dataDir, { ...env(port), LOG_LEVEL: 'info' });
      return { p, base: `http://127.0.0.1:${port}` };
    };

    /** Tickets the API confirmed (201). */
    const confirmed: number[] = [];
    let refused = 0;
    async function openTickets(base: string, running: () => boolean) {
      let login: Login;
      try {
        login = await httpLogin(base, 'crash-desk', PASSWORD);
      } catch {
        return; // killed while logging in
      }
      for (let n = 0; running(); n++) {
        try {
          const res = await apiAs(base, login, 'POST', '/api/tickets', {
            vehicleId: 'CK-V1',
            level: 'extra_urgent',
            title: `Crash loop call ${life}.${n}`,
            need: 'The crew reports it by phone.',
            contacts: [{ name: 'Crew', phone: '+86 138 0000 0000' }],
          });
          if (res.status === 201) confirmed.push(((await res.json()) as { ticket: { id: number } }).ticket.id);
          else refused++;
          // a call every OPEN_EVERY_MS: about as many webhooks as the dispatcher sends (3 at a time to
          // a receiver answering in 0–150 ms), so the outbox is busy at every kill without a backlog
          // that the last life would need minutes to send
          await new Promise((r) => setTimeout(r, OPEN_EVERY_MS));
        } catch {
          return; // the process is gone
        }
      }
    }

    const started = Date.now();
    for (let k = 0; k < KILLS; k++) {
      life++;
      const { p, base } = await start();
      let running = true;
      const opener = openTickets(base, () => running);
      await new Promise((r) => setTimeout(r, UPTIME_MS[0] + random() * (UPTIME_MS[1] - UPTIME_MS[0])));
      await kill9(p);
      running = false;
      await opener;
    }
    // the last life: no more kills; every row of the outbox must arrive
    life++;
    const last = await start();
    db = await openSqliteRecords({ file: recordsFile(dataDir) });
    cleanup.push(() => db.destroy());
    let rows = await db.selectFrom('notifications').select(['key', 'status', 'ticket_id', 'channel']).execute();
    const seen = () => new Set(receipts.map((r) => r.key));
    try {
      await until(() => rows.every((r) => seen().has(r.key)), 60_000, 'every outbox row at the receiver');
    } catch (err) {
      // what the missing rows were doing: their state, tries, last error and next try
      const missing = await db
        .selectFrom('notifications')
        .select(['id', 'key', 'status', 'tries', 'last_error', 'next_at'])
        .execute();
      const now = Date.now();
      const left = missing.filter((r) => !seen().has(r.key)).map((r) => ({ ...r, dueInMs: Number(r.next_at) - now }));
      throw new Error(
        `${(err as Error).message}; ${left.length} of ${missing.length} missing, e.g. ${JSON.stringify(left.slice(0, 5))}; ` +
          `the last life printed: ${outputOf(last.p).slice(-6000)}`,
      );
    }
    const deadline = Date.now() + 30_000;
    while (
      !(rows = await db.selectFrom('notifications').select(['key', 'status', 'ticket_id', 'channel']).execute()).every(
        (r) => r.status === 'delivered',
      )
    ) {
      if (Date.now() > deadline) throw new Error('timed out waiting for every outbox row marked delivered');
      await new Promise((r) => setTimeout(r, 100));
    }
    last.p.kill('SIGTERM');
    await new Promise((r) => last.p.once('exit', r));

    // every confirmed ticket has its rows; every row arrived; signatures valid
    expect(confirmed.length).toBeGreaterThan(KILLS);
    const byTicket = new Map<number, number>();
    for (const r of rows) byTicket.set(r.ticket_id!, (byTicket.get(r.ticket_id!) ?? 0) + 1);
    for (const id of confirmed) expect(byTicket.get(id), `ticket ${id}`).toBe(CONTACTS);
    expect(rows.every((r) => r.channel === 'webhook' && r.status === 'delivered')).toBe(true);
    expect(new Set(rows.map((r) => r.key))).toEqual(seen());
    expect(receipts.every((r) => r.valid)).toBe(true);

    // repeats: only across a kill, never within one life, at most CONCURRENCY per kill
    const lives = new Map<string, number[]>();
    for (const r of receipts) lives.set(r.key, [...(lives.get(r.key) ?? []), r.life]);
    const repeated = [...lives].filter(([, ls]) => ls.length > 1);
    for (const [key, ls] of repeated) expect(new Set(ls).size, `${key} in lives ${ls.join(',')}`).toBe(ls.length);
    const perKill = new Map<number, number>();
    for (const [, ls] of repeated) perKill.set(ls[0]!, (perKill.get(ls[0]!) ?? 0) + 1);
    for (const [l, n] of perKill) expect(n, `repeats first received in life ${l}`).toBeLessThanOrEqual(CONCURRENCY);
    console.log(
      `notify crash loop: ${KILLS} kills in ${Math.round((Date.now() - started) / 1000)} s, ${confirmed.length} tickets confirmed (${refused} refused), ` +
        `${rows.length} deliveries, ${receipts.length} receipts, ${repeated.length} keys received more than once (in flight at a kill)`,
    );
  }, 240_000);
});
