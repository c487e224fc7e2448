import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { CommandRecord } from '../../commands/types.ts';
import { vehicleTopic, type Command } from '../../protocol/index.ts';
import { createManualClock, type ManualClock } from '../../simulators/clock.ts';
import { createGateway, type Gateway } from '../../simulators/gateway/gateway.ts';
import { createVehicleModel } from '../../simulators/model/vehicle.ts';
import { createAccounts } from '../../web/auth/accounts.ts';
import type { LiveCommand, LiveFrame } from '../../web/live/events.ts';
import { askVehicle, openConsole, type LiveClient } from '../helpers/live-client.ts';
import { inbox, startTestPlatform, withTimeout, type Inbox, type TestPlatform } from '../helpers/platform.ts';
import { PASSWORD, TEST_COST } from '../web/helpers.ts';

/**
 * Issue 11 point 5: operator commands through the whole platform — the console API, the command
 * service, the broker (QoS 1 on `commands`) and the reference gateway's `commands/ack` — or a raw
 * MQTT client with a vehicle's credentials that receives commands and never answers.
 */
const ACK_TIMEOUT_MS = 1500;

let tp: TestPlatform;
let base: string;
const sessions = new Map<string, { cookie: string; csrf: string }>();

async function login(account: string) {
  const res = await fetch(`${base}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: account, password: PASSWORD }),
  });
  if (res.status !== 200) throw new Error(`login as ${account}: ${res.status}`);
  const cookie = res.headers.getSetCookie()[0]!.split(';')[0]!;
  sessions.set(account, { cookie, csrf: ((await res.json()) as { csrfToken: string }).csrfToken });
}

async function call(account: string, method: string, path: string, body?: unknown) {
  const s = sessions.get(account)!;
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      cookie: s.cookie,
      'x-csrf-token': s.csrf,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> & { error?: { code: string } } };
}
const command = (account: string, vehicleId: string, body: unknown) =>
  call(account, 'POST', `/api/vehicles/${vehicleId}/commands`, body);

/** A reference gateway whose clock is a minute behind the platform's (commands are valid for it). */
async function startGateway(id: string, secret: string): Promise<{ gw: Gateway; clock: ManualClock }> {
  const clock = createManualClock(Date.now() - 60_000);
  const model = createVehicleModel({
    vehicleId: id,
    seed: 5,
    startTs: clock.now(),
    mainsOutagesPerDay: 0,
    drivesPerDay: 0,
  });
  const gw = createGateway(
    { clock, model, random: () => 0.5 },
    { vehicleId: id, secret, brokerUrl: tp.mqttUrl, rateHz: 1, reconnectMinMs: 1000, reconnectMaxMs: 1000 },
  );
  const connected = new Promise<void>((resolve) => {
    const off = gw.on('connected', () => {
      off();
      resolve();
    });
  });
  gw.start();
  gw.tick();
  await withTimeout(connected, 5000, `${id} to connect`);
  return { gw, clock };
}

function advance(clock: ManualClock, gw: Gateway, seconds: number) {
  for (let i = 0; i < seconds; i++) {
    clock.advance(1000);
    gw.tick();
  }
}

/** A vehicle that receives its commands and never answers: a raw MQTT.js client with its credentials. */
async function silentVehicle(id: string): Promise<{ client: MqttClient; got: Inbox }> {
  const { secret } = await tp.addVehicle(id);
  const client = await tp.connect(id, secret);
  const got = inbox(client);
  await client.subscribeAsync(vehicleTopic(id, 'commands'), { qos: 1 });
  return { client, got };
}

beforeAll(async () => {
  tp = await startTestPlatform({ COMMAND_ACK_TIMEOUT_MS: String(ACK_TIMEOUT_MS), DUTY_LEAD: 'lead.eng' });
  base = `http://127.0.0.1:${tp.platform.ports.http}`;
  if (!(await tp.platform.customers.get('C1'))) await tp.platform.customers.add({ id: 'C1', name: 'Unit 1' });
  const accounts = createAccounts({ db: tp.platform.records }, { passwordCost: TEST_COST });
  for (const [id, role, customerId] of [
    ['lead.eng', 'engineer', null],
    ['eng', 'engineer', null],
    ['disp', 'dispatcher', null],
    ['cust', 'customer', 'C1'],
  ] as const) {
    await accounts.add({ id, name: id, role, customerId, password: PASSWORD });
    await login(id);
  }
});
afterAll(async () => {
  await tp.close();
});

