import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  COMMAND_CLOCK_SKEW_MS,
  DEFAULT_COMMAND_TTL_S,
  commandValidity,
  vehicleTopic,
  type Command,
  type CommandAck,
} from '../../protocol/index.ts';
import { createCounters } from '../../core/counters.ts';
import { silentLogger } from '../../core/logger.ts';
import { createBackfillRequests } from '../../ingest/backfill-requests.ts';
import { createManualClock, type ManualClock } from '../../simulators/clock.ts';
import { createGateway, type Gateway } from '../../simulators/gateway/gateway.ts';
import { createVehicleModel } from '../../simulators/model/vehicle.ts';
import {
  closed,
  connectService,
  inbox,
  startTestPlatform,
  subackCodes,
  withTimeout,
  type TestPlatform,
} from '../helpers/platform.ts';

/**
 * Issue 16, item 1 (protocol and broker side): planted and replayed commands. The probe planted a
 * retained `switchSource {source: battery}` with a 30-day-old ts through a service account; the
 * broker kept it and the reference gateway ran it again at every reconnect, and ran a replayed id
 * twice. Now the broker refuses retained commands, the gateway refuses a command past its expiry
 * (`ts` + `ttlS`) or delivered retained, and answers a repeated id from memory.
 */
const DAY = 86_400_000;

let tp: TestPlatform;
beforeAll(async () => {
  tp = await startTestPlatform();
});
afterAll(async () => {
  await tp.close();
});

function newGateway(
  id: string,
  secret: string,
  clock: ManualClock,
  connect?: (url: string, o: IClientOptions) => MqttClient,
): Gateway {
  const model = createVehicleModel({
    vehicleId: id,
    seed: 3,
    startTs: clock.now(),
    mainsOutagesPerDay: 0,
    drivesPerDay: 0,
  });
  return createGateway(
    { clock, model, random: () => 0.5, ...(connect ? { connect } : {}) },
    { vehicleId: id, secret, brokerUrl: tp.mqttUrl, rateHz: 1, reconnectMinMs: 1000, reconnectMaxMs: 1000 },
  );
}

/** Every command the gateway answered, as (command, answer). */
function answers(gw: Gateway) {
  const seen: { cmd: Command; ack: CommandAck }[] = [];
  const waiters: { id: string; n: number; resolve: () => void }[] = [];
  gw.on('command', (cmd: Command, ack: CommandAck) => {
    seen.push({ cmd, ack });
    for (const w of [...waiters])
      if (seen.filter((s) => s.cmd.id === w.id).length >= w.n) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
  });
  return {
    seen,
    /** Resolves once the gateway answered command `id` `n` times. */
    waitFor(id: string, n = 1): Promise<void> {
      if (seen.filter((s) => s.cmd.id === id).length >= n) return Promise.resolve();
      return withTimeout(new Promise<void>((resolve) => waiters.push({ id, n, resolve })), 5000, `answer to ${id}`);
    },
  };
}

async function online(gw: Gateway, clock: ManualClock): Promise<void> {
  const connected = new Promise<void>((resolve) => {
    const off = gw.on('connected', () => {
      off();
      resolve();
    });
  });
  if (gw.state() === 'idle') gw.start();
  for (let i = 0; i < 5 && gw.state() !== 'connecting' && gw.state() !== 'online'; i++) {
    clock.advance(1000);
    gw.tick();
  }
  await withTimeout(connected, 5000, `${gw.vehicleId} to connect`);
}

const sentinel = (id: string): Command => ({ id, ts: Date.now(), name: 'snapshot', args: {} });

