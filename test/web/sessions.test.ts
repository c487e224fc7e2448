import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { codeOf, healthyFrame, startWeb, type Agent, type TestWeb } from './helpers.ts';

describe('remote sessions over the API', () => {
  let w: TestWeb;
  let crew: Agent;
  let engineer: Agent;
  let dispatcher: Agent;
  beforeEach(async () => {
    w = await startWeb();
    crew = await w.login('cust-a');
    engineer = await w.login('engineer');
    dispatcher = await w.login('dispatcher');
  });
  afterEach(async () => w.close());

  it('a crew requests support, the engineer answers, they chat, the engineer escalates; the ticket lists the session and its record prints', async () => {
    const t0 = w.now();
    await w.frames('VA1', [healthyFrame(1, t0 - 400_000), healthyFrame(2, t0 - 120_000), healthyFrame(3, t0)]);
    const req = await crew.post('/api/sessions', {
      vehicleId: 'VA1',
      description: 'generator <script>alert(1)</script> will not start',
    });
    expect(req.statusCode, req.body).toBe(201);
    const { session } = req.json();
    expect(session).toMatchObject({ status: 'ringing', vehicleId: 'VA1', customerId: 'CA' });
    const again = await crew.post('/api/sessions', { vehicleId: 'VA1', description: 'still nothing' });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ existing: true, session: { id: session.id } });

    w.advance(42_000);
    const answered = await engineer.post(`/api/sessions/${session.id}/answer`);
    expect(answered.statusCode, answered.body).toBe(200);
    expect(answered.json().session).toMatchObject({ status: 'live', answeredBy: 'engineer' });
    expect(codeOf(await dispatcher.post(`/api/sessions/${session.id}/answer`))).toBe('SESSION_INVALID_STATE');

    expect((await crew.post(`/api/sessions/${session.id}/chat`, { text: 'nothing happens' })).statusCode).toBe(201);
    expect((await engineer.post(`/api/sessions/${session.id}/chat`, { text: 'check the E-stop' })).statusCode).toBe(
      201,
    );
    // an observer must join before writing
    expect(codeOf(await dispatcher.post(`/api/sessions/${session.id}/chat`, { text: 'hi' }))).toBe(
      'SESSION_NOT_JOINED',
    );
    w.advance(1000);
    expect((await dispatcher.post(`/api/sessions/${session.id}/join`)).json().session.participants).toHaveLength(3);
    expect(codeOf(await crew.post(`/api/sessions/${session.id}/chat`, { text: 'x'.repeat(2001) }))).toBe(
      'VALIDATION_FAILED',
    );

    // the crew sees staff by role label, never by login id
    const seen = (await crew.get(`/api/sessions/${session.id}`)).json();
    expect(seen.role).toBe('crew');
    expect(seen.session.answeredBy).toBe('Engineer');
    expect(seen.session.participants.map((p: { id: string }) => p.id)).toEqual(['cust-a', 'Engineer', 'Duty desk']);
    const chat = (await crew.get(`/api/sessions/${session.id}/timeline?since=0`))
      .json()
      .entries.filter((e: { kind: string }) => e.kind === 'chat');
    expect(chat.map((e: { actor: string; actorName: string; text: string }) => [e.actor, e.actorName, e.text])).toEqual(
      [
        ['cust-a', 'cust-a', 'nothing happens'],
        ['Engineer', 'Engineer', 'check the E-stop'],
      ],
    );
    const ring = (await crew.get(`/api/sessions/${session.id}/timeline`))
      .json()
      .entries.find((e: { kind: string }) => e.kind === 'ring');
    expect(ring.data).toEqual({ step: 'duty_lead' });
    // staff see the login ids
    const staffRing = (await dispatcher.get(`/api/sessions/${session.id}/timeline`))
      .json()
      .entries.find((e: { kind: string }) => e.kind === 'ring');
    expect(staffRing.data).toMatchObject({ step: 'duty_lead', accounts: ['duty-lead'] });
    // catching up after a seq
    const tail = (await crew.get(`/api/sessions/${session.id}/timeline?since=${chat[0].seq}`)).json().entries;
    expect(tail[0].seq).toBe(chat[0].seq + 1);

    expect(codeOf(await crew.post(`/api/sessions/${session.id}/end`, { outcome: 'resolved_remotely' }))).toBe(
      'FORBIDDEN',
    );
    w.advance(60_000);
    const ended = await engineer.post(`/api/sessions/${session.id}/end`, {
      outcome: 'escalated_on_site',
      note: 'contactor burnt',
    });
    expect(ended.statusCode, ended.body).toBe(200);
    expect(ended.json().session).toMatchObject({ status: 'ended', outcome: 'escalated_on_site' });

    const ticket = (await crew.get(`/api/tickets/${session.ticketId}`)).json();
    expect(ticket.ticket).toMatchObject({
      source: 'customer',
      status: 'work_content_determined',
      serviceMode: 'on_site_repair',
    });
    expect(ticket.sessions.map((s: { id: number }) => s.id)).toEqual([session.id]);
    expect(ticket.timeline.map((e: { note: string | null }) => e.note ?? '').join('\n')).toContain(
      `/api/sessions/${session.id}/record.html`,
    );

    const record = (await crew.get(`/api/sessions/${session.id}/record`)).json();
    expect(record.timeToAnswerMs).toBe(42_000);
    expect(record.telemetry.frames.map((f: { frame: { seq: number } }) => f.frame.seq)).toEqual([2, 3]);
    expect(record.participants.staff.map((p: { id: string }) => p.id)).toEqual(['Engineer', 'Duty desk']);
    const html = await crew.get(`/api/sessions/${session.id}/record.html`);
    expect(html.statusCode).toBe(200);
    expect(html.headers['content-type']).toContain('text/html');
    expect(html.body).toContain('generator &lt;script&gt;alert(1)&lt;/script&gt; will not start');
    expect(html.body).not.toContain('<script');
    expect(html.body).not.toMatch(/(src|href)=/);
    expect(html.body).toContain('Escalated to on-site repair');
    expect(html.body).not.toContain('"engineer"');
  });

  it('staff start a session from a ticket; one open session per ticket', async () => {
    const t = await w.ticket('VA1');
    const first = await engineer.post('/api/sessions', { ticketId: t.id, description: 'after the hotline call' });
    expect(first.statusCode, first.body).toBe(201);
    expect(first.json().session).toMatchObject({ status: 'live', answeredBy: 'engineer', ticketId: t.id });
    const second = await dispatcher.post('/api/sessions', { ticketId: t.id });
    expect(second.statusCode).toBe(409);
    expect(codeOf(second)).toBe('SESSION_ALREADY_OPEN');
    const list = (await dispatcher.get(`/api/sessions?ticketId=${t.id}&open=true`)).json();
    expect(list.sessions.map((s: { id: number }) => s.id)).toEqual([first.json().session.id]);
  });

  it('lists newest first in pages; a customer sees its own unit’s only', async () => {
    for (const v of ['VA1', 'VB1']) await w.ticket(v);
    const a = (await engineer.post('/api/sessions', { ticketId: 1 })).json().session;
    const b = (await engineer.post('/api/sessions', { ticketId: 2 })).json().session;
    const p1 = (await dispatcher.get('/api/sessions?limit=1')).json();
    expect(p1.sessions.map((s: { id: number }) => s.id)).toEqual([b.id]);
    const p2 = (await dispatcher.get(`/api/sessions?limit=1&cursor=${p1.nextCursor}`)).json();
    expect(p2).toEqual({ sessions: [expect.objectContaining({ id: a.id })], nextCursor: null });
    const mine = (await crew.get('/api/sessions')).json();
    expect(mine.sessions.map((s: { id: number }) => s.id)).toEqual([a.id]);
  });

  it('the roster: the duty desk keeps it, engineers read it, customers do not see it', async () => {
    const add = await dispatcher.post('/api/roster/shifts', {
      weekday: 5,
      start: '16:30',
      end: '08:00',
      primary: 'engineer',
      dutyLead: 'dispatcher',
    });
    expect(add.statusCode, add.body).toBe(201);
    const shift = add.json().shift;
    expect(shift).toMatchObject({ weekday: 5, date: null, secondary: null });
    expect(
      codeOf(
        await engineer.post('/api/roster/shifts', {
          weekday: 1,
          start: '08:00',
          end: '20:00',
          primary: 'engineer',
          dutyLead: 'dispatcher',
        }),
      ),
    ).toBe('FORBIDDEN');
    expect(
      codeOf(
        await dispatcher.post('/api/roster/shifts', {
          weekday: 1,
          start: '08:00',
          end: '20:00',
          primary: 'cust-a',
          dutyLead: 'dispatcher',
        }),
      ),
    ).toBe('ACCOUNT_NOT_FOUND');
    expect(
      codeOf(
        await dispatcher.post('/api/roster/shifts', {
          weekday: 1,
          date: '2026-12-01',
          start: '08:00',
          end: '20:00',
          primary: 'engineer',
          dutyLead: 'dispatcher',
        }),
      ),
    ).toBe('INVALID_ARGUMENT');
    const patched = await dispatcher.patch(`/api/roster/shifts/${shift.id}`, { secondary: 'admin' });
    expect(patched.json().shift).toMatchObject({ secondary: 'admin' });
    // 2026-11-27 08:00 UTC is Friday 16:00 in Shanghai: the evening shift is not on yet
    const roster = (await engineer.get('/api/roster')).json();
    expect(roster).toMatchObject({ timeZone: 'Asia/Shanghai', onDuty: null });
    expect(roster.shifts).toHaveLength(1);
    w.advance(40 * 60_000); // 16:40 in Shanghai
    expect((await engineer.get('/api/roster')).json().onDuty).toMatchObject({ id: shift.id });
    expect(codeOf(await crew.get('/api/roster'))).toBe('FORBIDDEN');
    expect((await dispatcher.delete(`/api/roster/shifts/${shift.id}`)).statusCode).toBe(204);
    expect(codeOf(await dispatcher.delete(`/api/roster/shifts/${shift.id}`))).toBe('DUTY_SHIFT_NOT_FOUND');
  });
});