describe('operator commands through the platform and the reference gateway', () => {
  let gw: Gateway;
  let clock: ManualClock;
  const V = 'CMDV1';
  beforeAll(async () => {
    const { secret } = await tp.addVehicle(V);
    ({ gw, clock } = await startGateway(V, secret));
  });
  afterAll(async () => {
    await gw.stop();
  });

  it('startGenerator by the duty lead, confirmed: done with the gateway’s result; on the audit log and the bus', async () => {
    const sent: CommandRecord[] = [];
    const settled: CommandRecord[] = [];
    const offs = [
      tp.platform.bus.on('command.sent', (e) => void sent.push(e.command)),
      tp.platform.bus.on('command.settled', (e) => void settled.push(e.command)),
    ];
    const res = await command('lead.eng', V, { name: 'startGenerator', args: {}, confirmed: true });
    offs.forEach((off) => off());
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      vehicleId: V,
      name: 'startGenerator',
      actor: 'lead.eng',
      state: 'done',
      result: { phase: 'cranking' },
      error: null,
    });
    expect(gw.model.state().generatorPhase).not.toBe('stopped');
    expect(sent.map((c) => c.state)).toEqual(['sent']);
    expect(settled).toMatchObject([{ id: res.json.id, state: 'done' }]);
    const got = await call('eng', 'GET', `/api/commands/${String(res.json.id)}`);
    expect(got.json).toMatchObject({ state: 'done', result: { phase: 'cranking' } });
    const audit = await tp.platform.records
      .selectFrom('audit_log')
      .select(['action', 'actor'])
      .where('subject', '=', `vehicle:${V}`)
      .orderBy('id')
      .execute();
    expect(audit).toEqual([
      { action: 'command.sent', actor: 'lead.eng' },
      { action: 'command.done', actor: `vehicle:${V}` },
    ]);
    expect(tp.platform.counters.get('commands.done', V)).toBe(1);
  });

  it('an unsafe stopGenerator (mains absent, the set the only source) is refused with the gateway’s reason', async () => {
    gw.model.addFault({
      id: 'grid-down#0',
      name: 'grid-down',
      startTs: clock.now(),
      endTs: null,
      apply: (fx) => void (fx.mainsCut = true),
    });
    advance(clock, gw, 30);
    expect(gw.model.state().mainsPresent).toBe(false);
    const res = await command('lead.eng', V, { name: 'stopGenerator', args: {}, confirmed: true });
    expect(res.status).toBe(200);
    expect(res.json.state).toBe('refused');
    expect(res.json.error).toMatch(/^unsafe: the generator is the only AC source/);
    expect(gw.model.state().generatorRunning).toBe(true);
    expect(tp.platform.counters.get('commands.refused', V)).toBe(1);
  });

  it('a power command without confirmed is CONFIRMATION_REQUIRED and nothing is sent', async () => {
    const before = tp.platform.counters.get('commands.sent', V);
    const res = await command('lead.eng', V, { name: 'switchSource', args: { source: 'auto' } });
    expect(res.status).toBe(428);
    expect(res.json.error?.code).toBe('CONFIRMATION_REQUIRED');
    expect(tp.platform.counters.get('commands.sent', V)).toBe(before);
  });

  it('power commands: a dispatcher or an engineer outside a live session gets 403 COMMAND_NOT_ALLOWED; a customer 403', async () => {
    for (const who of ['disp', 'eng']) {
      const res = await command(who, V, { name: 'startGenerator', args: {}, confirmed: true });
      expect(res.status, who).toBe(403);
      expect(res.json.error?.code, who).toBe('COMMAND_NOT_ALLOWED');
    }
    // a customer of the vehicle's own unit (C1) may send nothing, not even a snapshot
    for (const name of ['snapshot', 'startGenerator']) {
      const res = await command('cust', V, { name, args: {}, confirmed: true });
      expect(res.status).toBe(403);
      expect(res.json.error?.code).toBe('FORBIDDEN');
    }
    expect((await call('cust', 'GET', `/api/vehicles/${V}/commands`)).status).toBe(403);
  });

  it('staff may send non-power commands: a dispatcher’s setTelemetryRate is done', async () => {
    const res = await command('disp', V, { name: 'setTelemetryRate', args: { hz: 2, durationS: 60 } });
    expect(res.json).toMatchObject({ state: 'done', result: { hz: 2, durationS: 60 } });
  });

  it('unknown names and bad arguments are 400 with the reasons', async () => {
    const unknown = await command('lead.eng', V, { name: 'selfDestruct', args: {} });
    expect(unknown.status).toBe(400);
    expect(unknown.json.error?.code).toBe('COMMAND_UNKNOWN');
    const backfill = await command('lead.eng', V, { name: 'backfill', args: { fromSeq: 1, toSeq: 2 } });
    expect(backfill.json.error?.code).toBe('COMMAND_UNKNOWN');
    const bad = await command('lead.eng', V, { name: 'setTelemetryRate', args: { hz: 50, extra: 1 } });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(String((bad.json.error as unknown as { message: string }).message)).toMatch(
      /args\.hz: must be at most 10.*args: unknown field extra/,
    );
    const src = await command('lead.eng', V, { name: 'switchSource', args: { source: 'nuclear' }, confirmed: true });
    expect(src.json.error?.code).toBe('INVALID_ARGUMENT');
  });

  it('the same id again returns the first record and publishes once, also when sent twice at once', async () => {
    const seen: string[] = [];
    const off = gw.on('command', (cmd: Command) => void seen.push(cmd.id));
    try {
      const body = { id: 'snap-retry-1', name: 'snapshot', args: {} };
      const [a, b] = await Promise.all([command('disp', V, body), command('eng', V, body)]);
      const c = await command('disp', V, body);
      expect(a.json).toMatchObject({ id: 'snap-retry-1', state: 'done' });
      expect(b.json).toEqual(a.json);
      expect(c.json).toEqual(a.json);
      expect(seen.filter((id) => id === 'snap-retry-1')).toHaveLength(1);
      // the same id for something else is a conflict
      const other = await command('disp', V, { id: 'snap-retry-1', name: 'setTelemetryRate', args: { hz: 1 } });
      expect(other.status).toBe(409);
      expect(other.json.error?.code).toBe('COMMAND_CONFLICT');
    } finally {
      off();
    }
  });

  it('the live channel: staff subscribed to the vehicle see the command sent and settled; customers and others nothing', async () => {
    const opened: LiveClient[] = [];
    try {
      const eng = await openConsole(base, 'eng', PASSWORD, { opened });
      const cust = await openConsole(base, 'cust', PASSWORD, { opened });
      const other = await openConsole(base, 'disp', PASSWORD, { opened });
      expect(await askVehicle(eng.s, 'subscribe', V)).toMatchObject({ ok: true });
      expect(await askVehicle(cust.s, 'subscribe', V)).toMatchObject({ ok: true });
      const res = await command('disp', V, { id: 'live-snap-1', name: 'snapshot', args: {} });
      expect(res.json.state).toBe('done');
      const mine = (m: LiveCommand) => m.command.id === 'live-snap-1';
      expect(await eng.rec.next<LiveCommand>('command', (m) => mine(m) && m.kind === 'settled')).toMatchObject({
        command: { state: 'done', vehicleId: V },
      });
      expect(eng.rec.got.filter((g) => g.event === 'command').map((g) => (g.payload as LiveCommand).kind)).toEqual([
        'sent',
        'settled',
      ]);
      // a frame sent after the command events reaches the customer: nothing about the command came before it
      const after = clock.now();
      advance(clock, gw, 1);
      await cust.rec.next<LiveFrame>('frame', (m) => m.vehicleId === V && m.frame.ts > after);
      expect(cust.rec.got.filter((g) => g.event === 'command')).toEqual([]);
      expect(other.rec.got.filter((g) => g.event === 'command')).toEqual([]);
    } finally {
      for (const s of opened) s.disconnect();
    }
  });

  it('lists a vehicle’s commands newest first, keyset paged', async () => {
    const first = await call('eng', 'GET', `/api/vehicles/${V}/commands?limit=2`);
    expect(first.status).toBe(200);
    const page1 = first.json as unknown as { commands: CommandRecord[]; nextCursor: string };
    expect(page1.commands).toHaveLength(2);
    expect(page1.commands.map((c) => c.id)).toEqual(['live-snap-1', 'snap-retry-1']);
    const rest = await call('eng', 'GET', `/api/vehicles/${V}/commands?limit=100&cursor=${page1.nextCursor}`);
    const page2 = rest.json as unknown as { commands: CommandRecord[]; nextCursor: string | null };
    expect(page2.nextCursor).toBeNull();
    expect(page2.commands.map((c) => c.name)).toEqual(['setTelemetryRate', 'stopGenerator', 'startGenerator']);
    expect((await call('eng', 'GET', '/api/commands/nope')).json.error?.code).toBe('COMMAND_NOT_FOUND');
  });
});

