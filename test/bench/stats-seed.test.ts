import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedHistory } from '../../bench/stats/seed.ts';
import { openSqliteRecords, type RecordsDb } from '../../records/db.ts';
import { createStats, STAT_DIMENSIONS } from '../../service/stats.ts';

/** The stats bench's data set, small: the views answer it with plausible figures (the bench times them on 100,000). */
describe('bench:stats seed and views', () => {
  let db: RecordsDb;
  const now = Date.UTC(2026, 11, 1);
  const window = { from: now - 730 * 86_400_000, to: now };
  beforeAll(async () => {
    db = await openSqliteRecords({ file: ':memory:' });
    await seedHistory(db, { tickets: 3000, units: 12, vehicles: 200, days: 730, now });
  });
  afterAll(() => db.destroy());

  it('every view answers; the figures add up and look like the service they describe', async () => {
    const stats = createStats({ db }, { repeatWindowMs: 30 * 86_400_000, timeZone: 'Asia/Shanghai', lowScore: 2 });
    for (const by of STAT_DIMENSIONS) {
      const rows = await stats.service({ ...window, by, period: 'month' });
      expect(
        rows.reduce((n, r) => n + r.tickets, 0),
        by,
      ).toBeGreaterThan(2900); // 2 % cancelled left out
      expect(
        rows.reduce((n, r) => n + r.tickets, 0),
        by,
      ).toBeLessThanOrEqual(3000);
      const surveys = await stats.surveys({ ...window, by, period: 'month' });
      expect(surveys.length, by).toBeGreaterThan(0);
    }
    const byLevel = await stats.service({ ...window, by: 'level' });
    expect(byLevel.map((r) => r.key)).toEqual(['extra_urgent', 'urgent']);
    for (const r of byLevel) {
      expect(r.workContent.rate!).toBeGreaterThan(0.7);
      expect(r.firstTimeFix.rate!).toBeGreaterThan(0.5);
      expect(r.firstTimeFix.rate!).toBeLessThan(1);
      expect(r.remote.rate!).toBeGreaterThan(0.2);
      expect(r.mttrMs!).toBeGreaterThan(3_600_000);
      expect(r.arrive.avgMs).toBeNull();
    }
    expect(byLevel.find((r) => r.key === 'urgent')!.plan.total).toBeGreaterThan(0);
    expect(byLevel.find((r) => r.key === 'extra_urgent')!.plan.total).toBe(0);
    const months = await stats.service({ ...window, by: 'period', period: 'month' });
    expect(months.length).toBeGreaterThanOrEqual(24);
    expect(months[0]!.key).toMatch(/^\d{4}-\d{2}-01$/);
    expect((await stats.repeatFaults(window)).length).toBe(50);
  });
});
