import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { createConnection } from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { MqttClient } from 'mqtt';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createLoginFailureAudit, type BrokerAudit } from '../../broker/login-failure-audit.ts';
import { auditRowHash, GENESIS_HASH } from '../../records/audit-chain.ts';
import { createAuditLog } from '../../records/audit-log.ts';
import { type RecordsDb } from '../../records/db.ts';
import { openTestRecords } from '../helpers/records.ts';
import { csvCell } from '../../web/audit-export.ts';
import { codeOf, startWeb, type TestWeb } from '../web/helpers.ts';
import { startClockedPlatform, type ClockedPlatform } from './helpers.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Issue 16, item 9: the audit log is append-only and hash-chained, so that a row changed or
 * removed behind the platform's back shows; appends racing each other (in one process or from the
 * registry CLI's) keep one chain; admins export it (CSV without formula injection, JSONL) and the
 * export is audited; refused MQTT logins are summed up per address per minute.
 */
describe('the audit log’s hash chain', () => {
  let dir: string;
  let db: RecordsDb;
  const file = () => join(dir, 'records.db');
  let clock = Date.UTC(2026, 11, 4, 3, 0, 0);
  const now = () => clock++;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pw-audit-'));
    db = await openTestRecords({ file: file() });
  });
  afterAll(async () => {
    await db?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('chains every row to the one before; verify walks it', async () => {
    const audit = createAuditLog({ db, now }, { source: 'console' });
    for (let i = 0; i < 5; i++) await audit.record({ actor: 'admin', action: 'test.row', subject: `n:${i}` });
    const rows = await db.selectFrom('audit_log').selectAll().orderBy('id').execute();
    expect(rows[0]!.prev_hash).toBe(GENESIS_HASH);
    for (let i = 1; i < rows.length; i++) expect(rows[i]!.prev_hash).toBe(rows[i - 1]!.hash);
    for (const r of rows) expect(r.hash).toBe(auditRowHash(r.prev_hash!, r));
    expect(await audit.verify()).toEqual({ ok: true, rows: 5, headHash: rows[4]!.hash });
  });

  it('concurrent appends — two logs in one process, and a second connection like the CLI’s — keep one chain', async () => {
    const a = createAuditLog({ db, now }, { source: 'console' });
    const b = createAuditLog({ db, now }, { source: 'mqtt' });
    // another process: its own better-sqlite3 connection to the same file
    const cli = await openTestRecords({ file: file() });
    try {
      const c = createAuditLog({ db: cli, now }, { source: 'cli' });
      await Promise.all(
        Array.from({ length: 60 }, (_, i) =>
          [a, b, c][i % 3]!.record({ actor: `racer-${i % 3}`, action: 'test.race', details: { i } }),
        ),
      );
    } finally {
      await cli.destroy();
    }
    const races = await db.selectFrom('audit_log').select('id').where('action', '=', 'test.race').execute();
    expect(races).toHaveLength(60);
    const verdict = await a.verify();
    expect(verdict).toMatchObject({ ok: true, rows: 65 });
    const prev = await db.selectFrom('audit_log').select('prev_hash').execute();
    expect(new Set(prev.map((r) => r.prev_hash)).size).toBe(prev.length);
  });

  it('a second row hanging off the same predecessor (a fork) is refused by the table', async () => {
    const head = await db.selectFrom('audit_log').select(['prev_hash']).orderBy('id', 'desc').executeTakeFirstOrThrow();
    const raw = new Database(file());
    try {
      expect(() =>
        raw
          .prepare(
            "insert into audit_log (at, actor, action, prev_hash, hash) values (1, 'forger', 'x', ?, 'f'), (2, 'x', 'y', ?, 'g')",
          )
          .run(head.prev_hash, head.prev_hash),
      ).toThrow(/UNIQUE/);
    } finally {
      raw.close();
    }
  });

  it('UPDATE and DELETE are refused; a row changed or removed once the trigger is dropped is reported by verify', async () => {
    const audit = createAuditLog({ db, now });
    const raw = new Database(file());
    try {
      const ids = raw.prepare('select id from audit_log order by id').pluck().all() as number[];
      const victim = ids[3]!;
      expect(() => raw.prepare("update audit_log set actor = 'nobody' where id = ?").run(victim)).toThrow(
        /append-only/,
      );
      expect(() => raw.prepare('delete from audit_log where id = ?').run(victim)).toThrow(/append-only/);
      expect(await audit.verify()).toMatchObject({ ok: true });

      raw.exec('drop trigger audit_log_no_update; drop trigger audit_log_no_delete');
      // an edited field: the row's own hash no longer fits
      raw.prepare("update audit_log set actor = 'nobody' where id = ?").run(victim);
      expect(await audit.verify()).toMatchObject({ ok: false, brokenId: victim, reason: 'hash' });
      // the forger re-hashes the row too: now the next row's link does not fit
      const row = raw.prepare('select * from audit_log where id = ?').get(victim) as Parameters<
        typeof auditRowHash
      >[1] & {
        prev_hash: string;
      };
      raw.prepare('update audit_log set hash = ? where id = ?').run(auditRowHash(row.prev_hash, row), victim);
      expect(await audit.verify()).toMatchObject({ ok: false, brokenId: ids[4], reason: 'link' });
      // a row removed: the one after it names a hash that is gone
      raw
        .prepare("update audit_log set actor = 'admin', hash = ? where id = ?")
        .run(auditRowHash(row.prev_hash, { ...row, actor: 'admin' }), victim);
      expect(await audit.verify()).toMatchObject({ ok: true });
      raw.prepare('delete from audit_log where id = ?').run(ids[1]!);
      expect(await audit.verify()).toMatchObject({ ok: false, brokenId: ids[2], reason: 'link' });
    } finally {
      raw.close();
    }
  });

  it('migration 0018 chains the rows already there in id order', async () => {
    // a records file as it was before 0018: the rows chained by the migration verify
    const older = join(dir, 'older.db');
    const raw = new Database(older);
    raw.exec(
      "create table audit_log (id integer primary key autoincrement, at bigint not null, actor varchar(100) not null, action varchar(64) not null, subject varchar(200), ip varchar(100), details text); insert into audit_log (at, actor, action, details) values (1, 'a', 'login', null), (2, 'b', 'logout', '{\"x\":1}')",
    );
    raw.close();
    // the migration itself, on that table alone
    const { auditChainMigration } = await import('../../records/migrations/0018_audit_chain.ts');
    const { Kysely, SqliteDialect } = await import('kysely');
    const k = new Kysely<unknown>({ dialect: new SqliteDialect({ database: new Database(older) }) });
    try {
      await auditChainMigration('sqlite').up(k);
      const audit = createAuditLog({ db: k as unknown as RecordsDb });
      expect(await audit.verify()).toMatchObject({ ok: true, rows: 2 });
      await audit.record({ actor: 'c', action: 'after' });
      expect(await audit.verify()).toMatchObject({ ok: true, rows: 3 });
    } finally {
      await k.destroy();
    }
  });
});

