import { performance } from 'node:perf_hooks';
import type { Socket as NetSocket } from 'node:net';
import type { Client as AedesClient } from 'aedes';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vehicleTopic } from '../../protocol/index.ts';
import { createAccounts } from '../../web/auth/accounts.ts';
import type { LiveAck } from '../../web/live/events.ts';
import { healthy } from '../diagnostics/fixtures.ts';
import { connected, httpLogin, openLive, type LiveClient as Client } from '../helpers/live-client.ts';
import { connectService, startTestPlatform, withTimeout, type TestPlatform } from '../helpers/platform.ts';
import { PASSWORD, RULES, TEST_COST } from '../web/helpers.ts';

const VEHICLES = 10;
/** Each gateway sends a batch this often … */
const SEND_EVERY_MS = 200;
/** … of this many frames (≈ 21 KB): 2,500 frames/s in all, ≈ 1 MB/s to every telemetry subscriber. */
const FRAMES_PER_BATCH = 50;
const LIVE_MAX_BUFFERED = 8;
const LIVE_HARD_CAP = LIVE_MAX_BUFFERED * 16;
const LIVE_SLOW_TIMEOUT_MS = 1500;
const MQTT_MAX_QUEUED_BYTES = 1024 * 1024;

/** Polls `cond` every 20 ms until it holds; fails after `ms` naming `what`. */
async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Consumers that stop reading — a console's socket.io connection, an MQTT service subscriber —
 * slow nobody else down: gateways keep getting their PUBACKs on time and the other consumers keep
 * getting their data; what waits for a stuck consumer is bounded; it is closed and counted.
 */
