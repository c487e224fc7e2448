import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vehicleTopic } from '../../protocol/index.ts';
import type { SessionTimelineEntry } from '../../remote/types.ts';
import { createAccounts } from '../../web/auth/accounts.ts';
import type { LiveAck, LiveSessionFrames, SessionJoined } from '../../web/live/events.ts';
import { askVehicle, openConsole, type LiveClient } from '../helpers/live-client.ts';
import { frame, startTestPlatform, withTimeout, type TestPlatform } from '../helpers/platform.ts';
import { fakeSessionAccess, remoteSession } from '../remote/fakes.ts';
import { PASSWORD, TEST_COST } from './helpers.ts';

const entry = (seq: number, actor: string, text: string): SessionTimelineEntry => ({
  seq,
  at: 1_800_000_000_000 + seq,
  actor,
  actorName: actor,
  kind: 'chat',
  text,
  data: null,
});

/** The remote session stream inside the whole platform: real socket.io clients, frames over MQTT. */
describe('remote session stream (session.join)', () => {
  let tp: TestPlatform;
  let base: string;
  let gw: MqttClient;
  const opened: LiveClient[] = [];
  const sessions = fakeSessionAccess([remoteSession(7, 'VA1', 'CA', 'live'), remoteSession(8, 'VB1', 'CB', 'live')]);
  const timeline: SessionTimelineEntry[] = [entry(1, 'cust-a', 'it does not start'), entry(2, 'engineer', 'on it')];
  let seq = 1;

  beforeAll(async () => {
    tp = await startTestPlatform(
      { LIVE_MAX_RATE_HZ: '1' },
      {
        remote: {
          access: sessions.access,
          timeline: { since: async (id, after) => (id === 7 ? timeline.filter((e) => e.seq > after) : []) },
        },
      },
    );
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
  });
  afterAll(async () => {
    for (const s of opened) s.disconnect();
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
    expect(await join(s, { sessionId: 7 })).toEqual({
      ok: false,
      error: { code: 'SESSION_NOT_FOUND', message: 'remote session 7 not found' },
    });
    expect(await join(s, { sessionId: 999 })).toEqual({
      ok: false,
      error: { code: 'SESSION_NOT_FOUND', message: 'remote session 999 not found' },
    });
    const bad = await join(s, { sessionId: '7' });
    expect(bad).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED' } });
    expect(await join(s, { sessionId: 7, extra: 1 })).toMatchObject({
      ok: false,
      error: { code: 'VALIDATION_FAILED' },
    });
    s.disconnect();
  });

  it('participants get every stored frame of the session vehicle (no throttle), ordinary subscribers at most LIVE_MAX_RATE_HZ', async () => {
    const eng = await open('engineer');
    const joined = await join(eng.s, { sessionId: 7 });
    expect(joined).toMatchObject({ ok: true, sessionId: 7, role: 'lead', session: { id: 7, vehicleId: 'VA1' } });
    expect((joined as SessionJoined).timeline.map((e) => e.seq)).toEqual([1, 2]);
    expect(sessions.presence).toContainEqual({ sessionId: 7, participantId: 'engineer', present: true });

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
    await join(eng.s, { sessionId: 7 });
    const crewJoin = (await join(crew.s, { sessionId: 7 })) as SessionJoined;
    expect(crewJoin.role).toBe('crew');
    expect(crewJoin.timeline.map((e) => e.actor)).toEqual(['cust-a', 'Engineer']);

    const bus = tp.platform.bus;
    bus.emit('remote.timeline', { sessionId: 7, entry: entry(3, 'engineer', 'start the generator now') });
    bus.emit('remote.timeline', { sessionId: 8, entry: entry(1, 'cust-b', 'other unit') });
    bus.emit('remote.session.changed', { session: remoteSession(7, 'VA1', 'CA', 'ended'), action: 'ended' });
    bus.emit('remote.step', {
      result: {
        sessionId: 7,
        index: 4,
        status: 'passed',
        actor: 'system',
        at: 1,
        observation: null,
        evidence: { condition: 'generator.rpm > 1400', values: { 'generator.rpm': 1500 }, frameTs: 1 },
      },
    });
    const staffEntry = await eng.rec.next<{ entry: SessionTimelineEntry }>('remote.timeline');
    expect(staffEntry.entry.actor).toBe('engineer');
    const crewEntry = await crew.rec.next<{ entry: SessionTimelineEntry }>('remote.timeline');
    expect(crewEntry.entry).toMatchObject({ seq: 3, actor: 'Engineer', text: 'start the generator now' });
    expect(await crew.rec.next('remote.changed')).toMatchObject({ sessionId: 7, action: 'ended' });
    expect(await eng.rec.next('remote.step')).toMatchObject({ sessionId: 7, result: { status: 'passed', index: 4 } });
    await crew.rec.next('remote.step');
    expect(crew.rec.got.filter((g) => g.event === 'remote.timeline')).toHaveLength(1); // not session 8's

    // a reload: a new connection joins with the last seq it has and gets only what came after
    const again = await open('engineer');
    timeline.push(entry(3, 'engineer', 'start the generator now'));
    const rejoined = (await join(again.s, { sessionId: 7, sinceSeq: 2 })) as SessionJoined;
    expect(rejoined.timeline.map((e) => e.seq)).toEqual([3]);
    for (const c of [eng, crew, again]) c.s.disconnect();
  });

  it('presence: reported on the first join and the last leave or disconnect of a participant', async () => {
    // the earlier tests' connections have all gone (their disconnects reach the server on their own)
    const away = () => {
      const last = new Map<string, boolean>();
      for (const e of sessions.presence) last.set(e.participantId, e.present);
      return [...last.values()].every((p) => !p);
    };
    await withTimeout(sessions.until(away), 3000, 'earlier participants to leave');
    const before = sessions.presence.length;
    const tab1 = await open('cust-a');
    const tab2 = await open('cust-a');
    await join(tab1.s, { sessionId: 7 });
    await join(tab2.s, { sessionId: 7 });
    expect(sessions.presence.slice(before)).toEqual([{ sessionId: 7, participantId: 'cust-a', present: true }]);
    expect(await leave(tab1.s, 7)).toEqual({ ok: true, sessionId: 7 });
    expect(sessions.presence.slice(before)).toHaveLength(1);
    tab2.s.disconnect();
    await withTimeout(
      sessions.until(() => sessions.presence.length > before + 1),
      3000,
      'presence false',
    );
    expect(sessions.presence.slice(before)).toEqual([
      { sessionId: 7, participantId: 'cust-a', present: true },
      { sessionId: 7, participantId: 'cust-a', present: false },
    ]);
    // after leaving, no more frames
    const gone = tab1.rec.got.filter((g) => g.event === 'remote.frames').length;
    await publish(2);
    const probe = await open('engineer');
    await join(probe.s, { sessionId: 7 });
    const [lastSeq] = await publish(1);
    await probe.rec.next<LiveSessionFrames>('remote.frames', (m) => m.frames.some((f) => f.seq === lastSeq));
    expect(tab1.rec.got.filter((g) => g.event === 'remote.frames').length).toBe(gone);
    tab1.s.disconnect();
    probe.s.disconnect();
  });
});