describe('vehicles that cannot or do not answer', () => {
  it('an offline vehicle: VEHICLE_OFFLINE, nothing recorded or queued', async () => {
    await tp.addVehicle('CMD-OFF');
    const res = await command('disp', 'CMD-OFF', { name: 'snapshot', args: {} });
    expect(res.status).toBe(409);
    expect(res.json.error?.code).toBe('VEHICLE_OFFLINE');
    const list = await call('disp', 'GET', '/api/vehicles/CMD-OFF/commands');
    expect(list.json).toEqual({ commands: [], nextCursor: null });
    const audit = await tp.platform.records
      .selectFrom('audit_log')
      .select(['action', 'actor', 'details'])
      .where('subject', '=', 'vehicle:CMD-OFF')
      .execute();
    expect(audit).toEqual([
      { action: 'command.not_sent', actor: 'disp', details: expect.stringContaining('VEHICLE_OFFLINE') },
    ]);
  });

  it('no ack within the timeout: no_answer (never done); a late ack is recorded and it stays no_answer', async () => {
    const { client, got } = await silentVehicle('CMD-MUTE');
    const res = await command('disp', 'CMD-MUTE', { id: 'mute-1', name: 'snapshot', args: {} });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ id: 'mute-1', state: 'no_answer', error: 'no answer within 1.5 s' });
    // it was delivered, at QoS 1, with its validity
    const delivered = await got.waitFor((m) => (m.json as Command).id === 'mute-1');
    expect(delivered.json).toMatchObject({ id: 'mute-1', name: 'snapshot', args: {}, ttlS: 2 });

    await client.publishAsync(
      vehicleTopic('CMD-MUTE', 'commands/ack'),
      JSON.stringify({ id: 'mute-1', ts: Date.now(), ok: true, result: { seq: 1 } }),
      { qos: 1 },
    );
    await vi.waitFor(() => expect(tp.platform.counters.get('commands.late_ack', 'CMD-MUTE')).toBe(1), {
      timeout: 5000,
    });
    const after = await call('disp', 'GET', '/api/commands/mute-1');
    expect(after.json).toMatchObject({
      state: 'no_answer',
      lateAck: { ok: true, result: { seq: 1 }, error: null },
    });
    // a retry with the same id does not send it again: the settled record
    const again = await command('disp', 'CMD-MUTE', { id: 'mute-1', name: 'snapshot', args: {} });
    expect(again.json).toMatchObject({ state: 'no_answer' });
    expect(got.messages.filter((m) => (m.json as Command).id === 'mute-1')).toHaveLength(1);
    await client.endAsync();
  });
});

