import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { isPlatformError } from '../../core/errors.ts';
import type { SessionAccess } from '../../remote/types.ts';
import { healthyFrame } from '../web/helpers.ts';
import { ABANDON_MS, RING_MS, startSessions } from './harness.ts';
import { advanceTimers } from '../helpers/records.ts';

/** Friday 27 Nov 2026, 10:00 in Shanghai (02:00 UTC). */
const FRI_10 = Date.UTC(2026, 10, 27, 2, 0, 0);
/** The same day, 22:00 in Shanghai: no shift. */
const FRI_22 = Date.UTC(2026, 10, 27, 14, 0, 0);
const DAY_SHIFT = {
  weekday: 5,
  date: null,
  start: '08:00',
  end: '20:00',
  primary: 'eng-1',
  secondary: 'eng-2',
  dutyLead: 'lead-1',
};

const code = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (err) {
    if (isPlatformError(err)) return err.code;
    throw err;
  }
  return 'no error';
};

describe('remote sessions: request, ringing ladder, answer, chat, end', () => {
  let h: Awaited<ReturnType<typeof startSessions>>;
  beforeEach(async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'], now: FRI_10 });
    h = await startSessions();
    await h.sessions.roster.add(DAY_SHIFT);
    await h.sessions.start();
  });
  afterEach(async () => {
    await h.close();
    vi.useRealTimers();
  });

  it('rings the primary, then the secondary, then the duty lead; the answer makes it live with the time to answer', async () => {
    const { session, existing } = await h.sessions.request(h.principal('cust-a'), {
      vehicleId: 'VA1',
      description: 'generator will not start',
    });
    expect(existing).toBe(false);
    expect(session.status).toBe('ringing');
    expect(h.events['remote.ringing']?.map((e) => [e.step, e.accounts])).toEqual([['primary', ['eng-1']]]);
    const ticket = await h.tickets.get(session.ticketId);
    expect(ticket).toMatchObject({ source: 'customer', vehicleId: 'VA1', serviceMode: 'remote_support' });

    await advanceTimers(RING_MS - 1);
    expect(h.events['remote.ringing']).toHaveLength(1);
    await advanceTimers(1);
    expect(h.events['remote.ringing']?.map((e) => [e.step, e.accounts])).toEqual([
      ['primary', ['eng-1']],
      ['secondary', ['eng-2']],
    ]);
    await advanceTimers(RING_MS);
    expect(h.events['remote.ringing']?.at(-1)).toMatchObject({ step: 'duty_lead', accounts: ['lead-1'] });

    await advanceTimers(30_000);
    const live = await h.sessions.answer(h.principal('eng-3'), session.id);
    expect(live).toMatchObject({ status: 'live', answeredBy: 'eng-3', answeredAt: FRI_10 + 2 * RING_MS + 30_000 });
    expect(live.participants.map((p) => [p.id, p.role])).toEqual([
      ['cust-a', 'crew'],
      ['eng-3', 'lead'],
    ]);
    expect(await code(h.sessions.answer(h.principal('eng-1'), session.id))).toBe('SESSION_INVALID_STATE');

    const m1 = await h.sessions.chat(h.principal('cust-a'), session.id, 'the start button does nothing');
    const m2 = await h.sessions.chat(h.principal('eng-3'), session.id, 'check the emergency stop');
    expect(m2.seq).toBe(m1.seq + 1);
    expect(m2).toMatchObject({ kind: 'chat', actor: 'eng-3', actorName: 'Engineer 3', data: { role: 'lead' } });
    expect(await code(h.sessions.chat(h.principal('eng-1'), session.id, 'hello'))).toBe('SESSION_NOT_JOINED');
    expect(await code(h.sessions.chat(h.principal('cust-a'), session.id, 'x'.repeat(2001)))).toBe('INVALID_ARGUMENT');

    const ended = await h.sessions.end(h.principal('eng-3'), session.id, 'resolved_remotely', 'E-stop was latched');
    expect(ended).toMatchObject({ status: 'ended', outcome: 'resolved_remotely' });
    expect(ended.participants.every((p) => p.leftAt !== null)).toBe(true);
    expect(await code(h.sessions.end(h.principal('eng-3'), session.id, 'crew_unreachable'))).toBe(
      'SESSION_INVALID_STATE',
    );
    expect(await code(h.sessions.chat(h.principal('cust-a'), session.id, 'thanks'))).toBe('SESSION_INVALID_STATE');

    const timeline = await h.sessions.timeline(session.id);
    expect(timeline.map((e) => e.seq)).toEqual(timeline.map((_, i) => i + 1));
    expect(timeline.map((e) => e.kind)).toEqual([
      'status', // requested
      'joined', // crew
      'status', // ringing
      'ring',
      'ring',
      'ring',
      'status', // live
      'joined', // lead
      'chat',
      'chat',
      'status', // ended
    ]);
    expect(timeline.filter((e) => e.kind === 'ring').map((e) => e.text)).toEqual([
      'ringing the engineer on duty: Engineer 1',
      'no answer: ringing the secondary engineer on duty: Engineer 2',
      'ringing the duty lead: Duty Lead Wang',
    ]);
    expect(timeline[6]!.data).toMatchObject({ timeToAnswerMs: 2 * RING_MS + 30_000 });
    // every append was announced, in order
    expect(h.events['remote.timeline']?.map((e) => e.entry.seq)).toEqual(timeline.map((e) => e.seq));
    // the ticket heard of the end
    const ticketTimeline = await h.tickets.timeline(session.ticketId);
    expect(ticketTimeline.at(-1)?.note).toContain(`remote session ${session.id} ended: resolved remotely`);
    // no more rings after the end
    await advanceTimers(10 * RING_MS);
    expect(h.events['remote.ringing']).toHaveLength(3);
  });

  it('a request outside every shift rings the duty lead', async () => {
    vi.setSystemTime(FRI_22);
    const { session } = await h.sessions.request(h.principal('cust-a'), { vehicleId: 'VA1', description: 'no power' });
    expect(h.events['remote.ringing']?.map((e) => [e.session.id, e.step, e.accounts])).toEqual([
      [session.id, 'duty_lead', ['lead-1']],
    ]);
  });

  it('one open session per ticket: the crew asking again gets the same session; staff starting another are refused', async () => {
    const first = await h.sessions.request(h.principal('cust-a'), { vehicleId: 'VA1', description: 'no power' });
    const again = await h.sessions.request(h.principal('cust-a'), { vehicleId: 'VA1', description: 'still no power' });
    expect(again).toMatchObject({ existing: true, session: { id: first.session.id } });
    expect(await code(h.sessions.request(h.principal('eng-1'), { ticketId: first.session.ticketId }))).toBe(
      'SESSION_ALREADY_OPEN',
    );
    // a customer of another unit cannot ask for A's vehicle
    expect(await code(h.sessions.request(h.principal('cust-b'), { vehicleId: 'VA1', description: 'x' }))).toBe(
      'VEHICLE_NOT_FOUND',
    );
  });

  it('staff start a session from a ticket: they lead it, live at once, nobody rung', async () => {
    const t = await h.tickets.open(
      { source: 'hotline', vehicleId: 'VA1', customerId: 'CA', level: 'urgent', title: 'call', need: 'no power' },
      'dispatcher',
    );
    const { session } = await h.sessions.request(h.principal('eng-1'), { ticketId: t.id, description: 'hotline' });
    expect(session).toMatchObject({ status: 'live', answeredBy: 'eng-1', ticketId: t.id });
    expect(h.events['remote.ringing'] ?? []).toEqual([]);
  });

  it('access: staff lead/observer, the unit’s crew, nobody else', async () => {
    // what the live layer is given: the records as SessionAccess
    const access: SessionAccess = h.sessions;
    const { session } = await h.sessions.request(h.principal('cust-a'), { vehicleId: 'VA1', description: 'x' });
    await h.sessions.answer(h.principal('eng-1'), session.id);
    expect((await access.access(h.principal('eng-1'), session.id))?.role).toBe('lead');
    expect((await h.sessions.access(h.principal('eng-2'), session.id))?.role).toBe('observer');
    expect((await h.sessions.access(h.principal('cust-a'), session.id))?.role).toBe('crew');
    expect(await h.sessions.access(h.principal('cust-b'), session.id)).toBeNull();
    expect(
      await h.sessions.access({ id: 'guest:1', role: 'guest', customerId: null, sessionId: session.id }, session.id),
    ).toBeNull();
    expect(await h.sessions.access(h.principal('eng-1'), 999)).toBeNull();
  });

  it('a session nobody is present in for 10 minutes ends abandoned; presence holds it open', async () => {
    const { session } = await h.sessions.request(h.principal('cust-a'), { vehicleId: 'VA1', description: 'x' });
    h.sessions.present(session.id, 'cust-a', true);
    await h.sessions.idle();
    await advanceTimers(ABANDON_MS * 2);
    expect((await h.sessions.get(session.id)).status).toBe('ringing');
    // the engineer answers, then both lose the network
    await h.sessions.answer(h.principal('eng-1'), session.id);
    h.sessions.present(session.id, 'eng-1', true);
    h.sessions.present(session.id, 'cust-a', false);
    await h.sessions.idle();
    await advanceTimers(ABANDON_MS);
    expect((await h.sessions.get(session.id)).status).toBe('live');
    h.sessions.present(session.id, 'eng-1', false);
    await h.sessions.idle();
    await advanceTimers(ABANDON_MS - 1);
    expect((await h.sessions.get(session.id)).status).toBe('live');
    await advanceTimers(1);
    expect(await h.sessions.get(session.id)).toMatchObject({ status: 'ended', outcome: 'abandoned' });
  });

  it('a reload rejoins: a participant who left and comes back is in again with the timeline intact', async () => {
    const { session } = await h.sessions.request(h.principal('cust-a'), { vehicleId: 'VA1', description: 'x' });
    await h.sessions.answer(h.principal('eng-1'), session.id);
    await h.sessions.chat(h.principal('eng-1'), session.id, 'first');
    await h.sessions.leave(h.principal('eng-1'), session.id);
    h.sessions.present(session.id, 'eng-1', true);
    await h.sessions.idle();
    const s = await h.sessions.get(session.id);
    expect(s.participants.find((p) => p.id === 'eng-1')).toMatchObject({ role: 'lead', leftAt: null });
    expect((await h.sessions.timeline(session.id)).filter((e) => e.kind === 'chat').map((e) => e.text)).toEqual([
      'first',
    ]);
  });

  it('escalated to on-site: the ticket moves to work content determined with on-site repair as its mode', async () => {
    const { session } = await h.sessions.request(h.principal('cust-a'), { vehicleId: 'VA1', description: 'x' });
    await h.sessions.answer(h.principal('eng-1'), session.id);
    await h.sessions.end(h.principal('eng-1'), session.id, 'escalated_on_site', 'contactor burnt');
    const t = await h.tickets.get(session.ticketId);
    expect(t).toMatchObject({ status: 'work_content_determined', serviceMode: 'on_site_repair' });
    const actions = (await h.tickets.timeline(t.id)).map((e) => e.action);
    expect(actions).toEqual(['received', 'comment', 'service_mode_set', 'determine_work_content']);
  });

  it('commands, acks and guided steps of the session land on its timeline', async () => {
    const { session } = await h.sessions.request(h.principal('cust-a'), { vehicleId: 'VA1', description: 'x' });
    await h.sessions.answer(h.principal('eng-1'), session.id);
    const command = {
      id: 'c1',
      vehicleId: 'VA1',
      name: 'generator.start',
      args: {},
      actor: 'eng-1',
      sessionId: session.id,
      sentAt: Date.now(),
      state: 'sent' as const,
      settledAt: null,
      result: null,
      error: null,
    };
    const appended = new Promise<void>((resolve) => {
      let n = 0;
      h.bus.on('remote.timeline', () => void (++n === 3 && resolve()));
    });
    h.bus.emit('command.sent', { command });
    h.bus.emit('command.settled', { command: { ...command, state: 'done', settledAt: Date.now() } });
    h.bus.emit('remote.step', {
      result: {
        sessionId: session.id,
        index: 0,
        status: 'passed',
        actor: 'cust-a',
        at: Date.now(),
        observation: 'engine runs',
        evidence: null,
      },
    });
    // a command of no session is not the records' business
    h.bus.emit('command.sent', { command: { ...command, id: 'c2', sessionId: null } });
    await appended;
    const tail = (await h.sessions.timeline(session.id)).slice(-3);
    expect(tail.map((e) => [e.kind, e.text])).toEqual([
      ['command', 'generator.start {}'],
      ['ack', 'generator.start: done'],
      ['step', 'step 1: passed — engine runs'],
    ]);
    expect(tail[0]).toMatchObject({ actor: 'eng-1', actorName: 'Engineer 1', data: { id: 'c1' } });
  });

  it('the record has both sides, the timeline and every frame from 5 minutes before the request to the end', async () => {
    const t0 = Date.now();
    const frames = [-400_000, -299_000, -60_000, 0, 100, 200, 65_000, 200_000].map((d, i) =>
      healthyFrame(i + 1, t0 + d),
    );
    await h.telemetry.append(frames.map((frame) => ({ vehicleId: 'VA1', receivedAt: frame.ts, frame })));
    const { session } = await h.sessions.request(h.principal('cust-a'), { vehicleId: 'VA1', description: 'x' });
    await advanceTimers(60_000);
    await h.sessions.answer(h.principal('eng-1'), session.id);
    await advanceTimers(60_000);
    await h.sessions.end(h.principal('eng-1'), session.id, 'resolved_remotely');
    const record = await h.sessions.record(session.id);
    expect(record.telemetry.frames.map((f) => f.frame.ts - t0)).toEqual([-299_000, -60_000, 0, 100, 200, 65_000]);
    expect(record.telemetry).toMatchObject({ from: t0 - 300_000, to: t0 + 120_000, truncated: false });
    expect(record.participants.staff.map((p) => p.id)).toEqual(['eng-1']);
    expect(record.participants.crew.map((p) => p.id)).toEqual(['cust-a']);
    expect(record.timeToAnswerMs).toBe(60_000);
    expect(record.timeline.at(-1)).toMatchObject({ kind: 'status', data: { to: 'ended' } });
  });
});