describe('slow consumers', () => {
  let tp: TestPlatform;
  let base: string;
  const gateways: { id: string; client: MqttClient }[] = [];
  const sockets: Client[] = [];
  const services: MqttClient[] = [];

  beforeAll(async () => {
    tp = await startTestPlatform({
      LIVE_MAX_BUFFERED: String(LIVE_MAX_BUFFERED),
      LIVE_SLOW_TIMEOUT_MS: String(LIVE_SLOW_TIMEOUT_MS),
      LIVE_MAX_RATE_HZ: '20',
      LIVE_FLEET_INTERVAL_MS: '200',
      MQTT_MAX_QUEUED_BYTES: String(MQTT_MAX_QUEUED_BYTES),
      // MQTT_DRAIN_TIMEOUT_MS stays at its default (10 s): a subscriber stuck with a full queue is closed
      // at once, not after the timeout, and nobody waits for it meanwhile
    });
    base = `http://127.0.0.1:${tp.platform.ports.http}`;
    for (let i = 0; i < VEHICLES; i++) {
      const id = `SLOW${String(i).padStart(2, '0')}`;
      const { secret } = await tp.addVehicle(id, 'C1');
      gateways.push({ id, client: await tp.connect(id, secret) });
    }
    // a vehicle of another unit, for an alarm storm the customer's console does not get
    await tp.addVehicle('OTHER1', 'C2');
    const accounts = createAccounts({ db: tp.platform.records }, { passwordCost: TEST_COST });
    for (const id of ['eng-ok', 'eng-stuck-ws'])
      await accounts.add({ id, name: id, role: 'engineer', customerId: null, password: PASSWORD });
    await accounts.add({
      id: 'cust-stuck-poll',
      name: 'customer C1',
      role: 'customer',
      customerId: 'C1',
      password: PASSWORD,
    });
  });

  afterAll(async () => {
    for (const s of sockets) s.disconnect();
    await Promise.all(services.map((c) => c.endAsync(true).catch(() => undefined)));
    await tp.close();
  });

  async function openConsole(username: string, transport: 'websocket' | 'polling') {
    const { cookie } = await httpLogin(base, username, PASSWORD);
    const socket = openLive(base, { cookie }, { transport });
    sockets.push(socket);
    const frames: number[] = [];
    let disconnectedAt: number | null = null;
    socket.on('frame', () => frames.push(performance.now()));
    socket.on('disconnect', () => (disconnectedAt = performance.now()));
    await connected(socket, 5000, `${username} to connect`, 'connect');
    for (const g of gateways) {
      const ack = (await socket.timeout(5000).emitWithAck('subscribe', { vehicleId: g.id })) as LiveAck<{
        vehicleId: string;
      }>;
      expect(ack.ok).toBe(true);
    }
    return { socket, frames, disconnectedAt: () => disconnectedAt, account: username };
  }

  /** The server side of a console connection (undefined once it is gone). */
  const serverSocket = (account: string) =>
    [...tp.platform.web.live!.io.sockets.sockets.values()].find((s) => s.data.account.id === account);
  const backlog = (account: string) =>
    (serverSocket(account)?.conn as unknown as { writeBuffer?: unknown[] } | undefined)?.writeBuffer?.length ?? 0;
  const aedesClient = (id: string) =>
    (tp.platform.broker.aedes as unknown as { clients: Record<string, AedesClient> }).clients[id];
  const queuedBytes = (id: string) => (aedesClient(id)?.conn as Partial<NetSocket> | undefined)?.writableLength ?? 0;

  it('a console and an MQTT subscriber that stop reading slow nobody else, stay bounded, and are closed and counted', async () => {
    // consumers: two that keep reading, three that will stop
    const ok = await openConsole('eng-ok', 'websocket');
    const stuckWs = await openConsole('eng-stuck-ws', 'websocket');
    const stuckPoll = await openConsole('cust-stuck-poll', 'polling');
    const svcOk = await connectService(tp, 'svc-ok');
    const svcStuck = await connectService(tp, 'svc-stuck');
    services.push(svcOk, svcStuck);
    let svcOkMessages = 0;
    const svcOkAt: number[] = [];
    svcOk.on('message', () => {
      svcOkMessages++;
      svcOkAt.push(performance.now());
    });
    // a vehicle listens for commands: the platform's commands go through the same broker
    const commanded = gateways[0]!;
    const commandsAt = new Map<string, number>();
    const commandLatencies: number[] = [];
    commanded.client.on('message', (_topic, payload) => {
      const sent = commandsAt.get((JSON.parse(payload.toString()) as { id: string }).id);
      if (sent !== undefined) commandLatencies.push(performance.now() - sent);
    });
    await commanded.client.subscribeAsync(vehicleTopic(commanded.id, 'commands'), { qos: 1 });
    for (const s of [svcOk, svcStuck]) await s.subscribeAsync('v1/vehicles/+/telemetry', { qos: 1 });

    // gateways: a 100-frame batch every 100 ms each, PUBACK latency recorded
    let running = true;
    let sample: NodeJS.Timeout | undefined;
    let commander: NodeJS.Timeout | undefined;
    const latencies: { at: number; ms: number }[] = [];
    const t0 = Date.now() - 10 * 60_000;
    const loops = gateways.map(async (g, gi) => {
      let seq = 0;
      for (let round = 0; running && round < 600; round++) {
        const started = performance.now();
        const frames = Array.from({ length: FRAMES_PER_BATCH }, () => {
          const s = seq++;
          return healthy(s, t0 + s * 10 + gi);
        });
        await g.client.publishAsync(vehicleTopic(g.id, 'telemetry'), JSON.stringify({ frames }), { qos: 1 });
        const done = performance.now();
        latencies.push({ at: done, ms: done - started });
        await new Promise((r) => setTimeout(r, Math.max(0, SEND_EVERY_MS - (done - started))));
      }
    });

    try {
      await until(
        () =>
          ok.frames.length >= 20 && stuckWs.frames.length >= 5 && stuckPoll.frames.length >= 5 && svcOkMessages >= 20,
        10_000,
        'every consumer to get data',
      );

      // stop reading: the WebSocket's and the MQTT subscriber's TCP sockets are paused; the polling one stops polling
      (
        stuckWs.socket.io.engine as unknown as { transport: { ws: { _socket: NetSocket } } }
      ).transport.ws._socket.pause();
      (svcStuck.stream as unknown as NetSocket).pause();
      await withTimeout(
        new Promise<void>((resolve) =>
          (stuckPoll.socket.io.engine as unknown as { transport: { pause(cb: () => void): void } }).transport.pause(
            resolve,
          ),
        ),
        5000,
        'polling to pause',
      );
      const pausedAt = performance.now();
      const wsFramesAtPause = stuckWs.frames.length;
      // meanwhile the platform sends a command to a vehicle every 250 ms
      let commandNo = 0;
      commander = setInterval(() => {
        const id = `cmd-${commandNo++}`;
        commandsAt.set(id, performance.now());
        void tp.platform.broker.publishToVehicle(commanded.id, 'commands', {
          id,
          ts: Date.now(),
          name: 'snapshot',
          args: {},
        });
      }, 250);

      // watch the stuck ones from the pause on (the storm below can take seconds on a busy machine, and the
      // stuck polling console may be closed during it): what waits for them, and when the platform closes them
      let maxWsBacklog = 0;
      let maxPollBacklog = 0;
      let maxQueued = 0;
      sample = setInterval(() => {
        maxWsBacklog = Math.max(maxWsBacklog, backlog('eng-stuck-ws'));
        maxPollBacklog = Math.max(maxPollBacklog, backlog('cust-stuck-poll'));
        maxQueued = Math.max(maxQueued, queuedBytes('svc-stuck'));
      }, 10);

      // an alarm storm (alarms are never dropped) on another unit's vehicle: it fills the stuck staff
      // WebSocket's buffers in the kernel, so that its connection falls behind, as it would under a long
      // flood of frames; the customer's polling console, stuck too, falls behind on its own frames
      const alarm = (
        await tp.platform.diagnostics.alarms.raise(
          'OTHER1',
          RULES.rules.find((r) => r.id === 'battery_over_temperature')!,
          Date.now(),
          true,
          { note: 'x'.repeat(1500) },
        )
      ).alarm;
      let storm = 0;
      while (serverSocket('eng-stuck-ws') && storm < 20_000 && performance.now() - pausedAt < 15_000) {
        for (let i = 0; i < 50; i++, storm++) tp.platform.bus.emit('alarm.updated', { alarm });
        await new Promise((r) => setImmediate(r));
        maxPollBacklog = Math.max(maxPollBacklog, backlog('cust-stuck-poll'));
        if (backlog('eng-stuck-ws') >= LIVE_MAX_BUFFERED) break;
      }

      await until(
        () => !serverSocket('eng-stuck-ws') && !serverSocket('cust-stuck-poll') && !aedesClient('svc-stuck'),
        20_000,
        'the stuck consumers to be closed',
      );
      const closedAt = performance.now();
      // and a while longer, to see the others carry on at full rate
      const okFramesAtClose = ok.frames.length;
      const svcAtClose = svcOkMessages;
      await new Promise((r) => setTimeout(r, 1000));
      running = false;
      await Promise.all(loops);
      clearInterval(sample);
      clearInterval(commander);

      // nobody was held up: every PUBACK came quickly, before, during and after
      const during = latencies.filter((l) => l.at > pausedAt);
      expect(during.length).toBeGreaterThan(VEHICLES * 10);
      const slowest = Math.max(...during.map((l) => l.ms));
      expect(slowest, 'the slowest PUBACK while consumers were stuck (ms)').toBeLessThan(1000);
      const rate = (from: number, to: number) =>
        latencies.filter((l) => l.at > from && l.at <= to).length / ((to - from) / 1000);
      expect(rate(pausedAt, closedAt + 1000)).toBeGreaterThan(0.5 * (1000 / SEND_EVERY_MS) * VEHICLES);
      // the consumers that read kept getting data
      expect(ok.frames.length - okFramesAtClose).toBeGreaterThan(VEHICLES);
      expect(ok.frames.filter((t) => t > pausedAt && t <= closedAt).length).toBeGreaterThan(
        VEHICLES * ((closedAt - pausedAt) / 1000) * 0.5,
      );
      expect(svcOkMessages - svcAtClose).toBeGreaterThan(VEHICLES);
      // … without a pause: the other subscriber's messages, and the platform's commands to vehicles
      const okGaps = svcOkAt.filter((t) => t > pausedAt).map((t, i, a) => (i === 0 ? t - pausedAt : t - a[i - 1]!));
      expect(Math.max(...okGaps), 'the longest wait between two messages at the other subscriber (ms)').toBeLessThan(
        1000,
      );
      expect(commandLatencies.length).toBeGreaterThanOrEqual(commandNo - 2);
      expect(Math.max(...commandLatencies), 'the slowest command delivery (ms)').toBeLessThan(1000);
      expect(ok.disconnectedAt()).toBeNull();
      expect(aedesClient('svc-ok')).toBeDefined();
      expect(stuckWs.frames.length).toBe(wsFramesAtPause); // it really read nothing

      // bounded: a stuck console holds at most the hard cap of messages (frames beyond LIVE_MAX_BUFFERED are
      // dropped), the stuck MQTT subscriber at most MQTT_MAX_QUEUED_BYTES
      expect(maxWsBacklog).toBeGreaterThanOrEqual(LIVE_MAX_BUFFERED);
      expect(maxWsBacklog).toBeLessThanOrEqual(LIVE_HARD_CAP);
      expect(maxPollBacklog).toBeGreaterThanOrEqual(LIVE_MAX_BUFFERED);
      expect(maxPollBacklog).toBeLessThanOrEqual(LIVE_MAX_BUFFERED + 4); // frames only: dropped beyond
      expect(maxQueued).toBeLessThanOrEqual(MQTT_MAX_QUEUED_BYTES);
      // closed and counted
      const c = tp.platform.counters;
      expect(c.get('live.slow_disconnected')).toBeGreaterThanOrEqual(2);
      expect(c.get('live.frames_dropped')).toBeGreaterThan(0);
      expect(c.get('mqtt.slow_consumer_disconnected', 'svc-stuck')).toBe(1);
      expect(c.get('mqtt.slow_consumer_disconnected')).toBe(1);
      // the engine connections are gone too, not only the socket.io sessions (what waited is freed)
      expect(tp.platform.web.live!.connections()).toBe(1);
    } finally {
      running = false;
      if (sample) clearInterval(sample);
      if (commander) clearInterval(commander);
      await Promise.all(loops);
    }
  });
});

