import { describe, expect, it } from 'vitest';
import type { Ticket, TimelineEntry } from '../../diagnostics/types.ts';
import { loadConfig } from '../../platform/config.ts';
import { chartGeometry } from '../../reports/chart.ts';
import { renderReportHtml } from '../../reports/html.ts';
import { createReports } from '../../reports/reports.ts';
import { SERVICE_REPORT } from '../../reports/service-report-layout.ts';
import {
  buildServiceReport,
  resolutionOf,
  telemetryWindow,
  type ServiceReportSources,
} from '../../reports/service-report.ts';
import { captureLogger } from '../web/helpers.ts';

const T0 = Date.UTC(2026, 11, 1, 2, 0, 0);
const MIN = 60_000;

const ticket = (patch: Partial<Ticket> = {}): Ticket => ({
  id: 7,
  number: 'EM-CA-0007',
  source: 'rule',
  vehicleId: 'VA1',
  customerId: 'CA',
  level: 'urgent',
  status: 'verified',
  title: '充电调节器故障',
  need: '电池无法充电',
  contacts: [],
  faultCode: 'CHG-REG-FAULT',
  incidentId: null,
  serviceMode: 'on_site_repair',
  assignee: 'eng',
  escalatedTo: null,
  receivedAt: T0,
  workContentDueAt: T0 + 30 * MIN,
  workContentDoneAt: T0 + 10 * MIN,
  planDueAt: T0 + 30 * MIN,
  planDoneAt: T0 + 45 * MIN,
  breaches: ['plan'],
  planRef: null,
  eta: null,
  etaNote: null,
  updatedAt: T0,
  mergedInto: null,
  repairedBy: null,
  resolution: null,
  escalatedAccounts: [],
  proposedLevel: 'urgent',
  levelConfirmedAt: T0 + 5 * MIN,
  levelConfirmedBy: 'dispatcher',
  place: null,
  province: null,
  deadlinesApply: true,
  serviceOrderId: null,
  ...patch,
});

const entry = (min: number, actor: string, action: string, note: string | null = null): TimelineEntry => ({
  at: T0 + min * MIN,
  actor,
  action,
  fromStatus: null,
  toStatus: null,
  note,
  visibility: 'customer',
});

const sources = (timeline: TimelineEntry[], patch: Partial<ServiceReportSources> = {}): ServiceReportSources => ({
  ticket: ticket(),
  timeline,
  people: {
    system: { name: 'System', side: 'system' },
    eng: { name: 'Wang (eng)', side: 'staff' },
    'cust-a': { name: 'cust-a', side: 'customer' },
  },
  vehicle: { id: 'VA1', name: 'Shelter A1', model: 'XJ-24' },
  unit: { id: 'CA', name: 'Unit A' },
  sessions: [],
  telemetry: null,
  parts: [],
  resolution: null,
  generatedAt: T0 + 200 * MIN,
  ...patch,
});

