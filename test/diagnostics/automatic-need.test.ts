import { describe, expect, it } from 'vitest';
import { automaticNeed } from '../../diagnostics/diagnostics.ts';

const RULE = {
  code: 'GEN-START-FAIL',
  title: { en: 'Generator not running after mains loss', zh: '市电中断后发电机组未运行' },
};

describe('the need of an auto-opened ticket', () => {
  it('reads like a sentence in both languages, at the service centre’s local time, not a code and an ISO instant', () => {
    const at = Date.UTC(2026, 11, 3, 9, 37, 45, 924); // 17:37 in Shanghai
    const need = automaticNeed(RULE, 'Shelter 3', at, 'Asia/Shanghai', null);
    expect(need).toBe(
      'Generator not running after mains loss on Shelter 3 at 2026-12-03 17:37 (GEN-START-FAIL, detected automatically).\n' +
        'Shelter 3于2026-12-03 17:37市电中断后发电机组未运行（GEN-START-FAIL，自动检测）。',
    );
    expect(need).not.toMatch(/T\d\d:\d\d:\d\d/);
  });

  it('names the incident a later alarm joins, and follows the configured time zone', () => {
    const at = Date.UTC(2026, 11, 3, 23, 5);
    const need = automaticNeed(RULE, 'Shelter 3', at, 'Europe/Berlin', 'PWR-MAINS-LOST');
    expect(need.split('\n')[0]).toBe(
      'Generator not running after mains loss on Shelter 3 at 2026-12-04 00:05 (GEN-START-FAIL, detected automatically; part of the PWR-MAINS-LOST incident).',
    );
    expect(need.split('\n')[1]).toContain('属于 PWR-MAINS-LOST 事件');
  });
});
