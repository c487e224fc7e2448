import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { enqueue, type NewNotification } from '../../notifications/outbox.ts';
import { recordsFile } from '../../platform/data-files.ts';
import { openSqliteRecords } from '../../records/db.ts';
import { withTimeout } from '../helpers/platform.ts';
import { startReceiver } from '../notifications/receivers.ts';
import { docsVerifier } from '../notifications/verifier.ts';
import { startPlatformProcess } from './kill-loop.ts';

const ROWS = 40;
const SECRET = 'kill-test-hook-secret-123456';

/**
 * kill -9 in the middle of delivery: the platform runs as its own process (`platform/main.ts` under
 * tsx) and is killed with SIGKILL while webhook sends are in flight; started again on the same data,
 * it delivers every notification. Nothing is lost; a delivery in flight at the kill may arrive twice,
 * always with the same X-Powerwatch-Id (so the receiver can drop it), never more than the sends that
 * were in flight.
 */
describe('notification delivery survives kill -9', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pw-notify-kill-'));
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  const startPlatform = (env: Record<string, string>) => startPlatformProcess(children, join(dir, 'data'), env);

  it('delivers every notification after a SIGKILL mid-delivery, repeats only what was in flight, with the same key', async () => {
    const verify = await docsVerifier();
    let answering = false;
    const seen = new Set<string>();
    let allSeen: (() => void) | undefined;
    const receiver = await startReceiver((r) => {
      seen.add(r.headers['x-powerwatch-id'] as string);
      if (seen.size === ROWS) allSeen?.();
      return answering ? { status: 200 } : 'hang';
    });
    writeFileSync(
      join(dir, 'channels.yaml'),
      `webhooks:\n  - id: ops\n    url: ${receiver.url}/hook\n    secret: ${SECRET}\n`,
    );
    const env = { NOTIFY_CHANNELS_FILE: join(dir, 'channels.yaml'), NOTIFY_POLL_MS: '100', NOTIFY_CONCURRENCY: '3' };

    // first life: the outbox gets its rows (from another connection, as a producer would), the
    // first sends go out and hang at the receiver, and the process is killed
    const first = await startPlatform(env);
    const db = await openSqliteRecords({ file: recordsFile(join(dir, 'data')) });
    const rows: NewNotification[] = Array.from({ length: ROWS }, (_, i) => ({
      key: `kill:${i}`,
      channel: 'webhook',
      target: 'ops',
      kind: 'ticket.opened',
      language: 'en',
      urgent: false,
      subject: `n${i}`,
      text: `notification ${i}`,
    }));
    await enqueue(db, rows, Date.now());
    const inFlight = Promise.all([receiver.next(), receiver.next(), receiver.next()]);
    await withTimeout(inFlight, 10_000, 'three sends in flight');
    first.kill('SIGKILL');
    await new Promise((resolve) => first.once('exit', resolve));
    const beforeKill = receiver.received.map((r) => r.headers['x-powerwatch-id']);
    expect(beforeKill).toHaveLength(3);

    // second life: the receiver answers now; every row is delivered
    answering = true;
    const all = new Promise<void>((resolve) => (allSeen = resolve));
    const second = await startPlatform(env);
    await withTimeout(all, 30_000, 'every notification at the receiver');
    second.kill('SIGTERM');
    await new Promise((resolve) => second.once('exit', resolve));

    const keys = receiver.received.map((r) => r.headers['x-powerwatch-id'] as string);
    const counts = new Map<string, number>();
    for (const k of keys) counts.set(k, (counts.get(k) ?? 0) + 1);
    const twice = [...counts].filter(([, n]) => n > 1).map(([k]) => k);
    expect(new Set(keys)).toEqual(new Set(rows.map((r) => r.key)));
    // only the sends in flight at the kill came again, once
    expect(twice.sort()).toEqual([...beforeKill].sort());
    expect([...counts.values()].every((n) => n <= 2)).toBe(true);
    for (const r of receiver.received) expect(verify(SECRET, r.headers, r.body)).toBe(true);
    const stored = await db.selectFrom('notifications').select(['status']).execute();
    expect(stored.every((r) => r.status === 'delivered')).toBe(true);
    await db.destroy();
    await receiver.close();
  }, 120_000);
});