describe('a restart while a command waits', () => {
  it('a command left sent is settled no_answer at the next start; a late answer is still recorded', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'pw-cmd-'));
    const env = { COMMAND_ACK_TIMEOUT_MS: '600000' };
    try {
      const tp1 = await startTestPlatform(env, { dataDir });
      const { secret } = await tp1.addVehicle('CMD-RS');
      const c1 = await tp1.connect('CMD-RS', secret);
      const got = inbox(c1);
      await c1.subscribeAsync(vehicleTopic('CMD-RS', 'commands'), { qos: 1 });
      const outcome = tp1.platform.commands
        .send({ vehicleId: 'CMD-RS', id: 'rs-1', name: 'snapshot', args: {}, actor: 'eng' })
        .then(
          (r) => r.state,
          (err: { code?: string }) => err.code,
        );
      await got.waitFor((m) => (m.json as Command).id === 'rs-1');
      await tp1.close();
      expect(await outcome).toBe('SHUTTING_DOWN');

      const tp2 = await startTestPlatform(env, { dataDir });
      try {
        expect(await tp2.platform.commands.get('rs-1')).toMatchObject({
          state: 'no_answer',
          error: 'the platform stopped before an answer came',
          lateAck: null,
        });
        expect(tp2.platform.counters.get('commands.no_answer', 'CMD-RS')).toBe(1);
        const c2 = await tp2.connect('CMD-RS', secret);
        await c2.publishAsync(
          vehicleTopic('CMD-RS', 'commands/ack'),
          JSON.stringify({ id: 'rs-1', ts: Date.now(), ok: false, error: 'expired' }),
          { qos: 1 },
        );
        await vi.waitFor(() => expect(tp2.platform.counters.get('commands.late_ack', 'CMD-RS')).toBe(1), {
          timeout: 5000,
        });
        expect(await tp2.platform.commands.get('rs-1')).toMatchObject({
          state: 'no_answer',
          lateAck: { ok: false, error: 'expired' },
        });
      } finally {
        await tp2.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
