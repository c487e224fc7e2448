/// <reference lib="dom" />
/**
 * A patrol inspection and repair order (巡检巡修) end to end in real Chromium (issue 13 items 3–4):
 * a customer requests it by application, the duty desk sets the team and schedules it, an engineer
 * records two visits with findings (one opens an emergency ticket) and completes it, the customer
 * signs it off (双方确认), and the 《巡检巡修服务报告》 PDF downloads with the visits in it.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addAccounts, startConsole, type ConsoleUnderTest } from '../helpers/browser.ts';

describe('a patrol inspection order in the console (Chromium)', () => {
  let web: ConsoleUnderTest;
  let base: string;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pw-patrol-'));
    web = await startConsole();
    base = web.base;
    const p = web.tp.platform;
    await p.customers.add({ id: 'UNIT-A', name: 'Unit A' });
    await addAccounts(p, [
      { id: 'desk', name: 'Di Desk', role: 'dispatcher' },
      { id: 'eng', name: 'Zhou Eng', role: 'engineer' },
      { id: 'cust-a', name: 'Ann of Unit A', role: 'customer', customerId: 'UNIT-A' },
    ]);
    await web.tp.addVehicle('VA-1', 'UNIT-A');
  }, 120_000);

  afterAll(async () => {
    await web?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const signIn = (username: string): Promise<Page> => web.signIn(username, { acceptDownloads: true });

  it('request → team and schedule → two visits with findings → done → signed off → the PDF report', async () => {
    // the customer applies: place, equipment, date, people, tools
    const cust = await signIn('cust-a');
    await cust.goto(`${base}/#/orders/new`);
    const form = cust.locator('[data-testid=order-form]');
    await form.waitFor();
    await form.locator('select[name=kind]').selectOption('patrol_inspection');
    await form.locator('input[name=title]').fill('冬季巡检巡修');
    await form.locator('textarea[name=details]').fill('两台电源车入冬前检查');
    await form.locator('input[name=place]').fill('岳阳车场二号门');
    await form.locator('input[name=date]').fill('2026-12-20');
    await form.locator('input[name=people]').fill('2');
    await form.locator('textarea[name=app-equipment]').fill('VA-1\n二号方舱');
    await form.locator('input[name=app-tools]').fill('万用表、钳形电流表');
    await form.locator('input[name=contact-phone]').fill('0730-7650002');
    await form.locator('button[type=submit]').click();
    await cust.waitForSelector('[data-testid=order-view][data-status=requested]');
    const id = /#\/orders\/(\d+)/.exec(cust.url())![1]!;
    expect(await cust.locator('[data-testid=order-application-facts]').innerText()).toContain('万用表');
    // the customer neither edits the team nor records
    expect(await cust.locator('[data-testid=order-team-editor]').count()).toBe(0);

    // the duty desk sets the team (leader with a duty) and schedules it
    const desk = await signIn('desk');
    await desk.goto(`${base}/#/orders/${id}`);
    const editor = desk.locator('[data-testid=order-team-editor]');
    await editor.waitFor();
    await editor.locator('[data-testid=order-team-add]').click();
    const row = editor.locator('[data-testid=order-team-row]').first();
    await row.locator('select[name=member]').selectOption('eng');
    await row.locator('select[name=team-role]').selectOption('leader');
    await row.locator('input[name=duty]').fill('现场勘查、维修操作');
    await editor.locator('[data-testid=order-team-save]').click();
    await desk.waitForSelector('[data-testid=order-team-members] li[data-role=leader]');
    expect(await desk.locator('[data-testid=order-team-members]').innerText()).toContain('Zhou Eng');
    const schedule = desk.locator('[data-testid=order-schedule]');
    await schedule.locator('input[name=start]').fill('2026-12-20 09:00');
    await schedule.locator('button[type=submit]').click();
    await desk.waitForSelector('[data-testid=order-view][data-status=scheduled]');

    // the engineer starts it and records two visits with findings
    const eng = await signIn('eng');
    await eng.goto(`${base}/#/orders/${id}`);
    await eng.locator('button[data-action=start]').click();
    await eng.waitForSelector('[data-testid=order-view][data-status=in_progress]');
    const visits: [string, string, string][] = [
      ['VA-1', '蓄电池组电压偏低', '蓄电池老化需更换'],
      ['二号方舱', '散热风扇有异响', '风扇轴承磨损'],
    ];
    for (const [n, [target, state, finding]] of visits.entries()) {
      const v = eng.locator('[data-testid=visit-form]');
      await v.locator('input[name=target]').fill(target);
      await v.locator('input[name=visit-at]').fill(`2026-12-20 ${10 + n}:00`);
      await v.locator('textarea[name=state-found]').fill(state);
      await v.locator('input[name=readings]').fill('电池 23.4 V');
      await v.locator('[data-testid=finding-add]').click();
      const f = v.locator('[data-testid=finding-row]').first();
      await f.locator('input[name=finding]').fill(finding);
      await f.locator('select[name=severity]').selectOption('major');
      await f.locator('input[name=needs-repair]').check();
      await v.locator('textarea[name=work-done]').fill('紧固接线端子');
      await v.locator('textarea[name=parts]').fill('保险丝 × 2');
      await v.locator('button[type=submit]').click();
      await eng.waitForFunction((k) => document.querySelectorAll('[data-testid=order-visit]').length === k, n + 1);
    }
    // the first finding opens an emergency ticket, linked on the finding
    await eng.locator('[data-testid=order-visit]').first().locator('[data-testid=finding-ticket]').click();
    await eng.waitForSelector('[data-testid=finding-link]');
    expect(await eng.locator('[data-testid=finding-link]').innerText()).toContain('EM-UNIT-A-');
    await eng.locator('[data-testid=order-actions] input.grow').last().fill('两台装备巡检完毕，一项转应急维修');
    await eng.locator('button[data-action=complete]').click();
    await eng.waitForSelector('[data-testid=order-view][data-status=done]');

    // the customer sees the records and signs off (双方确认)
    await cust.goto(`${base}/#/orders`);
    await cust.goto(`${base}/#/orders/${id}`);
    await cust.waitForSelector('[data-testid=order-view][data-status=done]');
    expect(await cust.locator('[data-testid=order-visit]').count()).toBe(2);
    const sign = cust.locator('[data-testid=order-sign-off-form]');
    await sign.locator('input[name=signer]').fill('李伟');
    await sign.locator('input[name=sign-note]').fill('同意');
    await sign.locator('button[type=submit]').click();
    await cust.waitForSelector('[data-testid=order-sign-off][data-signed=yes]');
    expect(await cust.locator('[data-testid=order-signed]').innerText()).toContain('李伟');

    // the 《巡检巡修服务报告》 PDF downloads with the visits, the team and both sides' sign-off
    const [download] = await Promise.all([
      cust.waitForEvent('download'),
      cust.locator('[data-testid=order-report-pdf]').click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/^patrol-report-SO-UNIT-A-0001-(zh|en)\.pdf$/);
    const file = join(dir, 'patrol.pdf');
    await download.saveAs(file);
    const text = execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' });
    for (const s of [
      'SO-UNIT-A-0001',
      'VA-1',
      '蓄电池老化需更换',
      '风扇轴承磨损',
      '二号方舱',
      '保险丝',
      '两台装备巡检完毕',
      '李伟',
      '万用表',
    ])
      expect(text, s).toContain(s);
    expect(text).toMatch(/Patrol inspection and repair service report|巡检巡修服务报告/);
    expect(text).not.toMatch(/\b(eng|desk)\b/);
  }, 120_000);
});
