/**
 * The console's two dictionaries (web/console/src/i18n.ts): every English key has its Chinese,
 * with the same placeholders, and the Chinese says no English words outside names, units and codes.
 * The timeline's platform-written notes read in the console's language (web/console/src/timeline.ts).
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { STEP_NAMES, stepAction } from '../../diagnostics/tickets/mode-steps.ts';
import { TIMELINE_ACTIONS } from '../../diagnostics/tickets/timeline-actions.ts';

type I18n = typeof import('../../web/console/src/i18n.ts');
type Timeline = typeof import('../../web/console/src/timeline.ts');
let i18n: I18n;
let timeline: Timeline;

/** Latin words a Chinese label may keep: the product, units, protocols and brand names, ids in examples. */
export const ZH_LATIN_ALLOWED = new Set([
  'PowerWatch',
  'EN',
  'MQTT',
  'API',
  'ID',
  'SOC',
  'ETA',
  'QR',
  'PDF',
  'CSV',
  'JSON',
  'JSONL',
  'HTTP',
  'HTTPS',
  'URL',
  'Webhook',
  'DingTalk',
  'WeCom',
  'JPEG',
  'PNG',
  'WebP',
  'MB',
  'kB',
  'TOTP',
  'rpm',
  'kPa',
  'kW',
  'Hz',
  'V',
  'A',
  'Ah',
  'h',
  'min',
  's',
  'd',
  'C',
]);

beforeAll(async () => {
  // the console module sets the page's language when loaded: give it a page
  vi.stubGlobal('document', { documentElement: { lang: '' } });
  vi.stubGlobal('localStorage', { getItem: () => 'zh', setItem: () => undefined });
  i18n = await import('../../web/console/src/i18n.ts');
  timeline = await import('../../web/console/src/timeline.ts');
});

// the files after this one run in the same process (vitest.config.ts: isolate false)
afterAll(() => vi.unstubAllGlobals());

const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe('console dictionaries', () => {
  it('every English key has a Chinese one and no Chinese key is extra or empty', () => {
    const en = Object.keys(i18n.DICTS.en).sort();
    const zh = Object.keys(i18n.DICTS.zh).sort();
    expect(zh.filter((k) => !en.includes(k))).toEqual([]);
    expect(en.filter((k) => !zh.includes(k))).toEqual([]);
    expect(Object.entries(i18n.DICTS.zh).filter(([, v]) => v.trim() === '')).toEqual([]);
  });

  it('each Chinese label takes the same placeholders as its English one', () => {
    const en = i18n.DICTS.en as Record<string, string>;
    const mismatched = Object.entries(i18n.DICTS.zh)
      .filter(([k, v]) => placeholders(v).join() !== placeholders(en[k]!).join())
      .map(([k]) => k);
    expect(mismatched).toEqual([]);
  });

  it('the Chinese labels hold no English words (beyond names, units and codes)', () => {
    const english = Object.entries(i18n.DICTS.zh)
      .map(([k, v]) => {
        const text = v
          .replace(/\{\w+\}/g, ' ') // placeholders
          .replace(/\b[A-Z][A-Z0-9]*(?:[-_][A-Z0-9]+)+\b/g, ' ') // codes: GEN-START-FAIL, VALIDATION_FAILED
          .replace(/\bhttps?:\/\/\S+/g, ' ')
          .replace(/\b[a-z]+:/g, ' '); // syntax one types as it is: "email:地址"
        const words = (text.match(/[A-Za-z]+/g) ?? []).filter((w) => !ZH_LATIN_ALLOWED.has(w));
        return words.length ? `${k}: ${words.join(' ')}` : '';
      })
      .filter(Boolean);
    expect(english).toEqual([]);
  });
});

describe('the plan’s words', () => {
  it('a verified ticket and an acknowledged alarm are told apart in Chinese', () => {
    const zh = i18n.DICTS.zh;
    expect(zh['status.verified']).toBe('已验证');
    expect(zh['alarmState.acknowledged']).toBe('已确认');
    expect(zh['status.verified']).not.toBe(zh['alarmState.acknowledged']);
  });
});