describe('planted commands', () => {
  it('a retained switchSource{battery} with a 30-day-old ts is refused by the broker and never runs at a (re)connect', async () => {
    const { id, secret } = await tp.addVehicle('CMD-PLANT');
    const topic = vehicleTopic(id, 'commands');
    const planter = await connectService(tp, 'svc-planter');
    const planted = { id: 'planted-1', ts: Date.now() - 30 * DAY, name: 'switchSource', args: { source: 'battery' } };
    await planter.publishAsync(topic, JSON.stringify(planted), { qos: 1, retain: true });

    // the gateway connects, loses its link and connects again: the planted command never runs
    const clock = createManualClock(Date.now());
    const gw = newGateway(id, secret, clock);
    const got = answers(gw);
    try {
      await online(gw, clock);
      await tp.platform.broker.publishToVehicle(id, 'commands', sentinel('live-1'));
      await got.waitFor('live-1');
      gw.cutLink(0);
      await online(gw, clock);
      await tp.platform.broker.publishToVehicle(id, 'commands', sentinel('live-2'));
      await got.waitFor('live-2');
      expect(gw.stats().connects).toBe(2);
      expect(gw.model.state().mode).toBe('auto');
      expect(got.seen.map((s) => s.cmd.id)).toEqual(['live-1', 'live-2']);
      // refused at the broker when it was published: counted, nothing kept
      expect(tp.platform.counters.get('mqtt.retained_command_refused', 'svc-planter')).toBe(1);
      // a subscriber arriving later gets no retained command, only the live one after it
      const watcher = await connectService(tp, 'svc-command-watch');
      const watched = inbox(watcher);
      await watcher.subscribeAsync(topic, { qos: 1 });
      await tp.platform.broker.publishToVehicle(id, 'commands', sentinel('live-0'));
      await watched.waitFor((m) => (m.json as { id?: string }).id === 'live-0', 5000, 'the live command');
      expect(watched.messages.map((m) => (m.json as { id?: string }).id)).toEqual(['live-0']);
      await watcher.endAsync();
    } finally {
      await gw.stop();
      await planter.endAsync();
    }
  });

  it('a command past its expiry is answered "expired" and not executed; a fresh one runs', async () => {
    const { id, secret } = await tp.addVehicle('CMD-OLD');
    const clock = createManualClock(Date.now());
    const gw = newGateway(id, secret, clock);
    const got = answers(gw);
    const acks: CommandAck[] = [];
    let threeAcks!: () => void;
    const allAcked = new Promise<void>((resolve) => (threeAcks = resolve));
    const off = tp.platform.bus.on('command.ack', (e) => {
      if (e.vehicleId !== id) return;
      acks.push(e.ack);
      if (acks.length === 3) threeAcks();
    });
    try {
      await online(gw, clock);
      const old: Command = {
        id: 'old-1',
        ts: Date.now() - 30 * DAY,
        name: 'switchSource',
        args: { source: 'battery' },
      };
      await tp.platform.broker.publishToVehicle(id, 'commands', old);
      await got.waitFor('old-1');
      expect(got.seen[0]!.ack).toMatchObject({ id: 'old-1', ok: false, error: 'expired' });
      expect(gw.model.state().mode).toBe('auto');
      // a short ttlS expires sooner than the default
      const brief: Command = { id: 'brief-1', ts: Date.now() - 5_000, ttlS: 2, name: 'snapshot', args: {} };
      await tp.platform.broker.publishToVehicle(id, 'commands', brief);
      await got.waitFor('brief-1');
      expect(got.seen[1]!.ack).toMatchObject({ ok: false, error: 'expired' });
      // the same command, fresh, runs
      await tp.platform.broker.publishToVehicle(id, 'commands', { ...old, id: 'fresh-1', ts: Date.now() });
      await got.waitFor('fresh-1');
      expect(got.seen[2]!.ack).toMatchObject({ id: 'fresh-1', ok: true, result: { mode: 'battery' } });
      expect(gw.model.state().mode).toBe('battery');
      expect(gw.stats()).toMatchObject({ commands: 1, commandsExpired: 2 });
      await withTimeout(allAcked, 5000, 'the answers at the platform');
      expect(acks.map((a) => [a.id, a.ok])).toEqual([
        ['old-1', false],
        ['brief-1', false],
        ['fresh-1', true],
      ]);
    } finally {
      off();
      await gw.stop();
    }
  });
});