describe('the audit log over the API: verify and export (admin only), and what is audited', () => {
  let w: TestWeb;
  beforeAll(async () => {
    w = await startWeb();
  });
  afterAll(async () => w?.close());

  it('export and verify are for admins: 403 for every other role', async () => {
    for (const who of ['dispatcher', 'engineer', 'cust-a']) {
      const a = await w.login(who);
      for (const url of [
        '/api/admin/audit/export?format=csv',
        '/api/admin/audit/export?format=jsonl',
        '/api/admin/audit/verify',
      ]) {
        const res = await a.get(url);
        expect(res.statusCode, `${who} ${url}`).toBe(403);
        expect(codeOf(res)).toBe('FORBIDDEN');
      }
    }
    expect(await w.db.selectFrom('audit_log').select('id').where('action', '=', 'audit.exported').execute()).toEqual(
      [],
    );
  });

  it('CSV: escaped, formula cells defused; JSONL: the stored rows, verifiable outside; both audited as exports', async () => {
    // a row with a text a spreadsheet would run, and a comment with quotes, commas and lines
    await w.ctx.audit.record({ actor: '=HYPERLINK("http://evil.example","x")', action: 'login.failed' });
    const admin = await w.login('admin');
    const alarm = await w.alarm('VA1');
    expect((await admin.post(`/api/alarms/${alarm.id}/comments`, { text: 'said "no", then\nleft' })).statusCode).toBe(
      201,
    );

    const csv = await admin.get('/api/admin/audit/export?format=csv');
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    expect(csv.headers['content-disposition']).toMatch(/^attachment; filename="audit-\d{4}-\d{2}-\d{2}\.csv"$/);
    const lines = csv.body.split('\r\n');
    expect(lines[0]).toBe('id,at,time,actor,action,subject,ip,source,details,prevHash,hash');
    expect(csv.body).toContain(`,"'=HYPERLINK(""http://evil.example"",""x"")",login.failed,`);
    expect(csv.body).not.toMatch(/(^|,)=HYPERLINK/m);
    expect(csv.body).toContain('alarm.commented');

    const jsonl = await admin.get('/api/admin/audit/export?format=jsonl');
    expect(jsonl.statusCode).toBe(200);
    expect(jsonl.headers['content-type']).toMatch(/^application\/x-ndjson/);
    const rows = jsonl.body
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    // the copy verifies on its own: each row's hash over the one before and its content
    let prev = GENESIS_HASH;
    for (const r of rows) {
      expect(r.prevHash).toBe(prev);
      expect(r.hash).toBe(
        auditRowHash(prev, {
          at: r.at as number,
          actor: r.actor as string,
          action: r.action as string,
          subject: r.subject as string | null,
          ip: r.ip as string | null,
          source: r.source as string | null,
          details: r.details as string | null,
        }),
      );
      prev = r.hash as string;
    }
    const comment = rows.find((r) => r.action === 'alarm.commented')!;
    expect(comment).toMatchObject({ actor: 'admin', source: 'console', subject: `alarm:${alarm.id}` });
    expect(JSON.parse(comment.details as string)).toMatchObject({ text: 'said "no", then\nleft' });

    const exports = await w.ctx.audit.list({ action: 'audit.exported' });
    expect(exports.map((e) => (e.details as { format: string }).format)).toEqual(['jsonl', 'csv']);
    expect(exports[0]).toMatchObject({ actor: 'admin', source: 'console' });
  });

  it('export bounds by time (from, to)', async () => {
    const admin = await w.login('admin');
    const t0 = w.now();
    w.advance(60_000);
    await admin.post('/api/tickets', {
      vehicleId: 'VA1',
      level: 'urgent',
      title: 'bounded',
      need: 'n',
      contacts: [{ name: 'Li Wei', phone: '0730-7650002' }],
    });
    const t1 = w.now();
    w.advance(60_000);
    const res = await admin.get(`/api/admin/audit/export?format=jsonl&from=${t0 + 1}&to=${t1}`);
    const actions = res.body
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { action: string }).action);
    expect(actions).toEqual(['ticket.created']);
    expect((await admin.get('/api/admin/audit/export?format=xlsx')).statusCode).toBe(400);
  });

  it('GET /api/admin/audit/verify: ok, then the first changed row', async () => {
    const admin = await w.login('admin');
    const ok = await admin.get('/api/admin/audit/verify');
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ ok: true });
    const { sql } = await import('kysely');
    const victim = await w.db
      .selectFrom('audit_log')
      .select('id')
      .where('action', '=', 'alarm.commented')
      .executeTakeFirstOrThrow();
    await sql`drop trigger audit_log_no_update`.execute(w.db);
    await sql`update audit_log set details = '{"text":"nothing to see"}' where id = ${victim.id}`.execute(w.db);
    expect((await admin.get('/api/admin/audit/verify')).json()).toMatchObject({
      ok: false,
      brokenId: Number(victim.id),
      reason: 'hash',
    });
  });

  it('alarm acknowledgement and ticket comments are audited with who, where from and before/after', async () => {
    const engineer = await w.login('engineer');
    const alarm = await w.alarm('VB1');
    expect((await engineer.post(`/api/alarms/${alarm.id}/acknowledge`, { comment: 'on it' })).statusCode).toBe(200);
    const [ack] = await w.ctx.audit.list({ action: 'alarm.acknowledged' });
    expect(ack).toMatchObject({
      actor: 'engineer',
      source: 'console',
      subject: `alarm:${alarm.id}`,
      details: { before: { state: 'active' }, after: { state: 'acknowledged' }, comment: 'on it' },
    });
    const ticket = await w.ticket('VA1');
    expect((await engineer.post(`/api/tickets/${ticket.id}/comments`, { text: 'called the crew' })).statusCode).toBe(
      201,
    );
    const [note] = await w.ctx.audit.list({ action: 'ticket.commented' });
    expect(note).toMatchObject({
      actor: 'engineer',
      subject: `ticket:${ticket.id}`,
      details: { text: 'called the crew' },
    });
  });
});

