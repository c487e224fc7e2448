import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { TelemetryFrame } from '../../protocol/index.ts';
import { codeOf, healthyFrame, startWeb, type Agent, type TestWeb } from './helpers.ts';

const MIN = 60_000;
const contacts = [{ name: '李伟', phone: '0730-7650002', role: '用户技术员' }];

/** Poppler's tools on a PDF in a scratch directory (Debian poppler-utils, installed by .ci/run). */
function poppler(dir: string, pdf: Buffer) {
  const file = join(dir, 'report.pdf');
  writeFileSync(file, pdf);
  return {
    fonts: () => execFileSync('pdffonts', [file], { encoding: 'utf8' }),
    text: () => execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' }),
    /** The first page as a PNG at 60 dpi, returned as its greyscale pixels' share of non-white. */
    inked(): { png: string; inkShare: number } {
      execFileSync('pdftoppm', ['-r', '60', '-f', '1', '-l', '1', '-gray', file, join(dir, 'page')]);
      execFileSync('pdftoppm', ['-r', '60', '-f', '1', '-l', '1', '-png', file, join(dir, 'page')]);
      const pgm = readFileSync(execFileSync('sh', ['-c', `ls ${dir}/page*.pgm`], { encoding: 'utf8' }).trim());
      // binary PGM: "P5\n<w> <h>\n255\n" then one byte a pixel
      const header = pgm
        .subarray(0, 40)
        .toString('latin1')
        .match(/^P5\s+(\d+)\s+(\d+)\s+(\d+)\s/);
      if (!header) throw new Error('not a PGM');
      const pixels = pgm.subarray(header[0].length);
      let dark = 0;
      for (const p of pixels) if (p < 200) dark++;
      return {
        png: execFileSync('sh', ['-c', `ls ${dir}/page*.png`], { encoding: 'utf8' }).trim(),
        inkShare: dark / pixels.length,
      };
    },
  };
}

