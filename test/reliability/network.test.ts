import { performance } from 'node:perf_hooks';
import mqtt, { type MqttClient } from 'mqtt';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PlatformEvents } from '../../core/events.ts';
import { vehicleTopic } from '../../protocol/index.ts';
import { createScaledClock } from '../../simulators/clock.ts';
import { createGateway, type Gateway } from '../../simulators/gateway/gateway.ts';
import { createVehicleModel } from '../../simulators/model/vehicle.ts';
import {
  connectService,
  frame,
  inbox,
  startTestPlatform,
  withTimeout,
  type TestPlatform,
} from '../helpers/platform.ts';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.ts';
import { telemetryFile } from '../../platform/data-files.ts';

/** Keepalive of the gateways in this file, seconds: the broker must drop a dead link within 1.5× that. */
const KEEPALIVE_S = 2;
/** Timer and event-loop slack allowed on top of 1.5 × keepalive (2 shared cores, other test files beside). */
const SLACK_MS = 600;

/** Polls `cond` every 20 ms until it holds; fails after `ms` naming `what`. */
async function until(cond: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = performance.now() + ms;
  while (!(await cond())) {
    if (performance.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Network faults between gateways and the broker, through a TCP proxy (tcp-proxy.ts): a dead link
 * (black-holed, or half-open) is closed by the broker within 1.5 × keepalive and the last will
 * marks the vehicle offline; meanwhile the broker keeps serving everybody else; a gateway that
 * reconnects resumes and its unacknowledged frames arrive, each stored once.
 */
describe('network faults', () => {
  let tp: TestPlatform;
  const proxies: TcpProxy[] = [];
  const clients: MqttClient[] = [];
  const gateways: Gateway[] = [];

  beforeAll(async () => {
    tp = await startTestPlatform();
  });
  afterAll(async () => {
    for (const g of gateways) await g.stop().catch(() => undefined);
    await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
    for (const p of proxies) await p.close();
    await tp.close();
  });

  async function proxy(): Promise<TcpProxy> {
    const p = await startTcpProxy({ port: Number(new URL(tp.mqttUrl).port) });
    proxies.push(p);
    return p;
  }

  /** A plain gateway connection through `url`, with the protocol's last will, announced online. */
  async function gateway(id: string, url: string): Promise<MqttClient> {
    const { secret } = await tp.addVehicle(id);
    const c = mqtt.connect(url, {
      clientId: id,
      username: id,
      password: secret,
      protocolVersion: 4,
      clean: true,
      keepalive: KEEPALIVE_S,
      reconnectPeriod: 0,
      connectTimeout: 5000,
      will: {
        topic: vehicleTopic(id, 'status'),
        payload: Buffer.from(JSON.stringify({ online: false, ts: Date.now() })),
        qos: 1,
        retain: true,
      },
    });
    clients.push(c);
    c.on('error', () => undefined);
    await withTimeout(new Promise<void>((resolve) => c.once('connect', () => resolve())), 5000, `${id} to connect`);
    await c.publishAsync(vehicleTopic(id, 'status'), JSON.stringify({ online: true, ts: Date.now() }), {
      qos: 1,
      retain: true,
    });
    return c;
  }

  function disconnectOf(vehicleId: string): Promise<PlatformEvents['vehicle.disconnected'] & { seenAt: number }> {
    return new Promise((resolve) => {
      const off = tp.platform.bus.on('vehicle.disconnected', (e) => {
        if (e.vehicleId !== vehicleId) return;
        off();
        resolve({ ...e, seenAt: Date.now() });
      });
    });
  }

  it('a black-holed or half-open link is closed by the broker within 1.5 × keepalive and the will marks the vehicle offline, while the broker keeps serving the others', async () => {
    const watcher = await connectService(tp, 'svc-net-watch');
    clients.push(watcher);
    const seen = inbox(watcher);
    await watcher.subscribeAsync(['v1/vehicles/+/status', 'v1/vehicles/+/telemetry'], { qos: 1 });

    const deadProxy = await proxy();
    const halfProxy = await proxy();
    const slowProxy = await proxy();
    const dead = await gateway('NET-DEAD', deadProxy.url());
    const half = await gateway('NET-HALF', halfProxy.url());
    const slow = await gateway('NET-SLOW', slowProxy.url());
    const direct = await gateway('NET-DIRECT', tp.mqttUrl);
    for (const [id, c] of [
      ['NET-DEAD', dead],
      ['NET-HALF', half],
    ] as const) {
      await c.publishAsync(vehicleTopic(id, 'telemetry'), JSON.stringify(frame(0)), { qos: 1 });
    }
    await seen.waitFor(
      (m) => m.topic === vehicleTopic('NET-HALF', 'status') && (m.json as { online?: boolean }).online === true,
      5000,
      'NET-HALF online',
    );

    // the others keep going while the faults happen: a direct gateway, and one behind 400 ms of latency
    const SLOW_DELAY_MS = 400;
    slowProxy.delay(SLOW_DELAY_MS);
    let running = true;
    const directLatencies: number[] = [];
    const directLoop = (async () => {
      for (let seq = 1; running && seq < 2000; seq++) {
        const t = performance.now();
        await direct.publishAsync(vehicleTopic('NET-DIRECT', 'telemetry'), JSON.stringify(frame(seq, Date.now())), {
          qos: 1,
        });
        directLatencies.push(performance.now() - t);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const slowLatencies: number[] = [];
    const slowLoop = (async () => {
      for (let seq = 1; running && seq < 100; seq++) {
        const t = performance.now();
        await slow.publishAsync(vehicleTopic('NET-SLOW', 'telemetry'), JSON.stringify(frame(seq, Date.now())), {
          qos: 1,
        });
        slowLatencies.push(performance.now() - t);
      }
    })();

    const deadGone = disconnectOf('NET-DEAD');
    const halfGone = disconnectOf('NET-HALF');
    await new Promise((r) => setTimeout(r, 300));
    deadProxy.blackhole();
    halfProxy.halfOpen('client');
    const [d, h] = await withTimeout(
      Promise.all([deadGone, halfGone]),
      1.5 * KEEPALIVE_S * 1000 + 3000,
      'the broker to close the dead links',
    );
    for (const [e, p] of [
      [d, deadProxy],
      [h, halfProxy],
    ] as const) {
      expect(e.reason).toBe('keepalive timeout');
      // measured from the last byte that reached the broker on that link
      const silentFor = e.seenAt - p.lastToServerAt()!;
      expect(silentFor).toBeGreaterThanOrEqual(1.5 * KEEPALIVE_S * 1000 - 50);
      expect(silentFor).toBeLessThanOrEqual(1.5 * KEEPALIVE_S * 1000 + SLACK_MS);
    }
    // the client of the half-open link saw its connection close; the black-holed one did not yet
    expect(half.connected).toBe(false);

    // the last will went out, retained: a live subscriber got it, a late one finds it
    for (const id of ['NET-DEAD', 'NET-HALF']) {
      await seen.waitFor(
        (m) => m.topic === vehicleTopic(id, 'status') && (m.json as { online?: boolean }).online === false,
        2000,
        `${id}'s last will`,
      );
      await until(
        async () => (await tp.platform.presence.get(id))?.online === false,
        2000,
        `${id} offline in the registry`,
      );
      expect(await tp.platform.presence.get(id)).toMatchObject({
        online: false,
        disconnectReason: 'keepalive timeout',
      });
    }
    const late = await connectService(tp, 'svc-net-late');
    clients.push(late);
    const lateSeen = inbox(late);
    await late.subscribeAsync('v1/vehicles/+/status', { qos: 1 });
    for (const id of ['NET-DEAD', 'NET-HALF']) {
      const m = await lateSeen.waitFor((x) => x.topic === vehicleTopic(id, 'status'), 2000, `${id}'s retained status`);
      expect(m.retain).toBe(true);
      expect(m.json).toMatchObject({ online: false });
    }
    expect(await tp.platform.presence.get('NET-DIRECT')).toMatchObject({ online: true });

    running = false;
    await Promise.all([directLoop, slowLoop]);
    // the direct gateway was served throughout: PUBACKs (after the commit) kept coming quickly
    expect(directLatencies.length).toBeGreaterThan(50);
    expect(Math.max(...directLatencies)).toBeLessThan(1000);
    const sorted = [...directLatencies].sort((a, b) => a - b);
    expect(sorted[Math.floor(sorted.length / 2)]!).toBeLessThan(100);
    // the slow link works, only slower (one round trip through the proxy is 2 × the delay)
    expect(slowLatencies.length).toBeGreaterThan(2);
    expect(Math.min(...slowLatencies)).toBeGreaterThanOrEqual(2 * SLOW_DELAY_MS - 20);
    // and the subscriber got the direct gateway's frames live
    await seen.waitFor(
      (m) =>
        m.topic === vehicleTopic('NET-DIRECT', 'telemetry') &&
        (m.json as { seq: number }).seq === directLatencies.length,
      2000,
      'the last direct frame',
    );
    expect(await tp.platform.telemetry.count('NET-SLOW')).toBe(slowLatencies.length);
  });

  /**
   * A reference gateway at 10 Hz through its own proxy: `outage` breaks the link while it streams
   * (frames are sampled and sent meanwhile, their PUBACKs never come); then every frame must arrive,
   * each stored once, with no gap.
   */
  async function gatewayThroughOutage(
    vehicleId: string,
    keepaliveS: number,
    outage: (link: TcpProxy, gw: Gateway) => Promise<void>,
  ) {
    const link = await proxy();
    const { secret } = await tp.addVehicle(vehicleId);
    const clock = createScaledClock({ startTs: Date.now(), speed: 1 });
    const model = createVehicleModel({
      vehicleId,
      seed: 11,
      startTs: clock.now(),
      mainsOutagesPerDay: 0,
      drivesPerDay: 0,
    });
    const gw = createGateway(
      { clock, model, random: () => 0.5 },
      { vehicleId, secret, brokerUrl: link.url(), rateHz: 10, keepaliveS, reconnectMinMs: 200, reconnectMaxMs: 1000 },
    );
    gateways.push(gw);
    gw.start();
    const ticker = setInterval(() => gw.tick(), 25);
    try {
      await until(() => gw.stats().framesAcked >= 20, 10_000, '20 acknowledged frames');
      await outage(link, gw);
      await until(() => gw.state() === 'online', 10_000, 'the gateway to reconnect');
      const drained = new Promise<void>((resolve) => {
        const off = gw.on('drained', () => {
          clearInterval(ticker); // no more samples: the buffer stays empty
          off();
          resolve();
        });
      });
      await withTimeout(drained, 10_000, 'the backlog to be acknowledged');
      const stats = gw.stats();
      expect(stats.connects).toBeGreaterThanOrEqual(2);
      expect(stats.buffered).toBe(0);
      expect(stats.dropped).toBe(0);
      expect(stats.framesAcked).toBe(stats.framesSampled);

      // on disk (acknowledged means committed): every sampled seq exactly once, no gap
      const db = new Database(telemetryFile(tp.dataDir), { readonly: true });
      try {
        const rows = db
          .prepare(`SELECT seq, count(*) AS n FROM telemetry WHERE vehicle_id = ? GROUP BY seq ORDER BY seq`)
          .all(vehicleId) as { seq: number; n: number }[];
        expect(rows.filter((r) => r.n !== 1)).toEqual([]);
        expect(rows.length).toBe(stats.framesSampled);
        expect(rows[0]!.seq).toBe(0);
        expect(rows[rows.length - 1]!.seq).toBe(stats.framesSampled - 1);
      } finally {
        db.close();
      }
      expect(await tp.platform.presence.get(vehicleId)).toMatchObject({ online: true });
    } finally {
      clearInterval(ticker);
    }
  }

  it('a gateway whose link went dead, then was reset, reconnects and resumes: its unacknowledged frames arrive, each stored once', async () => {
    await gatewayThroughOutage('NET-GW', 30, async (link, gw) => {
      const gone = disconnectOf('NET-GW');
      // dead for a second (what the gateway sends is lost, PUBACKs never come), new connections too …
      link.blackhole({ newConnections: true });
      await new Promise((r) => setTimeout(r, 1000));
      // … then the connection is reset (both ends see it close) while new ones stay held another second
      link.cutAll();
      expect((await withTimeout(gone, 3000, 'the broker to see the reset')).reason).not.toBe('keepalive timeout');
      await until(() => gw.state() !== 'online', 3000, 'the gateway to notice');
      // frames were sampled meanwhile and not acknowledged: they wait in the gateway's buffer
      expect(gw.stats().buffered).toBeGreaterThanOrEqual(5);
      await until(async () => (await tp.platform.presence.get('NET-GW'))?.online === false, 2000, 'NET-GW offline');
      await new Promise((r) => setTimeout(r, 1000));
      link.restore();
    });
  });

  // MQTT.js fails the callbacks of messages in flight in a loop when its keepalive times out; the
  // gateway must not end the client inside that loop (it once crashed the process with
  // "Cannot read properties of undefined (reading 'cb')").
  it('a gateway that finds its link dead by its own keepalive, messages in flight, reconnects and resumes', async () => {
    await gatewayThroughOutage('NET-GW-KA', KEEPALIVE_S, async (link, gw) => {
      const gone = disconnectOf('NET-GW-KA');
      link.blackhole(); // existing connection only: the next one goes through
      expect(
        (await withTimeout(gone, 1.5 * KEEPALIVE_S * 1000 + 3000, 'the broker to drop the dead session')).reason,
      ).toBe('keepalive timeout');
      await until(() => gw.state() !== 'online', 5000, 'the gateway to notice by its keepalive');
    });
  });
});
