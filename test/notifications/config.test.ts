import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../platform/config.ts';

describe('notification and paging settings', () => {
  it('default to the documented chain, windows and public address', () => {
    const c = loadConfig({});
    expect(c.PAGE_CHAIN).toEqual([
      { role: 'assignee', waitMs: 300_000 },
      { role: 'duty_lead', waitMs: 300_000 },
      { role: 'service_manager', waitMs: null },
    ]);
    expect(c).toMatchObject({
      PAGE_AT_RISK_MS: 600_000,
      NOTIFY_RATE_MAX: 5,
      NOTIFY_MERGE_WINDOW_MS: 600_000,
      PUBLIC_URL: 'http://localhost:8080',
      NOTIFY_TIME_ZONE: 'Asia/Shanghai',
    });
  });

  it('reads a chain with its step times', () => {
    expect(loadConfig({ PAGE_CHAIN: 'duty_lead:90s, service_manager:1h' }).PAGE_CHAIN).toEqual([
      { role: 'duty_lead', waitMs: 90_000 },
      { role: 'service_manager', waitMs: 3_600_000 },
    ]);
  });

  it('refuses a bad chain, time zone, address or secret, naming each and never showing the secret', () => {
    try {
      loadConfig({
        PAGE_CHAIN: 'assignee,boss:5m',
        NOTIFY_TIME_ZONE: 'Mars/Olympus',
        PUBLIC_URL: 'ftp://x',
        PAGE_SECRET: 'short secret value',
      });
      expect.unreachable();
    } catch (err) {
      expect(err).toMatchObject({ code: 'CONFIG_INVALID' });
      const msg = (err as Error).message;
      expect(msg).toContain('PAGE_CHAIN step 1 "assignee": write role:time');
      expect(msg).toContain('PAGE_CHAIN step 2 "boss:5m": the role must be assignee, duty_lead or service_manager');
      expect(msg).toContain('NOTIFY_TIME_ZONE must be an IANA time zone');
      expect(msg).toContain('PUBLIC_URL must be');
      expect(msg).toContain('PAGE_SECRET=(not shown)');
      expect(msg).not.toContain('short secret value');
    }
  });
});