describe('timeline actions', () => {
  // every action the platform writes (diagnostics/tickets/timeline-actions.ts) and every step's
  it('each action the platform records has its words in English and in Chinese', () => {
    const DICT = i18n.DICTS as Record<'en' | 'zh', Record<string, string>>;
    const actions = [...TIMELINE_ACTIONS, ...STEP_NAMES.map(stepAction), 'paged_at_risk'];
    const missing = (lang: 'en' | 'zh') =>
      actions.filter((a) => !(DICT[lang][timeline.timelineActionKey(a)] ?? '').trim());
    expect(missing('en')).toEqual([]);
    expect(missing('zh')).toEqual([]);
  });
});

describe('timeline entries in Chinese', () => {
  const meta = {
    serviceModes: { remote_support: { en: 'Remote technical support', zh: '远程技术支援' } },
    ticketLevels: {
      urgent: { en: 'Urgent', zh: '加急' },
      extra_urgent: { en: 'Extra urgent', zh: '特急' },
    },
    faults: { 'GEN-START-FAIL': { en: 'Generator not running', zh: '发电机组未运行' } },
  };

  it('names the action and rewrites the notes the platform wrote', () => {
    i18n.setLang('zh');
    expect(timeline.timelineAction('assigned')).toBe('指派');
    expect(timeline.timelineAction('deadline_breached')).toBe('超出时限');
    expect(timeline.timelineAction('escalated')).toBe('已升级');
    expect(timeline.timelineAction('paged_at_risk')).toBe('呼叫值班人员');
    expect(timeline.timelineAction('some_new_action')).toBe('some new action');
    const note = (action: string, n: string) => timeline.timelineNote({ action, note: n }, meta);
    expect(note('assigned', 'assigned to eng')).toBe('指派给 eng');
    expect(note('escalated', 'escalated to system')).toBe('升级至 系统');
    expect(note('deadline_breached', 'work content not determined within 30 min')).toBe('30 分钟内未确定工作内容');
    expect(note('service_mode_set', 'remote_support')).toBe('远程技术支援');
    expect(note('level_raised', 'urgent → extra_urgent: GEN-START-FAIL Generator not running')).toBe(
      '加急 → 特急: GEN-START-FAIL 发电机组未运行',
    );
    const at = Date.UTC(2026, 11, 3, 9, 37);
    expect(note('eta_set', `${new Date(at).toISOString()} crew on the way`)).toMatch(
      /^\d{4}-\d\d-\d\d \d\d:\d\d crew on the way$/,
    );
    // what people wrote stays as written
    expect(note('comment', 'assigned to the night shift')).toBe('assigned to the night shift');
    // a service-mode step's details and a confirmation (diagnostics/tickets/mode-steps.ts stepSummary)
    expect(timeline.timelineAction('step_arrived')).toBe('到达现场');
    expect(note('step_shipped_back', 'method: shipped; carrier: SF; tracking: SF1; result: ok; no damage')).toBe(
      '方式: 托运/邮寄; 承运方: SF; 运单号: SF1; 结果（技术状态、原因、工作内容）: ok; no damage',
    );
    expect(note('step_departed', `eta: ${new Date(at).toISOString()}`)).toMatch(
      /^预计到达时间: \d{4}-\d\d-\d\d \d\d:\d\d$/,
    );
    expect(note('step_confirmed', 'joint_assessment: agreed')).toBe('双方鉴定装备技术状态: agreed');
    // merging and a close over active alarms (diagnostics/tickets/service.ts)
    expect(timeline.timelineAction('merged_in')).toBe('其他工单并入本单');
    expect(timeline.timelineAction('alarms_override')).toBe('未消除告警强制放行');
    expect(note('merged', 'merged into T-2026-0042: same fault')).toBe('并入 T-2026-0042: same fault');
    expect(note('merged_in', 'T-2026-0041 merged into this ticket')).toBe('T-2026-0041 已并入本工单');
    expect(note('alarms_override', 'close with active alarms GEN-START-FAIL (#12), LOW-SOC (#13): stale')).toBe(
      '关闭时仍有未消除告警 GEN-START-FAIL (#12), LOW-SOC (#13): stale',
    );
  });
});