describe('CSV cells', () => {
  it('quotes what needs it and defuses formulas (= + - @, tab, carriage return)', () => {
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
    for (const f of ['=1+1', '+1', '-1', '@SUM(A1)', '\tx', '\rx']) expect(csvCell(f).replace(/^"/, '')).toMatch(/^'/);
    expect(csvCell(null)).toBe('');
    expect(csvCell(-5)).toBe('-5'); // a number is a number, not a text a spreadsheet would run
  });
});

describe('refused MQTT logins: one audit row per source address per minute', () => {
  it('sums refusals per address and window, with reasons and the client ids tried (bounded)', async () => {
    let t = Date.UTC(2026, 11, 4, 3, 0, 5);
    const rows: Parameters<BrokerAudit['record']>[0][] = [];
    const agg = createLoginFailureAudit(
      { audit: { record: async (e) => void rows.push(e) }, log: pino({ level: 'silent' }), now: () => t },
      { maxClientIds: 3, maxAddresses: 2 },
    );
    for (let i = 0; i < 100; i++) agg.failed('10.1.1.1', `V-${i % 5}`, 'bad_secret');
    agg.failed('10.1.1.1', 'V-0', 'unknown_account');
    for (let i = 0; i < 4; i++) agg.failed('10.2.2.2', 'V-9', 'bad_secret');
    // a third address while two are counted: into the overflow row, memory stays bounded
    agg.failed('10.3.3.3', 'V-7', 'bad_secret');
    agg.failed('10.4.4.4', 'V-7', 'bad_secret');
    await agg.flush();
    expect(rows).toEqual([]); // the minute is not over
    t += 60_000;
    await agg.flush();
    expect(rows).toHaveLength(3);
    const by = Object.fromEntries(rows.map((r) => [r.actor, r]));
    expect(by['mqtt:10.1.1.1']).toMatchObject({
      action: 'mqtt.login_failed',
      source: 'mqtt',
      ip: '10.1.1.1',
      details: {
        count: 101,
        reasons: { bad_secret: 100, unknown_account: 1 },
        clientIds: ['V-0', 'V-1', 'V-2'],
        otherClientIds: 40, // V-3 and V-4's refusals, counted, not named
        windowStart: Date.UTC(2026, 11, 4, 3, 0, 0),
        windowEnd: Date.UTC(2026, 11, 4, 3, 1, 0),
      },
    });
    expect(by['mqtt:10.2.2.2']!.details).toMatchObject({ count: 4 });
    expect(by['mqtt:*']).toMatchObject({ ip: null, details: { count: 2 } });
    // a refusal in a later minute closes the earlier window at once
    agg.failed('10.2.2.2', 'V-9', 'bad_secret');
    t += 60_000;
    agg.failed('10.2.2.2', 'V-9', 'bad_secret');
    await agg.flush();
    expect(rows.slice(3).map((r) => (r.details as { count: number }).count)).toEqual([1]);
    await agg.stop();
    expect(rows).toHaveLength(5);
  });

  describe('through the broker', () => {
    let tp: ClockedPlatform;
    beforeAll(async () => {
      tp = await startClockedPlatform();
    });
    afterAll(async () => tp?.close());
    afterEach(() => vi.useRealTimers());

    function attempt(from: string, id: string, secret: string): Promise<number> {
      return new Promise((resolve) => {
        const client = new MqttClient(
          () => createConnection({ host: '127.0.0.1', port: tp.platform.ports.mqtt, localAddress: from }),
          {
            clientId: id,
            username: id,
            password: secret,
            reconnectPeriod: 0,
            connectTimeout: 5000,
            protocolVersion: 4,
          },
        );
        client.once('error', (err) => {
          client.end(true);
          resolve((err as { code?: number }).code ?? -1);
        });
        client.once('connect', () => {
          client.end(true);
          resolve(0);
        });
      });
    }

    it('the registry CLI, another process on the same records, appends to the same chain as source cli', async () => {
      const { stdout } = await promisify(execFile)(
        'npx',
        ['tsx', 'registry/cli.ts', 'service-add', 'svc-audit', '--name', 'audit test', '--json'],
        { cwd: ROOT, env: { ...process.env, DATA_DIR: tp.dataDir, LOG_LEVEL: 'silent' }, timeout: 30_000 },
      );
      const { secret } = JSON.parse(stdout.trim().split('\n').pop()!) as { secret: string };
      const rows = await tp.platform.records
        .selectFrom('audit_log')
        .selectAll()
        .where('action', '=', 'service_account.provisioned')
        .execute();
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ source: 'cli', subject: 'service:svc-audit' });
      expect(rows[0]!.actor).toMatch(/^cli:/);
      expect(JSON.stringify(rows[0])).not.toContain(secret);
      expect(await createAuditLog({ db: tp.platform.records }).verify()).toMatchObject({ ok: true });
    });

    it('ten wrong secrets from one address leave one row counting ten', async () => {
      await tp.addVehicle('AUD-1');
      for (let i = 0; i < 10; i++)
        expect(await attempt('127.0.0.9', 'AUD-1', `guess-${i}-${'x'.repeat(40)}`)).not.toBe(0);
      const rowsNow = () =>
        tp.platform.records.selectFrom('audit_log').selectAll().where('action', '=', 'mqtt.login_failed').execute();
      expect(await rowsNow()).toEqual([]); // one row per minute, written when it is over
      tp.advance(61_000);
      await attempt('127.0.0.9', 'AUD-1', 'one-more');
      await vi.waitFor(async () => expect(await rowsNow()).toHaveLength(1));
      const [row] = await rowsNow();
      expect(row).toMatchObject({ actor: 'mqtt:127.0.0.9', source: 'mqtt', ip: '127.0.0.9' });
      expect(JSON.parse(row!.details!)).toMatchObject({ count: 10, clientIds: ['AUD-1'] });
    });
  });
});
