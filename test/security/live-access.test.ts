import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Ticket } from '../../diagnostics/types.ts';
import { vehicleTopic } from '../../protocol/index.ts';
import { createAccounts, type Accounts } from '../../web/auth/accounts.ts';
import type { FleetUpdate, LiveAck, LiveAlarm, LiveFrame, LiveTicket } from '../../web/live/events.ts';
import { frame, startTestPlatform, withTimeout, type TestPlatform } from '../helpers/platform.ts';
import { PASSWORD, RULES, TEST_COST } from '../web/helpers.ts';
import {
  apiAs,
  connected,
  connectRefused,
  httpLogin,
  openConsole,
  openLive,
  type LiveClient,
  type LiveRecorder,
  type Login,
} from '../helpers/live-client.ts';
import { fleetEntries } from '../../web/live/fleet-wire.ts';

/**
 * The socket.io live layer as an attacker would try it (ASVS V3, V4, V5 for a WebSocket API):
 * who may connect at all, every client event and room with another unit's ids, sessions that end
 * while a socket is open, and invalid traffic — which is refused or ignored, counted, and never
 * takes the layer down.
 */
describe('live layer: access, tenancy, session end, invalid input', () => {
  let tp: TestPlatform;
  let base: string;
  let accounts: Accounts;
  const gateways = new Map<string, MqttClient>();
  const open: LiveClient[] = [];
  let seq = 1;

  beforeAll(async () => {
    // the flood of invalid requests below tests invalid input, not the event rate (test/security/rate-limits.test.ts)
    tp = await startTestPlatform({ LIVE_MAX_RATE_HZ: '20', LIVE_FLEET_INTERVAL_MS: '100', LIVE_EVENT_BURST: '5000' });
    base = `http://127.0.0.1:${tp.platform.ports.http}`;
    await tp.platform.customers.add({ id: 'CA', name: 'Unit A' });
    await tp.platform.customers.add({ id: 'CB', name: 'Unit B' });
    for (const [id, cid] of [
      ['VA1', 'CA'],
      ['VB1', 'CB'],
    ] as const) {
      const { secret } = await tp.addVehicle(id, cid);
      gateways.set(id, await tp.connect(id, secret));
    }
    accounts = createAccounts({ db: tp.platform.records }, { passwordCost: TEST_COST });
    for (const [id, role, customerId] of [
      ['boss', 'admin', null],
      ['eng', 'engineer', null],
      ['cust-a', 'customer', 'CA'],
      ['cust-b', 'customer', 'CB'],
      ['victim-logout', 'customer', 'CA'],
      ['victim-disable', 'customer', 'CA'],
      ['victim-reset', 'customer', 'CA'],
      ['victim-remove', 'customer', 'CA'],
      ['victim-role', 'customer', 'CA'],
      ['victim-rebind', 'customer', 'CA'],
      ['victim-own', 'engineer', null],
    ] as const) {
      await accounts.add({ id, name: id, role, customerId, password: PASSWORD });
    }
    // remote sessions (the real records): session 1 is unit A's, 2 unit B's, both live, led by eng
    for (const [n, vehicleId, customerId] of [
      [1, 'VA1', 'CA'],
      [2, 'VB1', 'CB'],
    ] as const) {
      const crew = { id: `cust-${customerId.slice(1).toLowerCase()}`, role: 'customer' as const, customerId };
      const { session } = await tp.platform.remote.request(crew, { vehicleId, description: 'no power' });
      expect(session.id).toBe(n);
      await tp.platform.remote.answer({ id: 'eng', role: 'engineer', customerId: null }, n);
    }
    await accounts.add({
      id: 'one-time',
      name: 'one-time',
      role: 'engineer',
      password: PASSWORD,
      mustChangePassword: true,
    });
  });
  afterAll(async () => {
    for (const s of open) s.disconnect();
    await tp?.close();
  });

  const live = (headers: Record<string, string>, options: Parameters<typeof openLive>[2] = {}) => {
    const s = openLive(base, headers, options);
    open.push(s);
    return s;
  };
  async function session(
    username: string,
    transport: 'websocket' | 'polling' = 'websocket',
  ): Promise<Login & { s: LiveClient; rec: LiveRecorder }> {
    const { login, s, rec } = await openConsole(base, username, PASSWORD, { transport, opened: open });
    return { ...login, s, rec };
  }
  const ask = (s: LiveClient, event: string, ...args: unknown[]) =>
    withTimeout(
      (
        s.timeout(5000) as unknown as {
          emitWithAck(e: string, ...a: unknown[]): Promise<LiveAck<{ vehicleId: string }>>;
        }
      ).emitWithAck(event, ...args),
      6000,
      `the ack of ${event}`,
    );
  const invalid = (reason: string) => tp.platform.counters.get('live.invalid', reason);
  const serverSockets = (account: string) =>
    [...tp.platform.web.live!.io.sockets.sockets.values()].filter((x) => x.data.account?.id === account);

  async function publish(vehicleId: string): Promise<number> {
    const s = seq++;
    await gateways
      .get(vehicleId)!
      .publishAsync(
        vehicleTopic(vehicleId, 'telemetry'),
        JSON.stringify(frame(s, Date.now(), { loadKw: 100 + (s % 50) })),
        { qos: 1 },
      );
    return s;
  }

  describe('who may connect', () => {
    it('no session, a forged or ended one, a token anywhere but the cookie, a one-time password: connect_error with a code', async () => {
      const ended = await httpLogin(base, 'eng', PASSWORD);
      await fetch(`${base}/api/auth/logout`, {
        method: 'POST',
        headers: { cookie: ended.cookie, 'x-csrf-token': ended.csrf },
      });
      const good = await httpLogin(base, 'eng', PASSWORD);
      const oneTime = await httpLogin(base, 'one-time', PASSWORD);
      const refusedBefore = tp.platform.counters.get('live.refused', 'unauthenticated');
      const cases: [string, () => LiveClient, string][] = [
        ['no cookie', () => live({}), 'UNAUTHENTICATED'],
        ['no cookie, polling', () => live({}, { transport: 'polling' }), 'UNAUTHENTICATED'],
        ['a forged token', () => live({ cookie: `__Host-pw_session=${'A'.repeat(43)}` }), 'UNAUTHENTICATED'],
        ['a logged-out session', () => live({ cookie: ended.cookie }), 'UNAUTHENTICATED'],
        ['the token under another cookie name', () => live({ cookie: `pw_session=${good.token}` }), 'UNAUTHENTICATED'],
        [
          'the token in the handshake auth',
          () => live({}, { auth: { token: good.token, cookie: good.cookie } }),
          'UNAUTHENTICATED',
        ],
        [
          'the token in the query',
          () => live({}, { query: { token: good.token, '__Host-pw_session': good.token } }),
          'UNAUTHENTICATED',
        ],
        ['the CSRF token as the cookie', () => live({ cookie: `__Host-pw_session=${good.csrf}` }), 'UNAUTHENTICATED'],
        ['a one-time password not yet changed', () => live({ cookie: oneTime.cookie }), 'PASSWORD_CHANGE_REQUIRED'],
      ];
      for (const [what, s, code] of cases) {
        const err = await connectRefused(s());
        expect(err.data?.code, what).toBe(code);
      }
      expect(tp.platform.counters.get('live.refused', 'unauthenticated')).toBeGreaterThanOrEqual(refusedBefore + 8);
    });

    it('a page of another site, with a valid session cookie: refused before the handshake, on both transports', async () => {
      const { cookie } = await httpLogin(base, 'eng', PASSWORD);
      const before = tp.platform.counters.get('live.refused', 'origin');
      const port = new URL(base).port;
      const cases: [string, Record<string, string>][] = [
        ['a foreign Origin', { cookie, origin: 'https://evil.example' }],
        ['Origin null', { cookie, origin: 'null' }],
        ['the own host on another port', { cookie, origin: `http://127.0.0.1:${Number(port) + 1}` }],
        ['a look-alike host', { cookie, origin: `http://127.0.0.1.evil.example:${port}` }],
        ['Sec-Fetch-Site: cross-site', { cookie, 'sec-fetch-site': 'cross-site' }],
        [
          'X-Forwarded-Host naming the foreign origin (no trusted proxy)',
          { cookie, origin: 'https://evil.example', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https' },
        ],
      ];
      for (const [what, headers] of cases) {
        for (const transport of ['websocket', 'polling'] as const) {
          const err = await connectRefused(live(headers, { transport }));
          expect(err, `${what} (${transport})`).toBeInstanceOf(Error);
        }
      }
      expect(tp.platform.counters.get('live.refused', 'origin')).toBe(before + cases.length * 2);
      // the console's own origin is fine
      const own = live({ cookie, origin: base });
      await connected(own);
      own.disconnect();
    });

    it('another namespace is refused even with a session', async () => {
      const { cookie } = await httpLogin(base, 'eng', PASSWORD);
      const err = await connectRefused(live({ cookie }, { namespace: '/admin' }));
      expect(err.message).toMatch(/namespace/i);
    });
  });

  describe('every client event and room with another unit’s ids', () => {
    it('the server takes exactly the events listed here (a new one must be added to this matrix)', async () => {
      const a = await session('cust-a');
      const server = serverSockets('cust-a')[0]!;
      const reserved = new Set(['disconnect', 'disconnecting', 'error']);
      expect(
        server
          .eventNames()
          .map(String)
          .filter((e) => !reserved.has(e))
          .sort(),
      ).toEqual(['session.join', 'session.leave', 'subscribe', 'unsubscribe']);
      a.s.disconnect();
    });

    it('subscribe: B’s vehicle, spelled any way, or named as a room, is refused exactly like a vehicle that does not exist', async () => {
      const a = await session('cust-a');
      const missing = await ask(a.s, 'subscribe', { vehicleId: 'NO-SUCH' });
      expect(missing).toEqual({
        ok: false,
        error: { code: 'VEHICLE_NOT_FOUND', message: 'vehicle NO-SUCH not found' },
      });
      const attempts: unknown[] = [
        { vehicleId: 'VB1' },
        { vehicleId: 'vb1' },
        { vehicleId: 'VB1 ' },
        { vehicleId: ' VB1' },
        { vehicleId: 'VB1\u0000' },
        { vehicleId: 'VB1', customerId: 'CA', role: 'admin' },
        { vehicleId: 'vehicle:VB1' },
        { vehicleId: 'customer:CB' },
        { vehicleId: 'tickets:CB' },
        { vehicleId: 'staff' },
        { vehicleId: 'tickets' },
        { vehicleId: 'CB' },
        { vehicleId: '*' },
        { vehicleId: '%' },
        { vehicleId: '../VB1' },
        { vehicleId: a.s.id },
      ];
      for (const req of attempts) {
        const res = await ask(a.s, 'subscribe', req);
        const id = (req as { vehicleId: string }).vehicleId;
        expect(res, JSON.stringify(req)).toEqual({
          ok: false,
          error: { code: 'VEHICLE_NOT_FOUND', message: `vehicle ${id} not found` },
        });
      }
      expect(await ask(a.s, 'subscribe', { vehicleId: 'VA1' })).toEqual({ ok: true, vehicleId: 'VA1' });
      const rooms = [...serverSockets('cust-a')[0]!.rooms].filter((r) => r !== serverSockets('cust-a')[0]!.id).sort();
      expect(rooms).toEqual(['account:cust-a', 'customer:CA', 'tickets:CA', 'vehicle:VA1']);
      a.s.disconnect();
    });

    it('session.join: B’s remote session, spelled any way, is refused exactly like a session that does not exist', async () => {
      const a = await session('cust-a');
      const b = await session('cust-b');
      expect(await ask(a.s, 'session.join', { sessionId: 999 })).toEqual({
        ok: false,
        error: { code: 'SESSION_NOT_FOUND', message: 'remote session 999 not found' },
      });
      for (const sessionId of [2, 2.0]) {
        expect(await ask(a.s, 'session.join', { sessionId })).toEqual({
          ok: false,
          error: { code: 'SESSION_NOT_FOUND', message: 'remote session 2 not found' },
        });
      }
      for (const req of [
        { sessionId: '2' },
        { sessionId: 2, customerId: 'CB' },
        { sessionId: 2.5 },
        { sessionId: -2 },
        { sessionId: 'session:2' },
      ])
        expect(await ask(a.s, 'session.join', req), JSON.stringify(req)).toMatchObject({
          ok: false,
          error: { code: 'VALIDATION_FAILED' },
        });
      expect(await ask(a.s, 'session.join', { sessionId: 1 })).toMatchObject({ ok: true, role: 'crew' });
      expect(await ask(b.s, 'session.join', { sessionId: 2 })).toMatchObject({ ok: true, role: 'crew' });
      // leaving B's session (never joined) changes nothing for B; A gets none of B's session frames
      expect(await ask(a.s, 'session.leave', { sessionId: 2 })).toEqual({ ok: true, sessionId: 2 });
      const n = await publish('VB1');
      await b.rec.next<{ frames: { seq: number }[] }>('remote.frames', (m) => m.frames.some((f) => f.seq === n));
      const mine = await publish('VA1');
      await a.rec.next<{ frames: { seq: number }[] }>('remote.frames', (m) => m.frames.some((f) => f.seq === mine));
      expect(
        a.rec.got
          .filter((g) => g.event === 'remote.frames')
          .every((g) => (g.payload as { sessionId: number }).sessionId === 1),
      ).toBe(true);
      const rooms = [...serverSockets('cust-a')[0]!.rooms].filter((r) => r !== serverSockets('cust-a')[0]!.id).sort();
      expect(rooms).toEqual(['account:cust-a', 'customer:CA', 'session:1:crew', 'tickets:CA']);
      for (const shape of [[], [1], [null], [{}], [{ sessionId: 1 }, 'extra']])
        expect(await ask(a.s, 'session.leave', ...shape), JSON.stringify(shape)).toMatchObject({
          ok: false,
          error: { code: 'VALIDATION_FAILED' },
        });
      a.s.disconnect();
      b.s.disconnect();
    });

    it('unsubscribe: B’s vehicle answers as any id does and leaves B’s own subscription alone', async () => {
      const a = await session('cust-a');
      const b = await session('cust-b');
      expect(await ask(b.s, 'subscribe', { vehicleId: 'VB1' })).toEqual({ ok: true, vehicleId: 'VB1' });
      expect(await ask(a.s, 'unsubscribe', { vehicleId: 'VB1' })).toEqual({ ok: true, vehicleId: 'VB1' });
      expect(await ask(a.s, 'unsubscribe', { vehicleId: 'NO-SUCH' })).toEqual({ ok: true, vehicleId: 'NO-SUCH' });
      const n = await publish('VB1');
      await b.rec.next<LiveFrame>('frame', (m) => m.frame.seq === n);
      expect(a.rec.got.filter((g) => g.event === 'frame')).toEqual([]);
      a.s.disconnect();
      b.s.disconnect();
    });

    it('with B streaming, alarmed and ticketed, A gets only its own; B and staff get B’s (the rooms work)', async () => {
      const a = await session('cust-a');
      const b = await session('cust-b', 'polling');
      const staff = await session('eng');
      for (const c of [a, staff])
        expect(await ask(c.s, 'subscribe', { vehicleId: c === a ? 'VA1' : 'VB1' })).toMatchObject({ ok: true });
      expect(await ask(b.s, 'subscribe', { vehicleId: 'VB1' })).toMatchObject({ ok: true });
      expect(await ask(a.s, 'subscribe', { vehicleId: 'VB1' })).toMatchObject({ ok: false });

      const rule = RULES.rules.find((r) => r.id === 'mains_lost')!;
      let lastB = 0;
      for (let i = 0; i < 10; i++) lastB = await publish('VB1');
      const alarmB = (await tp.platform.diagnostics.alarms.raise('VB1', rule, Date.now(), true, null)).alarm;
      tp.platform.bus.emit('alarm.raised', { alarm: alarmB });
      const ticketB = await openTicket('VB1', 'CB');
      await b.rec.next<LiveFrame>('frame', (m) => m.frame.seq === lastB);
      await b.rec.next<LiveAlarm>('alarm', (m) => m.alarm.id === alarmB.id);
      await b.rec.next<LiveTicket>('ticket', (m) => m.ticket.id === ticketB.id);
      await b.rec.next<FleetUpdate>('fleet', (m) => fleetEntries(m).some((v) => v.id === 'VB1'));
      await staff.rec.next<LiveAlarm>('alarm', (m) => m.alarm.id === alarmB.id);
      await staff.rec.next<FleetUpdate>('fleet', (m) => fleetEntries(m).some((v) => v.id === 'VB1'));

      const lastA = await publish('VA1');
      const alarmA = (await tp.platform.diagnostics.alarms.raise('VA1', rule, Date.now(), true, null)).alarm;
      tp.platform.bus.emit('alarm.raised', { alarm: alarmA });
      const ticketA = await openTicket('VA1', 'CA');
      await a.rec.next<LiveFrame>('frame', (m) => m.frame.seq === lastA);
      await a.rec.next<LiveAlarm>('alarm', (m) => m.alarm.id === alarmA.id);
      await a.rec.next<LiveTicket>('ticket', (m) => m.ticket.id === ticketA.id);
      await a.rec.next<FleetUpdate>('fleet', (m) => fleetEntries(m).some((v) => v.id === 'VA1'));

      const seenByA = JSON.stringify(a.rec.got);
      expect(seenByA).not.toContain('VB1');
      expect(seenByA).not.toContain('"CB"');
      expect(seenByA).not.toContain(ticketB.number);
      for (const c of [a, b, staff]) c.s.disconnect();
    });
  });

  describe('a session that ends takes its sockets with it, within a second', () => {
    async function expectCut(
      c: { s: LiveClient; rec: LiveRecorder; cookie: string },
      act: () => Promise<Response>,
      what: string,
    ): Promise<void> {
      const gone = new Promise<string>((resolve) => c.s.once('disconnect', (reason) => resolve(reason)));
      const t0 = performance.now();
      const res = await act();
      expect(res.status, `${what}: ${await res.text()}`).toBeLessThan(300);
      expect(await withTimeout(gone, 1000, `the disconnect after ${what}`)).toBe('io server disconnect');
      expect(performance.now() - t0, what).toBeLessThan(1000);
      expect(
        c.rec.got.some((g) => g.event === 'session.ended'),
        `${what}: session.ended`,
      ).toBe(true);
      const err = await connectRefused(live({ cookie: c.cookie }));
      expect(err.data?.code, `${what}: the old cookie reconnecting`).toBe('UNAUTHENTICATED');
    }
    const api = (login: Login, method: string, path: string, body?: unknown) => apiAs(base, login, method, path, body);

    it('logout (WebSocket and long-polling)', async () => {
      for (const transport of ['websocket', 'polling'] as const) {
        const v = await session('victim-logout', transport);
        const bystander = await session('cust-a');
        await expectCut(v, () => api(v, 'POST', '/api/auth/logout'), `logout over ${transport}`);
        expect(bystander.s.connected).toBe(true);
        bystander.s.disconnect();
      }
    });

    it.each([
      [
        'disabling the account',
        'victim-disable',
        (id: string) => ['PATCH', `/api/accounts/${id}`, { disabled: true }] as const,
      ],
      [
        'an admin resetting the password',
        'victim-reset',
        (id: string) => ['POST', `/api/accounts/${id}/reset-password`, undefined] as const,
      ],
      ['removing the account', 'victim-remove', (id: string) => ['DELETE', `/api/accounts/${id}`, undefined] as const],
      [
        'changing the role',
        'victim-role',
        (id: string) => ['PATCH', `/api/accounts/${id}`, { role: 'engineer', customerId: null }] as const,
      ],
      [
        'moving the account to another unit',
        'victim-rebind',
        (id: string) => ['PATCH', `/api/accounts/${id}`, { customerId: 'CB' }] as const,
      ],
    ])('%s', async (what, id, action) => {
      const admin = await httpLogin(base, 'boss', PASSWORD);
      const ws = await session(id);
      const polling = await session(id, 'polling');
      const [method, path, body] = action(id);
      const both = Promise.all(
        [ws, polling].map((c) => new Promise<void>((resolve) => c.s.once('disconnect', () => resolve()))),
      );
      await expectCut(ws, () => api(admin, method, path, body), what);
      await withTimeout(both, 1000, `both transports cut after ${what}`);
    });

    it('changing one’s own password ends the other sessions’ sockets, not this one’s', async () => {
      const keep = await session('victim-own');
      const other = await session('victim-own', 'polling');
      await expectCut(
        other,
        () =>
          api(keep, 'POST', '/api/auth/password', { currentPassword: PASSWORD, newPassword: 'a brand new password' }),
        'the own password change',
      );
      expect(keep.s.connected).toBe(true);
      keep.s.disconnect();
    });
  });

  describe('invalid input: refused or ignored, counted, never a crash', () => {
    it('unknown events are refused (with an ack) or ignored (without), and counted; "error" from the client too', async () => {
      const c = await session('eng');
      const before = invalid('unknown_event');
      for (const name of [
        'join',
        'leave',
        'admin',
        'subscribe ',
        'SUBSCRIBE',
        'welcome',
        'frame',
        'session.ended',
        'error',
        '__proto__',
        'constructor',
        'x'.repeat(5000),
      ]) {
        const res = await ask(c.s, name, { vehicleId: 'VA1', room: 'staff' });
        expect(res, name.slice(0, 20)).toEqual({
          ok: false,
          error: { code: 'NOT_FOUND', message: expect.stringContaining('no event') },
        });
      }
      const raw = c.s as unknown as { emit(event: string, ...args: unknown[]): void };
      raw.emit('join', { room: 'vehicle:VB1' });
      raw.emit('join');
      expect(await ask(c.s, 'unsubscribe', { vehicleId: 'sync' })).toMatchObject({ ok: true }); // in order: the two above were handled
      expect(invalid('unknown_event')).toBe(before + 14);
      expect(c.s.connected).toBe(true);
      c.s.disconnect();
    });

    it('wrong payload shapes get VALIDATION_FAILED; a missing ack callback is ignored (nothing subscribed); both counted', async () => {
      const c = await session('cust-a');
      const bad = invalid('bad_payload');
      const noAck = invalid('no_ack');
      const shapes: unknown[][] = [
        [],
        [123],
        ['VA1'],
        [null],
        [[]],
        [{}],
        [{ vehicleId: 5 }],
        [{ vehicleId: '' }],
        [{ vehicleId: 'x'.repeat(65) }],
        [{ vehicleId: ['VA1'] }],
        [{ vehicleId: { toString: 'VA1' } }],
        [{ vehicleId: 'VA1' }, 'extra'],
        [Buffer.from('VA1')],
        [true],
      ];
      for (const event of ['subscribe', 'unsubscribe']) {
        for (const args of shapes) {
          const res = await ask(c.s, event, ...args);
          expect(res, `${event}(${JSON.stringify(args).slice(0, 40)})`).toEqual({
            ok: false,
            error: { code: 'VALIDATION_FAILED', message: expect.any(String) },
          });
        }
      }
      expect(invalid('bad_payload')).toBe(bad + 2 * shapes.length);
      c.s.emit('subscribe', { vehicleId: 'VA1' } as never, undefined as never);
      (c.s as unknown as { emit(e: string, a: unknown): void }).emit('subscribe', { vehicleId: 'VA1' });
      expect(await ask(c.s, 'unsubscribe', { vehicleId: 'sync' })).toMatchObject({ ok: true });
      expect(invalid('no_ack')).toBe(noAck + 2);
      expect([...serverSockets('cust-a')[0]!.rooms]).not.toContain('vehicle:VA1');
      expect(c.s.connected).toBe(true);
      c.s.disconnect();
    });

    it('a payload over the limit closes that connection (WebSocket) or is refused (long-polling), counted; others carry on', async () => {
      const bystander = await session('eng');
      expect(await ask(bystander.s, 'subscribe', { vehicleId: 'VA1' })).toMatchObject({ ok: true });
      const before = invalid('transport_error');
      const ws = await session('eng');
      const gone = new Promise<void>((resolve) => ws.s.once('disconnect', () => resolve()));
      ws.s.emit('subscribe', { vehicleId: 'x'.repeat(20_000) }, () => undefined);
      await withTimeout(gone, 5000, 'the oversize WebSocket connection to close');
      await withTimeout(
        (async () => {
          while (invalid('transport_error') === before) await new Promise((r) => setImmediate(r));
        })(),
        5000,
        'live.invalid{transport_error}',
      );
      const tooLarge = invalid('too_large');
      const polling = await session('eng', 'polling');
      polling.s.emit('subscribe', { vehicleId: 'y'.repeat(20_000) }, () => undefined);
      await withTimeout(
        (async () => {
          while (invalid('too_large') === tooLarge) await new Promise((r) => setImmediate(r));
        })(),
        5000,
        'live.invalid{too_large}',
      );
      polling.s.disconnect();
      const n = await publish('VA1');
      await bystander.rec.next<LiveFrame>('frame', (m) => m.frame.seq === n);
      bystander.s.disconnect();
    });

    it('packets socket.io cannot decode (a reserved event name, broken JSON) close that connection and are counted', async () => {
      const before = invalid('malformed_packet');
      for (const raw of [
        '42["disconnect"]',
        '42["connect",{}]',
        '42[',
        '4{"broken"',
        '42["subscribe",{"vehicleId":"VA1"}',
        '49[]',
      ]) {
        const c = await session('eng');
        const gone = new Promise<void>((resolve) => c.s.once('disconnect', () => resolve()));
        (c.s.io.engine as unknown as { send(m: string): void }).send(raw);
        await withTimeout(gone, 5000, `the connection sending ${raw} to close`);
      }
      expect(invalid('malformed_packet')).toBeGreaterThanOrEqual(before + 5);
    });

    it('a flood of invalid requests is answered one by one; the layer and the platform carry on', async () => {
      const c = await session('cust-a');
      const results = await Promise.all(
        Array.from({ length: 1000 }, (_, i) =>
          ask(c.s, i % 2 ? 'subscribe' : 'nonsense', i % 3 ? { vehicleId: 'VB1' } : 42),
        ),
      );
      expect(results.every((r) => r.ok === false)).toBe(true);
      expect(c.s.connected).toBe(true);
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      const fresh = await session('cust-a', 'polling');
      expect(await ask(fresh.s, 'subscribe', { vehicleId: 'VA1' })).toEqual({ ok: true, vehicleId: 'VA1' });
      const n = await publish('VA1');
      await fresh.rec.next<LiveFrame>('frame', (m) => m.frame.seq === n);
      const metrics = (await (
        await fetch(`${base}/metrics.json`, { headers: { cookie: (await httpLogin(base, 'eng', PASSWORD)).cookie } })
      ).json()) as { byKey: Record<string, Record<string, number>> };
      expect(Object.keys(metrics.byKey['live.invalid']!).sort()).toEqual(
        expect.arrayContaining([
          'bad_payload',
          'malformed_packet',
          'no_ack',
          'too_large',
          'transport_error',
          'unknown_event',
        ]),
      );
      c.s.disconnect();
      fresh.s.disconnect();
    });
  });

  async function openTicket(vehicleId: string, customerId: string): Promise<Ticket> {
    return tp.platform.tickets.open(
      {
        source: 'rule',
        vehicleId,
        customerId,
        level: 'extra_urgent',
        title: `${vehicleId}: fault GEN-START-FAIL`,
        need: 'GEN-START-FAIL detected automatically',
        faultCode: 'GEN-START-FAIL',
      },
      'system',
    );
  }
});