describe('remote sessions across a restart', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'pw-sessions-'));
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'], now: FRI_10 });
  });
  afterEach(() => {
    vi.useRealTimers();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the open session and re-arms its ring from the database', async () => {
    const file = join(dir, 'records.db');
    const first = await startSessions({ file });
    await first.sessions.roster.add(DAY_SHIFT);
    await first.sessions.start();
    const { session } = await first.sessions.request(first.principal('cust-a'), {
      vehicleId: 'VA1',
      description: 'x',
    });
    await advanceTimers(60_000);
    await first.close();

    const second = await startSessions({ file, seed: false });
    try {
      await second.sessions.start();
      expect(await second.sessions.get(session.id)).toMatchObject({ status: 'ringing' });
      await advanceTimers(RING_MS - 60_000 - 1);
      expect(second.events['remote.ringing'] ?? []).toEqual([]);
      await advanceTimers(1);
      expect(second.events['remote.ringing']?.map((e) => [e.session.id, e.step])).toEqual([[session.id, 'secondary']]);
      // nobody came back after the restart: abandoned 10 min after it
      await advanceTimers(ABANDON_MS);
      expect(await second.sessions.get(session.id)).toMatchObject({ status: 'ended', outcome: 'abandoned' });
    } finally {
      await second.close();
    }
  });
});