describe('an MQTT subscriber stuck with bytes queued and nothing more coming', () => {
  it('is closed once MQTT_DRAIN_TIMEOUT_MS passed without progress, and counted', async () => {
    const DRAIN_MS = 1500;
    const tp = await startTestPlatform({
      MQTT_DRAIN_TIMEOUT_MS: String(DRAIN_MS),
      MQTT_MAX_QUEUED_BYTES: String(64 * 1024 * 1024),
    });
    try {
      const { secret } = await tp.addVehicle('BURST1');
      const gw = await tp.connect('BURST1', secret);
      const stuck = await connectService(tp, 'svc-stuck-quiet');
      await stuck.subscribeAsync('v1/vehicles/+/telemetry', { qos: 1 });
      (stuck.stream as unknown as NetSocket).pause();
      const client = () =>
        (tp.platform.broker.aedes as unknown as { clients: Record<string, AedesClient> }).clients['svc-stuck-quiet'];
      const queued = () => (client()?.conn as Partial<NetSocket> | undefined)?.writableLength ?? 0;
      // a burst larger than the kernel buffers for one connection (a few MB on loopback), then silence
      const t0 = Date.now() - 3_600_000;
      let seq = 0;
      for (let i = 0; i < 1000 && queued() < 256 * 1024; i++) {
        const frames = Array.from({ length: 100 }, () => healthy(seq, t0 + seq++ * 10));
        await gw.publishAsync(vehicleTopic('BURST1', 'telemetry'), JSON.stringify({ frames }), { qos: 1 });
      }
      expect(queued()).toBeGreaterThan(0);
      const quietFrom = performance.now();
      await until(() => !client(), DRAIN_MS + 3000, 'the stuck subscriber to be closed');
      expect(performance.now() - quietFrom).toBeLessThanOrEqual(DRAIN_MS + 1000);
      expect(tp.platform.counters.get('mqtt.slow_consumer_disconnected', 'svc-stuck-quiet')).toBe(1);
      // the gateway goes on as before
      await gw.publishAsync(vehicleTopic('BURST1', 'telemetry'), JSON.stringify(healthy(seq, t0 + seq * 10)), {
        qos: 1,
      });
      await stuck.endAsync(true);
    } finally {
      await tp.close();
    }
  });
});
