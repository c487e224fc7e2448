import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { poppler } from '../helpers/poppler.ts';
import { codeOf, startWeb, type Agent, type TestWeb } from './helpers.ts';

const HOUR = 3_600_000;
const contacts = [{ name: '李伟', phone: '0730-7650002', role: '用户技术员' }];
const base = { details: '申请说明', place: '岳阳车场', requestedDate: '2026-12-20', people: 2, contacts };

/**
 * The service orders' reports as PDFs (issue 13 item 4): 《巡检巡修服务报告》, 《技术培训服务报告》,
 * 《伴随保障服务报告》 with the CJK font embedded, rendered to PNG to see that the page is drawn.
 */
describe('service order reports (PDF)', () => {
  let w: TestWeb;
  let dispatcher: Agent;
  let engineer: Agent;
  let custA: Agent;
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'pw-order-report-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  beforeEach(async () => {
    w = await startWeb();
    dispatcher = await w.login('dispatcher');
    engineer = await w.login('engineer');
    custA = await w.login('cust-a');
  });
  afterEach(async () => w.close());

  const act = (id: number, a: Agent, body: object) => a.post(`/api/service-orders/${id}/actions`, body);
  async function order(body: object): Promise<number> {
    const id = (await custA.post('/api/service-orders', body)).json().order.id as number;
    await dispatcher.request('PUT', `/api/service-orders/${id}/team`, {
      members: [{ accountId: 'engineer', role: 'leader', duty: '巡检' }],
    });
    await act(id, dispatcher, { action: 'schedule', scheduledStart: w.now() + HOUR });
    await act(id, engineer, { action: 'start' });
    return id;
  }

  it('《巡检巡修服务报告》: two visits with findings, parts, the team and both sides’ sign-off, in the PDF', async () => {
    const id = await order({
      ...base,
      kind: 'patrol_inspection',
      title: '冬季巡检',
      application: { kind: 'patrol_inspection', equipment: ['VA1'], tools: '万用表' },
    });
    for (const [at, what, finding] of [
      [w.now(), { vehicleId: 'VA1' }, '蓄电池老化'],
      [w.now() + HOUR, { equipment: '二号方舱' }, '散热风扇异响'],
    ] as const)
      expect(
        (
          await engineer.post(`/api/service-orders/${id}/records`, {
            type: 'visit',
            ...what,
            at,
            stateFound: '基本良好',
            readings: '电压 26.4 V',
            findings: [{ text: finding, severity: 'major', needsRepair: true }],
            workDone: '紧固接线',
            parts: [{ name: '保险丝', quantity: 2, unit: '只' }],
            internalNote: 'SECRET-NOTE',
          })
        ).statusCode,
      ).toBe(201);
    await act(id, engineer, { action: 'complete', note: '巡检完毕，建议更换蓄电池' });
    expect((await custA.post(`/api/service-orders/${id}/sign-off`, { name: '李伟' })).statusCode).toBe(200);

    const res = await custA.get(`/api/service-orders/${id}/report.pdf?lang=zh`);
    expect(res.statusCode, res.body.slice(0, 300)).toBe(200);
    expect(res.headers['content-type']).toBe('application/pdf');
    expect(res.headers['content-disposition']).toBe('attachment; filename="patrol-report-SO-CA-0001-zh.pdf"');
    const pdf = poppler(dir, res.rawPayload, 'patrol');
    expect(pdf.fonts()).toMatch(/WenQuanYiMicroHei\s+CID TrueType\s+Identity-H\s+yes\s+yes\s+yes/);
    const text = pdf.text();
    for (const s of [
      '《巡检巡修服务报告》',
      'SO-CA-0001',
      '巡检记录及发现问题',
      '蓄电池老化',
      '散热风扇异响',
      '二号方舱',
      'Shelter A1 (VA1)',
      '保险丝',
      '巡检完毕',
      '万用表',
      '李伟',
      '已签字',
    ])
      expect(text, s).toContain(s);
    expect(text).not.toContain('SECRET-NOTE');
    expect(text).not.toMatch(/\b(engineer|dispatcher)\b/);
    const page = pdf.inked();
    expect(existsSync(page.png)).toBe(true);
    expect(readFileSync(page.png).subarray(1, 4).toString('latin1')).toBe('PNG');
    expect(page.inkShare).toBeGreaterThan(0.01);
    expect(page.inkShare).toBeLessThan(0.5);
    // English
    const en = poppler(dir, (await dispatcher.get(`/api/service-orders/${id}/report.pdf?lang=en`)).rawPayload, 'en');
    expect(en.text()).toContain('Patrol inspection and repair service report');
  });

  it('《技术培训服务报告》 and 《伴随保障服务报告》 print their own records; a bad language is refused', async () => {
    const t = await order({
      ...base,
      kind: 'training',
      title: '交装培训',
      application: { kind: 'training', teachingUnit: '技术中心', topics: ['机组操作'], materials: '手册' },
    });
    const a = (
      await engineer.post(`/api/service-orders/${t}/records`, {
        type: 'attendee',
        name: '张三',
        unit: '某部',
        role: '操作手',
      })
    ).json().record;
    await engineer.post(`/api/service-orders/${t}/records`, {
      type: 'assessment',
      attendeeId: a.id,
      score: 88,
      passed: true,
    });
    await engineer.post(`/api/service-orders/${t}/records`, {
      type: 'session',
      at: w.now(),
      topic: '并机操作',
      trainer: '赵工',
    });
    const tt = poppler(dir, (await custA.get(`/api/service-orders/${t}/report.pdf`)).rawPayload, 'training').text();
    for (const s of ['《技术培训服务报告》', '张三', '88', '合格', '并机操作', '赵工', '未签字'])
      expect(tt, s).toContain(s);

    const s = await order({
      ...base,
      kind: 'accompanying_support',
      title: '演习保障',
      application: {
        kind: 'accompanying_support',
        taskSource: '上级通知',
        supportedUnit: '某部',
        equipment: '电源车',
        assemblyAt: w.now(),
        assemblyPlace: '岳阳东站',
        start: w.now(),
        end: w.now() + 48 * HOUR,
      },
    });
    await engineer.post(`/api/service-orders/${s}/records`, { type: 'log', at: w.now(), text: '第一天保障供电正常' });
    const st = poppler(dir, (await custA.get(`/api/service-orders/${s}/report.pdf`)).rawPayload, 'acc').text();
    for (const x of ['《伴随保障服务报告》', '上级通知', '岳阳东站', '第一天保障供电正常']) expect(st, x).toContain(x);
    expect(codeOf(await custA.get(`/api/service-orders/${s}/report.pdf?lang=fr`))).toBe('VALIDATION_FAILED');
  });
});