describe('service reports (《售后服务报告》)', () => {
  let w: TestWeb;
  let dispatcher: Agent;
  let engineer: Agent;
  let custA: Agent;
  let custB: Agent;
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'pw-report-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  beforeEach(async () => {
    w = await startWeb();
    dispatcher = await w.login('dispatcher');
    engineer = await w.login('engineer');
    custA = await w.login('cust-a');
    custB = await w.login('cust-b');
  });
  afterEach(async () => w.close());

  /**
   * A mains outage with a generator that does not start: the battery carries the load and runs down
   * until the engineer repairs the generator 40 min after the call; both sides' records on the way.
   */
  async function repairedTicket(): Promise<number> {
    // the vehicle came to its unit at the start: the customer sees its telemetry from then on
    w.advance(70 * MIN);
    dispatcher = await w.login('dispatcher');
    engineer = await w.login('engineer');
    const t0 = w.now();
    const frames: TelemetryFrame[] = [];
    let seq = 1;
    for (let ts = t0 - 65 * MIN; ts <= t0 + 100 * MIN; ts += 30_000) {
      const m = (ts - t0) / MIN;
      if (m < -10) frames.push(healthyFrame(seq++, ts));
      else if (m < 40) {
        const soc = 95 - (m + 10) * 0.9;
        frames.push(
          healthyFrame(seq++, ts, {
            source: 'battery',
            mains: { present: false, voltageV: 0, frequencyHz: 0, currentA: 0 },
            battery: { voltageV: 25.6 - (m + 10) * 0.03, currentA: -80, socPct: soc, tempC: 26 },
            loadKw: 2.1,
          } as Partial<TelemetryFrame>),
        );
      } else
        frames.push(
          healthyFrame(seq++, ts, {
            source: 'generator',
            mains: { present: false, voltageV: 0, frequencyHz: 0, currentA: 0 },
            generator: {
              running: true,
              voltageV: 229,
              frequencyHz: 50,
              currentA: 10,
              rpm: 1500,
              fuelPct: 70,
              coolantC: 80,
              oilKpa: 350,
            },
            battery: { voltageV: 27.2, currentA: 20, socPct: 50 + (m - 40) * 0.4, tempC: 27 },
            loadKw: 2.4,
          } as Partial<TelemetryFrame>),
        );
    }
    await w.frames('VA1', frames);

    const res = await dispatcher.post('/api/tickets', {
      vehicleId: 'VA1',
      level: 'extra_urgent',
      title: '发电机组无法启动',
      need: '市电中断后发电机组无法启动，电池供电，请求紧急支援',
      contacts,
      faultCode: 'GEN-START-FAIL',
    });
    expect(res.statusCode, res.body).toBe(201);
    const id = res.json().ticket.id as number;
    const act = async (a: Agent, action: string, note?: string, visibility = 'customer', extra: object = {}) => {
      const r = await a.post(`/api/tickets/${id}/transitions`, {
        action,
        ...(note ? { note, visibility } : {}),
        ...extra,
      });
      expect(r.statusCode, r.body).toBe(200);
    };
    w.advance(3 * MIN);
    expect((await dispatcher.post(`/api/tickets/${id}/assign`, { assignee: 'engineer' })).statusCode).toBe(200);
    w.advance(5 * MIN);
    await act(dispatcher, 'determine_work_content', '检查发电机组启动电路');
    w.advance(2 * MIN);
    const session = await engineer.post('/api/sessions', { ticketId: id, description: '远程指导检查启动电池' });
    expect(session.statusCode, session.body).toBe(201);
    w.advance(8 * MIN);
    const end = await engineer.post(`/api/sessions/${session.json().session.id}/end`, {
      outcome: 'escalated_on_site',
    });
    expect(end.statusCode, end.body).toBe(200);
    await act(engineer, 'start_service', '技师出发前往现场');
    const internal = await engineer.post(`/api/tickets/${id}/comments`, {
      text: '内部备注：供应商零件批次可疑 SECRET-NOTE',
      visibility: 'internal',
    });
    expect(internal.statusCode).toBe(201);
    w.advance(22 * MIN);
    dispatcher = await w.login('dispatcher');
    await act(engineer, 'mark_repaired', '更换启动继电器，发电机组恢复供电', 'customer', {
      resolution: { rootCause: '启动继电器烧毁', workDone: '更换启动继电器', partsUsed: ['启动继电器 ×1'] },
    });
    w.advance(45 * MIN);
    dispatcher = await w.login('dispatcher');
    await act(dispatcher, 'verify', '双方测试确认供电正常', 'customer', { alarmOverride: '报警由测试保留' });
    // the console sessions' idle timeout (1 h) has passed for those who did nothing meanwhile
    custA = await w.login('cust-a');
    custB = await w.login('cust-b');
    return id;
  }

  it('prints a Chinese PDF with the CJK font embedded, charts drawn and the Chinese text extractable', async () => {
    const id = await repairedTicket();
    const res = await custA.get(`/api/tickets/${id}/report.pdf?lang=zh`);
    expect(res.statusCode, res.body.slice(0, 300)).toBe(200);
    expect(res.headers['content-type']).toBe('application/pdf');
    expect(res.headers['content-disposition']).toMatch(/^attachment; filename="service-report-EM-CA-0001-zh\.pdf"$/);
    const pdf = poppler(dir, res.rawPayload);
    expect(pdf.fonts()).toMatch(/WenQuanYiMicroHei\s+CID TrueType\s+Identity-H\s+yes\s+yes\s+yes/);
    const text = pdf.text();
    expect(text).toContain('《售后服务报告》');
    expect(text).toContain('发电机组无法启动');
    expect(text).toContain('更换启动继电器');
    expect(text).toContain('特急');
    expect(text).toContain('远程技术支援');
    expect(text).toContain('修理前后供配电系统运行数据');
    // the customer's own report has no staff-only note and no staff login id
    expect(text).not.toContain('SECRET-NOTE');
    expect(text).not.toMatch(/\bengineer\b/);
    // the staff side verified, the user's side has not signed yet
    expect(text).toContain('未签字');
    const page = pdf.inked();
    expect(page.inkShare).toBeGreaterThan(0.01);
    expect(page.inkShare).toBeLessThan(0.5);
  }, 60_000); // the first PDF starts the PDF thread (from the sources: with tsx's loader)

  it('gives the same report as an English HTML page with SVG charts and both deadlines', async () => {
    const id = await repairedTicket();
    const res = await dispatcher.get(`/api/tickets/${id}/report.html?lang=en`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    const html = res.body;
    expect(html).toContain('After-sales service report');
    expect(html).toContain('Extra urgent (特急)');
    expect(html).toContain('Work content determined (30 min)');
    expect(html).toMatch(/<svg[^>]*aria-label="Battery state of charge \(%\)"/);
    expect(html).toMatch(/<path d="M[\d. ]+L/);
    // the report is the document both sides sign: staff get the customer's content too
    expect(html).not.toContain('SECRET-NOTE');
    expect(html).not.toMatch(/\bengineer\b/);
    expect(html).toContain('Engineer');
    expect(html).toContain('Not signed');
    expect(html).not.toContain('<script');
  });

  it('answers another unit’s customer 404 and a bad language 400', async () => {
    const id = await repairedTicket();
    for (const ext of ['pdf', 'html']) {
      const other = await custB.get(`/api/tickets/${id}/report.${ext}`);
      expect(other.statusCode).toBe(404);
      expect(codeOf(other)).toBe('TICKET_NOT_FOUND');
    }
    const bad = await dispatcher.get(`/api/tickets/${id}/report.pdf?lang=fr`);
    expect(bad.statusCode).toBe(400);
    expect(codeOf(bad)).toBe('VALIDATION_FAILED');
  });

  it('answers REPORT_FONT_MISSING when the font is not installed, and still serves the HTML', async () => {
    await w.close();
    w = await startWeb({ options: { reportFont: { file: join(dir, 'no-such-font.ttc') } } });
    const d = await w.login('dispatcher');
    const t = await w.ticket('VA1');
    const res = await d.get(`/api/tickets/${t.id}/report.pdf`);
    expect(res.statusCode).toBe(503);
    expect(codeOf(res)).toBe('REPORT_FONT_MISSING');
    expect((await d.get(`/api/tickets/${t.id}/report.html`)).statusCode).toBe(200);
  });
});
