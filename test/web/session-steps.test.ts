import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TelemetryFrame } from '../../protocol/index.ts';
import { frame } from '../helpers/platform.ts';
import { startWeb, type TestWeb } from './helpers.ts';

/** Lets the runner's queued database work finish. */
const settle = async () => {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
};

describe('session step routes', () => {
  let web: TestWeb;
  /** A live session on VA1 (unit CA) led by `engineer`, on a ticket whose plan is GEN-START-FAIL. */
  let id: number;

  beforeEach(async () => {
    web = await startWeb();
    await web.sessionParts.steps.start(web.sessionParts.liveSessions);
    // the fault's ticket carries the plan; the crew's request joins it, the engineer answers
    const ticket = await web.ticket('VA1', 'extra_urgent', 'GEN-START-FAIL');
    const { session } = await web.sessions.request(
      { id: 'cust-a', role: 'customer', customerId: 'CA' },
      { vehicleId: 'VA1', description: 'generator does not start' },
    );
    expect(session.ticketId).toBe(ticket.id);
    id = session.id;
    const live = await web.sessions.answer({ id: 'engineer', role: 'engineer', customerId: null }, id);
    expect(live.status).toBe('live');
    await settle();
  });
  afterEach(async () => {
    await web.sessionParts.steps.stop();
    await web.sessions.stop();
    await web.close();
  });

  it('crew sees the steps and marks the current one done with what it sees; other units get 404', async () => {
    const crew = await web.login('cust-a');
    let res = await crew.get(`/api/sessions/${id}/steps`);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.current).toBe(0);
    expect(body.steps[0]).toMatchObject({ stepId: 'check-fuel-estop', actor: 'crew', status: 'checking' });
    expect(body.steps.find((s: { stepId: string }) => s.stepId === 'start-generator')).toMatchObject({
      command: { name: 'startGenerator' },
      expect: { text: 'generator.rpm > 1400', withinS: 60 },
    });

    res = await crew.post(`/api/sessions/${id}/steps/0/done`, { observation: 'tank half full, E-stop out' });
    expect(res.statusCode).toBe(200);
    expect(res.json().steps[0]).toMatchObject({ status: 'done' });
    expect(res.json().steps[0].results.at(-1)).toMatchObject({
      status: 'done',
      actor: 'cust-a',
      observation: 'tank half full, E-stop out',
    });
    expect(res.json().current).toBe(1);

    const other = await web.login('cust-b');
    res = await other.get(`/api/sessions/${id}/steps`);
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('SESSION_NOT_FOUND');
    res = await other.post(`/api/sessions/${id}/steps/1/done`, {});
    expect(res.json().error.code).toBe('SESSION_NOT_FOUND');
    res = await crew.get(`/api/sessions/${id + 1}/steps`);
    expect(res.json().error.code).toBe('SESSION_NOT_FOUND');
  });

  it('only engineers skip and add; the expected observation is checked against live frames', async () => {
    const crew = await web.login('cust-a');
    let res = await crew.post(`/api/sessions/${id}/steps/0/skip`, {});
    expect(res.statusCode).toBe(403);
    expect(res.json().error.code).toBe('FORBIDDEN');
    res = await crew.post(`/api/sessions/${id}/steps`, { instruction: { en: 'a', zh: '甲' } });
    expect(res.statusCode).toBe(403);

    const eng = await web.login('engineer');
    res = await eng.post(`/api/sessions/${id}/steps/0/skip`, { reason: 'checked on the phone' });
    expect(res.statusCode).toBe(200);
    expect(res.json().steps[0].status).toBe('skipped');
    res = await eng.post(`/api/sessions/${id}/steps/0/skip`, {});
    expect(res.statusCode).toBe(409);
    expect(res.json().error.code).toBe('INVALID_TRANSITION');

    res = await eng.post(`/api/sessions/${id}/steps`, {
      actor: 'crew',
      instruction: { en: 'Read the battery voltage', zh: '读取电池电压' },
      expect: { condition: 'battery.voltageV > 20', withinS: 30 },
    });
    expect(res.statusCode).toBe(200);
    const added = res.json().steps.find((s: { addedBy: string | null }) => s.addedBy === 'engineer');
    expect(added).toMatchObject({ expect: { text: 'battery.voltageV > 20' } });

    res = await eng.post(`/api/sessions/${id}/steps`, {
      instruction: { en: 'a', zh: '甲' },
      expect: { condition: 'battery.volts > 20', withinS: 30 },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining('battery.volts'),
    });
    res = await eng.post(`/api/sessions/${id}/steps`, {
      instruction: { en: 'a', zh: '甲' },
      expect: { condition: 'x', withinS: 0 },
    });
    expect(res.json().error.code).toBe('VALIDATION_FAILED');
    res = await eng.post(`/api/sessions/${id}/steps/99/check`, {});
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('STEP_NOT_FOUND');
    res = await eng.post(`/api/sessions/${id}/steps/x/check`, {});
    expect(res.json().error.code).toBe('VALIDATION_FAILED');

    // the crew's step 1 (no observation expected) is done; the added battery check became current
    res = await crew.post(`/api/sessions/${id}/steps/1/done`, {});
    const cur = res.json().steps.find((s: { index: number }) => s.index === res.json().current);
    expect(cur).toMatchObject({ addedBy: 'engineer', status: 'checking' });
    web.bus.emit('telemetry.stored', {
      vehicleId: 'VA1',
      receivedAt: web.now(),
      frames: [frame(1, web.now()) as unknown as TelemetryFrame],
    });
    await settle();
    res = await crew.get(`/api/sessions/${id}/steps`);
    const checked = res.json().steps.find((s: { index: number }) => s.index === cur.index);
    expect(checked.status).toBe('passed');
    expect(checked.results.at(-1)).toMatchObject({
      status: 'passed',
      evidence: { condition: 'battery.voltageV > 20', values: { 'battery.voltageV': 26.4 } },
    });
  });
});
