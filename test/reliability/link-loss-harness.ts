import { once } from 'node:events';
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { expect } from 'vitest';
import type { TelemetryFrame } from '../../protocol/index.ts';
import { createManualClock, type ManualClock } from '../../simulators/clock.ts';
import { createGateway, type Gateway, type GatewayOptions } from '../../simulators/gateway/gateway.ts';
import { createVehicleModel } from '../../simulators/model/vehicle.ts';
import type { TestPlatform } from '../helpers/platform.ts';

/** Link-loss tests: a gateway on a manual clock against the embedded platform, with helpers to wait without sleeping. */

/** Polls `cond` (every 10 ms of wall time) until it holds; fails after `ms` naming `what`. */
export async function until(cond: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Moves simulated time by `seconds` in steps of `stepS`, ticking the gateway, yielding to I/O now and then. */
export async function advance(clock: ManualClock, gw: Gateway, seconds: number, stepS = 1) {
  for (let done = 0, i = 0; done < seconds; i++) {
    const s = Math.min(stepS, seconds - done);
    clock.advance(s * 1000);
    gw.tick();
    done += s;
    if (i % 50 === 0) await new Promise((r) => setImmediate(r));
  }
}

export function once1(
  gw: Gateway,
  event: 'connected' | 'disconnected' | 'drained' | 'confirmed' | 'command' | 'connect-failed',
): Promise<unknown[]> {
  return new Promise((resolve) => {
    const off = gw.on(event, (...args: never[]) => {
      off();
      resolve(args);
    });
  });
}

/** Ticks the gateway (1 s steps) until it is online; each CONNECT attempt ends in 'connected' or 'connect-failed'. */
export async function reconnect(clock: ManualClock, gw: Gateway) {
  for (let attempt = 0; attempt < 20 && gw.state() !== 'online'; attempt++) {
    for (let i = 0; i < 60 && gw.state() !== 'connecting' && gw.state() !== 'online'; i++) await advance(clock, gw, 1);
    if (gw.state() !== 'connecting') continue;
    await Promise.race([once1(gw, 'connected'), once1(gw, 'connect-failed')]);
  }
  expect(gw.state()).toBe('online');
}

/** Waits until the gateway holds nothing: every frame acknowledged and confirmed by the platform. */
export async function emptied(gw: Gateway, ms = 15_000) {
  try {
    await until(
      () => gw.stats().buffered === 0 && gw.stats().unconfirmed === 0 && gw.heldFrames().length === 0,
      ms,
      `${gw.vehicleId}'s buffer to empty (confirmed)`,
    );
  } catch (err) {
    const s = gw.stats();
    const held = gw.heldFrames();
    throw new Error(
      `${(err as Error).message}: buffered ${s.buffered}, unconfirmed ${s.unconfirmed}, held ${held.length} (seq ${held[0]?.seq}–${held.at(-1)?.seq}), confirmed ${JSON.stringify(s.confirmed)}`,
    );
  }
}

export function newGateway(
  tp: TestPlatform,
  id: string,
  secret: string,
  clock: ManualClock,
  extra: Partial<GatewayOptions> & {
    connect?: (url: string, o: IClientOptions) => MqttClient;
    brokerUrl?: string;
  } = {},
) {
  const { connect, brokerUrl, ...opts } = extra;
  const model = createVehicleModel({
    vehicleId: id,
    seed: 7,
    startTs: clock.now(),
    mainsOutagesPerDay: 0,
    drivesPerDay: 0,
  });
  return createGateway(
    { clock, model, random: () => 0.5, ...(connect ? { connect } : {}) },
    {
      vehicleId: id,
      secret,
      brokerUrl: brokerUrl ?? tp.mqttUrl,
      rateHz: 1,
      reconnectMinMs: 1000,
      reconnectMaxMs: 5000,
      ...opts,
    },
  );
}

export { createManualClock };

/**
 * An MQTT.js connect whose client loses the telemetry frames with the given seqs once each, after the
 * gateway handed them over, and reports the message acknowledged: a frame lost between gateway and
 * store that the PUBACK does not reveal (a broken bridge, a restored backup). Only the seq gap shows it.
 */
export function lossyConnect(lose: Set<number>): (url: string, o: IClientOptions) => MqttClient {
  return (url, o) => {
    const c = mqtt.connect(url, o);
    const publish = c.publish.bind(c) as (
      topic: string,
      payload: string,
      opts: object,
      cb?: (err?: Error) => void,
    ) => MqttClient;
    (c as unknown as { publish: typeof publish }).publish = (topic, payload, opts, cb) => {
      if (topic.endsWith('/telemetry') && lose.size) {
        const v = JSON.parse(payload) as TelemetryFrame | { frames: TelemetryFrame[] };
        const frames = 'frames' in v ? v.frames : [v];
        const kept = frames.filter((f) => !lose.delete(f.seq));
        if (kept.length === 0) {
          queueMicrotask(() => cb?.());
          return c;
        }
        if (kept.length < frames.length)
          payload = kept.length === 1 ? JSON.stringify(kept[0]) : JSON.stringify({ frames: kept });
      }
      return publish(topic, payload, opts, cb);
    };
    return c;
  };
}

/** A TCP proxy in front of the broker whose target can change (a restarted platform listens on a new port). */
export async function startProxy(targetPort: number) {
  const sockets = new Set<Socket>();
  let target = targetPort;
  const server: Server = createServer((client) => {
    const upstream = netConnect(target, '127.0.0.1');
    sockets.add(client).add(upstream);
    client.pipe(upstream).pipe(client);
    const close = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    retarget(p: number) {
      target = p;
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** Every stored frame of a vehicle, ordered by ts (then seq). */
export async function storedFrames(tp: TestPlatform, id: string): Promise<TelemetryFrame[]> {
  return (await tp.platform.telemetry.frames(id, 0, Date.now() + 3_600_000, 1_000_000)).map((r) => r.frame);
}

/** Each seq once, in ts order, ts strictly increasing. */
export function expectInOrderOnce(frames: readonly TelemetryFrame[], expectedSeqs: readonly number[]) {
  expect(frames.map((f) => f.seq)).toEqual(expectedSeqs);
  for (let i = 1; i < frames.length; i++)
    if (!(frames[i]!.ts > frames[i - 1]!.ts)) throw new Error(`ts not increasing at index ${i}`);
}

export const seqRange = (from: number, to: number) =>
  Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