describe('a command delivered retained (by some other broker or bridge)', () => {
  it('is answered "retained" by the reference gateway and not executed', async () => {
    const { id, secret } = await tp.addVehicle('CMD-RET');
    const clock = createManualClock(Date.now());
    const link: { client?: MqttClient } = {};
    const gw = newGateway(id, secret, clock, (url, o) => (link.client = mqtt.connect(url, o)));
    const got = answers(gw);
    try {
      await online(gw, clock);
      const topic = vehicleTopic(id, 'commands');
      const cmd = { id: 'kept-1', ts: Date.now(), name: 'switchSource', args: { source: 'battery' } };
      const payload = Buffer.from(JSON.stringify(cmd));
      link.client!.emit('message', topic, payload, {
        cmd: 'publish',
        topic,
        payload,
        qos: 1,
        retain: true,
        dup: false,
      });
      await got.waitFor('kept-1');
      expect(got.seen[0]!.ack).toMatchObject({ id: 'kept-1', ok: false, error: 'retained' });
      expect(gw.model.state().mode).toBe('auto');
    } finally {
      await gw.stop();
    }
  });
});

describe('replayed commands', () => {
  it('a repeated id is answered from memory, not executed twice', async () => {
    const { id, secret } = await tp.addVehicle('CMD-REPLAY');
    const clock = createManualClock(Date.now());
    const gw = newGateway(id, secret, clock);
    const got = answers(gw);
    const replayer = await connectService(tp, 'svc-replayer');
    try {
      await online(gw, clock);
      const cmd: Command = { id: 'once-1', ts: Date.now(), name: 'switchSource', args: { source: 'battery' } };
      await tp.platform.broker.publishToVehicle(id, 'commands', cmd);
      await got.waitFor('once-1');
      expect(gw.model.state().mode).toBe('battery');
      // an operator switches back; then the captured command is replayed, twice
      await tp.platform.broker.publishToVehicle(id, 'commands', {
        id: 'back-1',
        ts: Date.now(),
        name: 'switchSource',
        args: { source: 'auto' },
      });
      await got.waitFor('back-1');
      expect(gw.model.state().mode).toBe('auto');
      await replayer.publishAsync(vehicleTopic(id, 'commands'), JSON.stringify(cmd), { qos: 1 });
      await replayer.publishAsync(vehicleTopic(id, 'commands'), JSON.stringify(cmd), { qos: 1 });
      await got.waitFor('once-1', 3);
      expect(gw.model.state().mode).toBe('auto');
      const replies = got.seen.filter((s) => s.cmd.id === 'once-1').map((s) => s.ack);
      expect(replies[1]).toEqual(replies[0]);
      expect(replies[2]).toEqual(replies[0]);
      expect(gw.stats()).toMatchObject({ commands: 2, commandsRepeated: 2 });
    } finally {
      await gw.stop();
      await replayer.endAsync();
    }
  });

  it('the platform never reuses a command id, not even after a restart', () => {
    const sent: Command[] = [];
    const requestsOf = () =>
      createBackfillRequests<{ vehicleId: string }>({
        publish: async (_v, _k, payload) => void sent.push(payload),
        log: silentLogger(),
        counters: createCounters(),
      });
    const gap = { from: 5, to: 9, afterTs: null, beforeTs: null };
    requestsOf().send({ vehicleId: 'V1' }, 0, [gap], Date.now());
    requestsOf().send({ vehicleId: 'V1' }, 0, [gap], Date.now()); // a restarted platform
    expect(sent).toHaveLength(2);
    expect(sent[0]!.id).not.toBe(sent[1]!.id);
  });
});

describe('command validity (protocol rule)', () => {
  const ts = 1_800_000_000_000;
  it('runs from ts (less the clock skew allowance) to ts + ttlS, default 60 s', () => {
    expect(DEFAULT_COMMAND_TTL_S).toBe(60);
    expect(commandValidity({ ts }, ts)).toBe('ok');
    expect(commandValidity({ ts }, ts + 60_000)).toBe('ok');
    expect(commandValidity({ ts }, ts + 60_001)).toBe('expired');
    expect(commandValidity({ ts, ttlS: 600 }, ts + 300_000)).toBe('ok');
    expect(commandValidity({ ts }, ts - COMMAND_CLOCK_SKEW_MS)).toBe('ok');
    // stamped far ahead: it would stay valid for too long
    expect(commandValidity({ ts }, ts - COMMAND_CLOCK_SKEW_MS - 1)).toBe('not yet valid');
  });
});

