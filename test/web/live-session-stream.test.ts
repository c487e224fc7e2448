import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { vehicleTopic } from '../../protocol/index.ts';
import type { RemoteSession, SessionPrincipal, SessionTimelineEntry, StepResult } from '../../remote/types.ts';
import { createAccounts } from '../../web/auth/accounts.ts';
import type { LiveAck, LiveSessionFrames, SessionJoined } from '../../web/live/events.ts';
import { askVehicle, openConsole, type LiveClient } from '../helpers/live-client.ts';
import { frame, startTestPlatform, withTimeout, type TestPlatform } from '../helpers/platform.ts';
import { PASSWORD, TEST_COST } from './helpers.ts';

const engineer: SessionPrincipal = { id: 'engineer', role: 'engineer', customerId: null };
const crewOf = (customerId: 'CA' | 'CB'): SessionPrincipal => ({
  id: customerId === 'CA' ? 'cust-a' : 'cust-b',
  role: 'customer',
  customerId,
});

/**
 * The remote session stream inside the whole platform over the real session records: real
 * socket.io clients, frames over MQTT, sessions requested by a crew and answered by the engineer.
 */
describe('remote session stream (session.join)', () => {
  let tp: TestPlatform;
  let base: string;
  let gw: MqttClient;
  const opened: LiveClient[] = [];
  /** Unit A's live session on VA1 (its ticket's plan: GEN-START-FAIL) and unit B's on VB1. */
  let s7: RemoteSession;
  let s8: RemoteSession;
  /** What the stream told the session records about presence (`present`, called through). */
  const presence: { sessionId: number; participantId: string; present: boolean }[] = [];
  const waiters = new Set<() => void>();
  /** Resolves once `holds()` is true, checked now and at every presence report. */
  const until = (holds: () => boolean): Promise<void> =>
    holds()
      ? Promise.resolve()
      : new Promise((resolve) => {
          const w = () => {
            if (!holds()) return;
            waiters.delete(w);
            resolve();
          };
          waiters.add(w);
        });
  let seq = 1;

  /** A crew's request answered by the engineer: a live session. */
  async function liveSession(customerId: 'CA' | 'CB', vehicleId: string): Promise<RemoteSession> {
    const { session } = await tp.platform.remote.request(crewOf(customerId), { vehicleId, description: 'no start' });
    const live = await tp.platform.remote.answer(engineer, session.id);
    expect(live.status).toBe('live');
    return live;
  }
  /** Whether the records count nobody present in the session (its abandon clock runs). */
  const absent = async (sessionId: number) => {
    await tp.platform.remote.idle();
    const row = await tp.platform.records
      .selectFrom('remote_sessions')
      .select('absent_since')
      .where('id', '=', sessionId)
      .executeTakeFirstOrThrow();
    return row.absent_since !== null;
  };

  beforeAll(async () => {
    tp = await startTestPlatform({ LIVE_MAX_RATE_HZ: '1' });
    const records = tp.platform.remote;
    const present = records.present;
    vi.spyOn(records, 'present').mockImplementation((sessionId, participantId, here) => {
      presence.push({ sessionId, participantId, present: here });
      present(sessionId, participantId, here);
      for (const w of [...waiters]) w();
    });
    base = `http://127.0.0.1:${tp.platform.ports.http}`;
    const p = tp.platform;
    await p.customers.add({ id: 'CA', name: 'Unit A' });
    await p.customers.add({ id: 'CB', name: 'Unit B' });
    const { secret } = await tp.addVehicle('VA1', 'CA');
    await tp.addVehicle('VB1', 'CB');
    gw = await tp.connect('VA1', secret);
    const accounts = createAccounts({ db: p.records }, { passwordCost: TEST_COST });
    for (const [id, role, customerId] of [
      ['engineer', 'engineer', null],
      ['cust-a', 'customer', 'CA'],
      ['cust-b', 'customer', 'CB'],
    ] as const)
      await accounts.add({ id, name: id, role, customerId, password: PASSWORD });
    // unit A's fault ticket (its plan gives the session steps); the crew's request joins it
    await p.tickets.open(
      {
        source: 'hotline',
        vehicleId: 'VA1',
        customerId: 'CA',
        level: 'urgent',
        title: 'VA1: generator failed to start',
        need: 'the generator does not start',
        faultCode: 'GEN-START-FAIL',
      },
      'desk',
    );
    s7 = await liveSession('CA', 'VA1');
    s8 = await liveSession('CB', 'VB1');
  });
  afterAll(async () => {
    for (const s of opened) s.disconnect();
    vi.restoreAllMocks();
    await tp.close();
  });

  const open = (username: string) => openConsole(base, username, PASSWORD, { opened });
  const join = (s: LiveClient, req: unknown) =>
    withTimeout(
      s.timeout(5000).emitWithAck('session.join', req as { sessionId: number }) as Promise<LiveAck<SessionJoined>>,
      6000,
      'session.join',
    );
  const leave = (s: LiveClient, sessionId: number) =>
    withTimeout(
      s.timeout(5000).emitWithAck('session.leave', { sessionId }) as Promise<LiveAck<{ sessionId: number }>>,
      6000,
      'session.leave',
    );

  /** Publishes frames one message each (QoS 1), waiting for every PUBACK; returns their seqs. */
  async function publish(n: number): Promise<number[]> {
    const seqs = Array.from({ length: n }, () => seq++);
    for (const s of seqs)
      await gw.publishAsync(vehicleTopic('VA1', 'telemetry'), JSON.stringify(frame(s, Date.now())), { qos: 1 });
    return seqs;
  }

  it('refuses whoever is not a participant exactly like a missing session, and malformed requests', async () => {
    const { s } = await open('cust-b');
    expect(await join(s, { sessionId: s7.id })).toEqual({
      ok: false,
      error: { code: 'SESSION_NOT_FOUND', message: `remote session ${s7.id} not found` },
    });
    expect(await join(s, { sessionId: 999 })).toEqual({
      ok: false,
      error: { code: 'SESSION_NOT_FOUND', message: 'remote session 999 not found' },
    });
    const bad = await join(s, { sessionId: String(s7.id) });
    expect(bad).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED' } });
    expect(await join(s, { sessionId: s7.id, extra: 1 })).toMatchObject({
      ok: false,
      error: { code: 'VALIDATION_FAILED' },
    });
    // its own unit's session it may join
    expect(await join(s, { sessionId: s8.id })).toMatchObject({ ok: true, role: 'crew', session: { id: s8.id } });
    s.disconnect();
  });

  it('participants get every stored frame of the session vehicle (no throttle), ordinary subscribers at most LIVE_MAX_RATE_HZ', async () => {
    const eng = await open('engineer');
    const joined = await join(eng.s, { sessionId: s7.id });
    expect(joined).toMatchObject({
      ok: true,
      sessionId: s7.id,
      role: 'lead',
      session: { id: s7.id, vehicleId: 'VA1' },
    });
    const stored = await tp.platform.remote.timeline(s7.id);
    expect(stored.length).toBeGreaterThan(0);
    expect((joined as SessionJoined).timeline.map((e) => e.seq)).toEqual(stored.map((e) => e.seq));
    expect(presence).toContainEqual({ sessionId: s7.id, participantId: 'engineer', present: true });

    const watcher = await open('cust-a'); // an ordinary console of the unit, throttled to 1 Hz
    expect(await askVehicle(watcher.s, 'subscribe', 'VA1')).toEqual({ ok: true, vehicleId: 'VA1' });

    const seqs = await publish(30);
    const last = seqs.at(-1)!;
    await eng.rec.next<LiveSessionFrames>('remote.frames', (m) => m.frames.some((f) => f.seq === last));
    const got = eng.rec.got
      .filter((g) => g.event === 'remote.frames')
      .flatMap((g) => (g.payload as LiveSessionFrames).frames.map((f) => f.seq));
    expect(got).toEqual(seqs);
    const throttled = watcher.rec.got.filter((g) => g.event === 'frame').length;
    expect(throttled).toBeLessThan(seqs.length / 2);
    expect(tp.platform.counters.get('live.session_frames_sent')).toBeGreaterThanOrEqual(30);
    eng.s.disconnect();
    watcher.s.disconnect();
  });

  it('timeline entries, session changes and steps reach the room; the crew copy never names staff by login id', async () => {
    const eng = await open('engineer');
    const crew = await open('cust-a');
    await join(eng.s, { sessionId: s7.id });
    const crewJoin = (await join(crew.s, { sessionId: s7.id })) as SessionJoined;
    expect(crewJoin.role).toBe('crew');
    const before = await tp.platform.remote.timeline(s7.id);
    const actors = crewJoin.timeline.map((e) => e.actor);
    expect(actors).toEqual(before.map((e) => (e.actor === 'engineer' ? 'Engineer' : e.actor)));
    expect(actors).toContain('cust-a');
    expect(actors).toContain('Engineer');
    expect(actors).not.toContain('engineer');

    // unit B's crew writes in its own session first: none of it may reach unit A's room
    await tp.platform.remote.chat(crewOf('CB'), s8.id, 'other unit');
    const said = await tp.platform.remote.chat(engineer, s7.id, 'start the generator now');
    const staffEntry = await eng.rec.next<{ sessionId: number; entry: SessionTimelineEntry }>(
      'remote.timeline',
      (m) => m.entry.seq === said.seq,
    );
    expect(staffEntry).toMatchObject({ sessionId: s7.id, entry: { actor: 'engineer' } });
    const crewEntry = await crew.rec.next<{ entry: SessionTimelineEntry }>(
      'remote.timeline',
      (m) => m.entry.seq === said.seq,
    );
    expect(crewEntry.entry).toMatchObject({ seq: said.seq, actor: 'Engineer', text: 'start the generator now' });

    // the engineer skips the plan's current step: the step result reaches both rooms
    const current = (await tp.platform.sessionParts.steps.list(s7.id)).current;
    if (current === null) throw new Error('the plan has no current step');
    await tp.platform.sessionParts.steps.skip(s7.id, current, 'engineer', 'checked on the phone');
    const skipped = (m: { sessionId: number; result: StepResult }) =>
      m.result.index === current && m.result.status === 'skipped';
    expect(await eng.rec.next('remote.step', skipped)).toMatchObject({
      sessionId: s7.id,
      result: { status: 'skipped', index: current, actor: 'engineer' },
    });
    expect(await crew.rec.next('remote.step', skipped)).toMatchObject({
      sessionId: s7.id,
      result: { status: 'skipped', index: current, actor: 'Engineer' },
    });

    // a reload: a new connection joins with the last seq it has and gets only what came after
    const again = await open('engineer');
    await tp.platform.remote.idle();
    const since = said.seq - 1;
    const rejoined = (await join(again.s, { sessionId: s7.id, sinceSeq: since })) as SessionJoined;
    expect(rejoined.timeline[0]).toMatchObject({ seq: said.seq, text: 'start the generator now' });
    expect(rejoined.timeline.map((e) => e.seq)).toEqual(
      (await tp.platform.remote.timeline(s7.id, since)).map((e) => e.seq),
    );
    expect(rejoined.timeline.length).toBeLessThan((await tp.platform.remote.timeline(s7.id)).length);

    // the engineer ends it: the crew hears
    await tp.platform.remote.end(engineer, s7.id, 'resolved_remotely');
    expect(
      await crew.rec.next<{ sessionId: number; action: string }>('remote.changed', (m) => m.action === 'ended'),
    ).toMatchObject({ sessionId: s7.id, action: 'ended', session: { status: 'ended' } });
    const crewTimeline = crew.rec.got.filter((g) => g.event === 'remote.timeline');
    expect(crewTimeline.length).toBeGreaterThan(0);
    for (const g of crewTimeline) {
      const m = g.payload as { sessionId: number; entry: SessionTimelineEntry };
      expect(m.sessionId).toBe(s7.id); // not session 8's
      expect(m.entry.text).not.toBe('other unit');
      expect(m.entry.actor).not.toBe('engineer');
    }
    for (const c of [eng, crew, again]) c.s.disconnect();
  });

  it('presence: reported on the first join and the last leave or disconnect of a participant', async () => {
    // the earlier tests' connections have all gone (their disconnects reach the server on their own)
    const away = () => {
      const last = new Map<string, boolean>();
      for (const e of presence) last.set(`${e.sessionId} ${e.participantId}`, e.present);
      return [...last.values()].every((p) => !p);
    };
    await withTimeout(until(away), 3000, 'earlier participants to leave');
    // session 7 has ended: unit A's crew asks again, the engineer answers
    const session = await liveSession('CA', 'VA1');
    const id = session.id;
    expect(await absent(id)).toBe(true); // nobody's socket is in it yet
    const before = presence.length;
    const tab1 = await open('cust-a');
    const tab2 = await open('cust-a');
    await join(tab1.s, { sessionId: id });
    await join(tab2.s, { sessionId: id });
    expect(presence.slice(before)).toEqual([{ sessionId: id, participantId: 'cust-a', present: true }]);
    expect(await absent(id)).toBe(false);
    expect(await leave(tab1.s, id)).toEqual({ ok: true, sessionId: id });
    expect(presence.slice(before)).toHaveLength(1);
    expect(await absent(id)).toBe(false); // the crew is still there in the other tab
    tab2.s.disconnect();
    await withTimeout(
      until(() => presence.length > before + 1),
      3000,
      'presence false',
    );
    expect(presence.slice(before)).toEqual([
      { sessionId: id, participantId: 'cust-a', present: true },
      { sessionId: id, participantId: 'cust-a', present: false },
    ]);
    expect(await absent(id)).toBe(true); // its abandon clock runs again
    // after leaving, no more frames
    const gone = tab1.rec.got.filter((g) => g.event === 'remote.frames').length;
    await publish(2);
    const probe = await open('engineer');
    await join(probe.s, { sessionId: id });
    const [lastSeq] = await publish(1);
    await probe.rec.next<LiveSessionFrames>('remote.frames', (m) => m.frames.some((f) => f.seq === lastSeq));
    expect(tab1.rec.got.filter((g) => g.event === 'remote.frames').length).toBe(gone);
    tab1.s.disconnect();
    probe.s.disconnect();
  });
});