describe('the service report model (a pure function of the records)', () => {
  const timeline = [
    entry(0, 'system', 'received', 'need'),
    entry(2, 'eng', 'service_mode_set', 'remote_support'),
    entry(10, 'eng', 'determine_work_content', '查找原因'),
    entry(20, 'eng', 'service_mode_set', 'on_site_repair'),
    entry(45, 'eng', 'issue_plan'),
    entry(70, 'eng', 'arrived', '到达现场'),
    entry(90, 'eng', 'mark_repaired', '更换调节器'),
    entry(95, 'eng', 'verify', '测试正常'),
  ];

  it('records the deadlines met and breached, the modes in order, arrival and the time to repair', () => {
    const r = buildServiceReport(sources(timeline));
    expect(r.deadlines).toEqual([
      { kind: 'work_content', dueAt: T0 + 30 * MIN, doneAt: T0 + 10 * MIN, state: 'met' },
      { kind: 'plan', dueAt: T0 + 30 * MIN, doneAt: T0 + 45 * MIN, state: 'breached' },
    ]);
    expect(r.serviceModes).toEqual(['remote_support', 'on_site_repair']);
    expect(r.arrivedAt).toBe(T0 + 70 * MIN);
    expect(r.timeToRepairMs).toBe(90 * MIN);
    expect(r.milestones.map((m) => m.kind)).toContain('arrived');
    expect(r.steps.map((s) => s.text)).toEqual(['更换调节器', '测试正常']);
  });

  it('signs our side by the staff verification and the user side only by the customer’s own confirmation', () => {
    const unsigned = buildServiceReport(sources(timeline));
    expect(unsigned.signOff.staff).toMatchObject({ signed: true, name: 'Wang (eng)', at: T0 + 95 * MIN });
    expect(unsigned.signOff.customer).toEqual({ signed: false, name: null, at: null, note: null });
    const signed = buildServiceReport(sources([...timeline, entry(100, 'cust-a', 'customer_confirmed', '确认修复')]));
    expect(signed.signOff.customer).toMatchObject({ signed: true, name: 'cust-a', note: '确认修复' });
    expect(signed.people.customer).toEqual(['cust-a']);
  });

  it('asks for both signatures again after the ticket is reopened', () => {
    const r = buildServiceReport(
      sources([...timeline, entry(100, 'cust-a', 'customer_confirmed'), entry(120, 'eng', 'reopen')]),
    );
    expect(r.signOff.staff.signed).toBe(false);
    expect(r.signOff.customer.signed).toBe(false);
  });

  it('reads the ticket’s resolution and free part lines when the ticket records them, none otherwise', () => {
    expect(resolutionOf(ticket())).toEqual({ resolution: null, parts: [] });
    const withParts = {
      ...ticket(),
      resolution: { rootCause: '调节器烧毁', workDone: '更换', partsUsed: ['保险丝 10A', '充电调节器 CR-24 ×1'] },
    } as Ticket;
    expect(resolutionOf(withParts)).toEqual({
      resolution: { cause: '调节器烧毁', workDone: '更换' },
      parts: [
        { name: '保险丝 10A', partNo: null, quantity: null, unit: null, note: null },
        { name: '充电调节器 CR-24 ×1', partNo: null, quantity: null, unit: null, note: null },
      ],
    });
  });

  it('charts an hour before the ticket to an hour after the repair, never past now', () => {
    expect(telemetryWindow({ receivedAt: T0 }, T0 + 90 * MIN, T0 + 500 * MIN)).toEqual({
      from: T0 - 60 * MIN,
      to: T0 + 150 * MIN,
    });
    expect(telemetryWindow({ receivedAt: T0 }, null, T0 + 20 * MIN)).toEqual({
      from: T0 - 60 * MIN,
      to: T0 + 20 * MIN,
    });
  });

  it('lays out both languages with the plan’s terms and escapes every value in HTML', () => {
    const r = buildServiceReport(sources(timeline, { ticket: ticket({ title: '<img src=x onerror=alert(1)>' }) }));
    const zh = renderReportHtml(SERVICE_REPORT.layout(r, 'zh', 'Asia/Shanghai'));
    expect(zh).toContain('《售后服务报告》');
    expect(zh).toContain('加急');
    expect(zh).toContain('远程技术支援 → 现场修理');
    expect(zh).toContain('未签字');
    expect(zh).toContain('&lt;img src=x');
    expect(zh).not.toContain('<img');
    const en = renderReportHtml(SERVICE_REPORT.layout(r, 'en', 'Asia/Shanghai'));
    expect(en).toContain('Urgent (加急)');
    expect(en).toContain('Breached');
    expect(en).toContain('2026-12-01 10:00'); // received, in the service centre's zone
  });

  it('breaks a chart line at a gap in the data and keeps it inside the plot', () => {
    const g = chartGeometry(
      {
        title: 'x',
        unit: '%',
        from: 0,
        to: 100_000,
        ts: [0, 10_000, 20_000, 80_000, 90_000],
        lines: [{ label: 'soc', color: '#000000', values: [10, 20, null, 150, 40] }],
        markers: [{ at: 50_000, label: 'm' }],
        yMin: 0,
        yMax: 100,
      },
      300,
      150,
      'UTC',
    );
    expect(g.lines[0]!.d.match(/M/g)).toHaveLength(2);
    for (const [, y] of g.lines[0]!.d.matchAll(/[ML][\d.]+ ([\d.]+)/g))
      expect(Number(y)).toBeGreaterThanOrEqual(g.plot.y);
    expect(g.markers).toEqual([{ x: g.plot.x + g.plot.w / 2, label: 'm', anchor: 'start' }]);
  });
});

describe('the report font at start', () => {
  const deps = {
    tickets: { timeline: async () => [] },
    sessions: { list: async () => ({ sessions: [], nextCursor: null }), timeline: async () => [] },
    telemetry: { series: async () => Promise.reject(new Error('unused')) },
    vehicles: { get: async () => undefined },
    customers: { get: async () => undefined },
  };
  it('warns when the font cannot be read and is silent when it can', async () => {
    const missing = captureLogger();
    await createReports(
      { ...deps, log: missing.log },
      { timeZone: 'UTC', font: { file: '/nonexistent/font.ttc' } },
    ).start();
    expect(missing.lines().some((l) => l.level === 40 && String(l.msg).includes('REPORT_FONT_MISSING'))).toBe(true);
    const present = captureLogger();
    await createReports({ ...deps, log: present.log }, { timeZone: 'UTC' }).start();
    expect(present.lines().filter((l) => l.level === 40)).toEqual([]);
  });
});

describe('the report font settings', () => {
  it('default to Debian’s WenQuanYi Micro Hei and refuse what is not a font file, naming the setting', () => {
    const c = loadConfig({});
    expect([c.REPORT_FONT_FILE, c.REPORT_FONT_NAME]).toEqual([
      '/usr/share/fonts/truetype/wqy/wqy-microhei.ttc',
      'WenQuanYiMicroHei',
    ]);
    expect(() => loadConfig({ REPORT_FONT_FILE: '/fonts/x.woff2' })).toThrow(
      /REPORT_FONT_FILE="\/fonts\/x.woff2": REPORT_FONT_FILE must name a .ttf, .otf, .ttc or .otc font file/,
    );
    expect(() => loadConfig({ REPORT_FONT_NAME: 'two words' })).toThrow(
      /REPORT_FONT_NAME must be a PostScript font name/,
    );
  });
});