/**
 * Issue 16, item 1 (what remained): service accounts published commands to every vehicle of every
 * unit, unaudited. Now each has a scope (topic kinds, customer units) the broker enforces, and every
 * command over MQTT — a service account's or the platform's — is recorded with its ack.
 */
describe('service account scopes and the command log', () => {
  const logOf = (vehicleId: string) => tp.platform.commandLog.ofVehicle(vehicleId);
  /** Resolves once the platform has the gateway's answer to `id` and the log has matched it. */
  function ackAtPlatform(vehicleId: string, id: string): Promise<void> {
    return withTimeout(
      new Promise<void>((resolve) => {
        const off = tp.platform.bus.on('command.ack', (e) => {
          if (e.vehicleId !== vehicleId || e.ack.id !== id) return;
          off();
          resolve();
        });
      }),
      5000,
      `the answer to ${id} at the platform`,
    ).then(() => tp.platform.commandLog.settled());
  }

  it('a unit-limited account’s command to another unit’s vehicle is refused and never reaches it; to its own unit it runs and is recorded with its ack', async () => {
    const a = await tp.addVehicle('SCOPE-A1', 'UNIT-A');
    const b = await tp.addVehicle('SCOPE-B1', 'UNIT-B');
    const clock = createManualClock(Date.now());
    const gwA = newGateway(a.id, a.secret, clock);
    const gwB = newGateway(b.id, b.secret, clock);
    const gotA = answers(gwA);
    const gotB = answers(gwB);
    const svc = await connectService(tp, 'svc-unit-a', {}, { units: ['UNIT-A'], topics: ['commands', 'commands/ack'] });
    try {
      await online(gwA, clock);
      await online(gwB, clock);
      const denied = tp.platform.counters.get('mqtt.publish_denied', 'svc-unit-a');
      // the attack: switch unit B's vehicle to battery
      const attack = { id: 'cross-1', ts: Date.now(), name: 'switchSource', args: { source: 'battery' } };
      await svc.publishAsync(vehicleTopic(b.id, 'commands'), JSON.stringify(attack), { qos: 1 });
      // B's next command (the platform's) arrives; the attack never did
      await tp.platform.broker.publishToVehicle(b.id, 'commands', sentinel('after-cross'));
      await gotB.waitFor('after-cross');
      expect(gotB.seen.map((s) => s.cmd.id)).toEqual(['after-cross']);
      expect(gwB.model.state().mode).toBe('auto');
      expect(tp.platform.counters.get('mqtt.publish_denied', 'svc-unit-a')).toBe(denied + 1);
      expect((await logOf(b.id)).map((c) => [c.publisher, c.commandId])).toEqual([['platform', 'after-cross']]);
      // nor may it listen to unit B's vehicle, or across vehicles
      expect(await subackCodes(svc, [vehicleTopic(b.id, 'commands/ack'), 'v1/vehicles/+/commands/ack'])).toEqual([
        128, 128,
      ]);

      // its own unit's vehicle: delivered, run, recorded with the answer
      expect(await subackCodes(svc, vehicleTopic(a.id, 'commands/ack'))).toEqual([1]);
      const own = { id: 'own-1', ts: Date.now(), name: 'switchSource', args: { source: 'battery' } };
      const acked = ackAtPlatform(a.id, 'own-1');
      await svc.publishAsync(vehicleTopic(a.id, 'commands'), JSON.stringify(own), { qos: 1 });
      await gotA.waitFor('own-1');
      expect(gwA.model.state().mode).toBe('battery');
      await acked;
      const [logged] = await logOf(a.id);
      expect(logged).toMatchObject({
        vehicleId: a.id,
        commandId: 'own-1',
        name: 'switchSource',
        publisher: 'svc-unit-a',
        ack: { ok: true, answer: { id: 'own-1', ok: true, result: { mode: 'battery' } } },
      });
      expect(JSON.parse(logged!.payload)).toEqual(own);
    } finally {
      await gwA.stop();
      await gwB.stop();
      await svc.endAsync();
    }
  });

  it('an account without a scope (and every account made before scopes) publishes no command at all', async () => {
    const v = await tp.addVehicle('SCOPE-D1', 'UNIT-D');
    const clock = createManualClock(Date.now());
    const gw = newGateway(v.id, v.secret, clock);
    const got = answers(gw);
    const { secret } = await tp.platform.serviceAccounts.add('svc-unscoped', 'made without a scope');
    const svc = await tp.connect('svc-unscoped', secret);
    try {
      await online(gw, clock);
      const cmd = { id: 'unscoped-1', ts: Date.now(), name: 'switchSource', args: { source: 'battery' } };
      await svc.publishAsync(vehicleTopic(v.id, 'commands'), JSON.stringify(cmd), { qos: 1 });
      // nor may a service account speak for the vehicle
      await svc.publishAsync(vehicleTopic(v.id, 'commands/ack'), JSON.stringify({ id: 'x', ok: true }), { qos: 1 });
      await tp.platform.broker.publishToVehicle(v.id, 'commands', sentinel('after-unscoped'));
      await got.waitFor('after-unscoped');
      expect(got.seen.map((s) => s.cmd.id)).toEqual(['after-unscoped']);
      expect(tp.platform.counters.get('mqtt.publish_denied', 'svc-unscoped')).toBe(2);
      // it still reads what the default scope gives: the acks
      expect(await subackCodes(svc, ['v1/vehicles/+/commands/ack', 'v1/vehicles/+/commands'])).toEqual([1, 128]);
    } finally {
      await gw.stop();
      await svc.endAsync();
    }
  });

  it('narrowing an account’s scope closes its live session; it reconnects with the new scope', async () => {
    const v = await tp.addVehicle('SCOPE-N1', 'UNIT-N');
    const clock = createManualClock(Date.now());
    const gw = newGateway(v.id, v.secret, clock);
    const got = answers(gw);
    const { secret } = await tp.platform.serviceAccounts.add('svc-narrowed', 'narrowed later', {
      topics: ['commands'],
    });
    let svc = await tp.connect('svc-narrowed', secret);
    try {
      await online(gw, clock);
      await svc.publishAsync(vehicleTopic(v.id, 'commands'), JSON.stringify(sentinel('before-narrow')), { qos: 1 });
      await got.waitFor('before-narrow');
      const gone = closed(svc);
      await tp.platform.serviceAccounts.setScope('svc-narrowed', { units: ['UNIT-OTHER'], topics: ['commands'] });
      await gone;
      svc = await tp.connect('svc-narrowed', secret);
      await svc.publishAsync(vehicleTopic(v.id, 'commands'), JSON.stringify(sentinel('after-narrow')), { qos: 1 });
      await tp.platform.broker.publishToVehicle(v.id, 'commands', sentinel('platform-after'));
      await got.waitFor('platform-after');
      expect(got.seen.map((s) => s.cmd.id)).toEqual(['before-narrow', 'platform-after']);
    } finally {
      await gw.stop();
      await svc.endAsync();
    }
  });

  it('the platform’s own commands (operator, backfill) are recorded with their acks too', async () => {
    const v = await tp.addVehicle('SCOPE-P1', 'UNIT-P');
    const clock = createManualClock(Date.now());
    const gw = newGateway(v.id, v.secret, clock);
    const got = answers(gw);
    try {
      await online(gw, clock);
      const acked = ackAtPlatform(v.id, 'plat-1');
      await tp.platform.broker.publishToVehicle(v.id, 'commands', sentinel('plat-1'));
      await got.waitFor('plat-1');
      await acked;
      expect(await logOf(v.id)).toMatchObject([
        { commandId: 'plat-1', name: 'snapshot', publisher: 'platform', ack: { ok: true } },
      ]);
    } finally {
      await gw.stop();
    }
  });
});
