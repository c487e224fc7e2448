import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommandAck, TelemetryFrame, VehicleEvent, VehicleStatus } from '../../protocol/index.ts';
import { createManualClock, type ManualClock } from '../../simulators/clock.ts';
import { createDiskJournal } from '../../simulators/gateway/disk-journal.ts';
import { createFrameBuffer } from '../../simulators/gateway/frame-buffer.ts';
import { createGateway, type Gateway } from '../../simulators/gateway/gateway.ts';
import { createVehicleModel } from '../../simulators/model/vehicle.ts';
import { plannedFault, toModelFault } from '../../simulators/scenarios/plan.ts';
import { startTestPlatform, type TestPlatform } from '../helpers/platform.ts';

/** A TCP proxy to the broker whose link can be cut (existing connections dropped, new ones refused). */
async function startProxy(targetPort: number) {
  const sockets = new Set<Socket>();
  let up = true;
  const server: Server = createServer((client) => {
    if (!up) return void client.destroy();
    const upstream = netConnect(targetPort, '127.0.0.1');
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
    cut() {
      up = false;
      for (const s of sockets) s.destroy();
    },
    restore() {
      up = true;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** Advances simulated time in 1 s steps, ticking the gateway, at most `maxS` times or until `until()` holds. */
async function advance(clock: ManualClock, gw: Gateway, seconds: number, until?: () => boolean) {
  for (let i = 0; i < seconds; i++) {
    if (until?.()) return;
    clock.advance(1000);
    gw.tick();
    if (i % 50 === 0) await new Promise((r) => setImmediate(r));
  }
}

/** Moves simulated time on until the gateway is online: each attempt ends in 'connected' or 'connect-failed'. */
async function reconnect(clock: ManualClock, gw: Gateway) {
  for (let attempt = 0; attempt < 20 && gw.state() !== 'online'; attempt++) {
    if (gw.state() !== 'connecting')
      await advance(clock, gw, 60, () => gw.state() === 'connecting' || gw.state() === 'online');
    if (gw.state() !== 'connecting') continue;
    await new Promise<void>((resolve) => {
      const offs = [gw.on('connected', done), gw.on('connect-failed', done)];
      function done() {
        offs.forEach((off) => off());
        resolve();
      }
    });
  }
  expect(gw.state()).toBe('online');
}

const waitFor = (gw: Gateway, event: 'connected' | 'disconnected' | 'drained' | 'booted') =>
  new Promise<void>((resolve) => {
    const off = gw.on(event, () => {
      off();
      resolve();
    });
  });

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
  brokerUrl: string,
  extra: Partial<Parameters<typeof createGateway>[1]> = {},
) {
  const model = createVehicleModel({
    vehicleId: id,
    seed: 5,
    startTs: clock.now(),
    mainsOutagesPerDay: 0,
    drivesPerDay: 0,
  });
  return createGateway(
    { clock, model, random: () => 0.5 },
    { vehicleId: id, secret, brokerUrl, rateHz: 1, reconnectMinMs: 1000, reconnectMaxMs: 5000, ...extra },
  );
}

describe('reference gateway against the embedded platform', () => {
  it('store-and-forward: 10 simulated minutes cut off, then every frame in order, no gap, no duplicate', async () => {
    const { id, secret } = await tp.addVehicle('SF1');
    const proxy = await startProxy(Number(new URL(tp.mqttUrl).port));
    const clock = createManualClock(Date.now() - 30 * 60_000);
    const gw = newGateway(id, secret, clock, proxy.url);
    const stored: TelemetryFrame[] = [];
    const statuses: VehicleStatus[] = [];
    const offStored = tp.platform.bus.on(
      'telemetry.stored',
      (e) => void (e.vehicleId === id && stored.push(...e.frames)),
    );
    const offStatus = tp.platform.bus.on('vehicle.status', (e) => void (e.vehicleId === id && statuses.push(e.status)));
    try {
      const connected = waitFor(gw, 'connected');
      gw.start();
      gw.tick();
      await connected;
      await advance(clock, gw, 60);
      if (gw.stats().buffered > 0) await waitFor(gw, 'drained');
      expect(gw.stats().framesAcked).toBe(61);

      const lost = waitFor(gw, 'disconnected');
      proxy.cut();
      await lost;
      await advance(clock, gw, 600);
      expect(gw.stats().buffered).toBe(600);
      expect(gw.stats().state).not.toBe('online');
      await new Promise((r) => setImmediate(r));
      expect(statuses.at(-1)?.online).toBe(false); // the last will

      proxy.restore();
      await reconnect(clock, gw);
      if (gw.stats().buffered) await waitFor(gw, 'drained');
      const s = gw.stats();
      expect(s.buffered).toBe(0);
      expect(s.batchesSent).toBeGreaterThanOrEqual(2); // 600+ frames need at least two ≤500-frame batches

      const rows = await tp.platform.telemetry.frames(id, 0, Date.now() + 3_600_000);
      const seqs = rows.map((r) => r.frame.seq);
      expect(seqs).toEqual(Array.from({ length: s.framesSampled }, (_, i) => i)); // every frame once, no gap
      expect(stored.map((f) => f.seq)).toEqual(seqs); // arrived in order
      expect(statuses.at(-1)?.online).toBe(true);
    } finally {
      offStored();
      offStatus();
      await gw.stop();
      await proxy.close();
    }
  });

  it('link-loss scenario: last will, buffered, replayed without gaps', async () => {
    const { id, secret } = await tp.addVehicle('LL1');
    const clock = createManualClock(Date.now() - 20 * 60_000);
    const gw = newGateway(id, secret, clock, tp.mqttUrl, {
      faults: [plannedFault('link-loss', clock.now() + 20_000, 120)],
    });
    const statuses: VehicleStatus[] = [];
    const off = tp.platform.bus.on('vehicle.status', (e) => void (e.vehicleId === id && statuses.push(e.status)));
    try {
      const connected = waitFor(gw, 'connected');
      gw.start();
      gw.tick();
      await connected;
      const lost = waitFor(gw, 'disconnected');
      await advance(clock, gw, 25);
      await lost;
      expect(gw.stats().activeFaults).toContain('link-loss');
      await advance(clock, gw, 120, () => gw.state() === 'connecting');
      expect(gw.stats().buffered).toBeGreaterThan(100);
      await reconnect(clock, gw);
      if (gw.stats().buffered) await waitFor(gw, 'drained');
      expect(statuses.map((s) => s.online)).toEqual([true, false, true]);
      const seqs = (await tp.platform.telemetry.frames(id, 0, Date.now() + 3_600_000)).map((r) => r.frame.seq);
      expect(seqs).toEqual(Array.from({ length: gw.stats().framesSampled }, (_, i) => i));
    } finally {
      off();
      await gw.stop();
    }
  });

  it('gateway-reboot scenario: will, GATEWAY_BOOT, seq restarts at 0 without a disk buffer while ts moves on', async () => {
    const { id, secret } = await tp.addVehicle('RB1');
    const clock = createManualClock(Date.now() - 20 * 60_000);
    const gw = newGateway(id, secret, clock, tp.mqttUrl, {
      faults: [plannedFault('gateway-reboot', clock.now() + 30_500, null, { downS: 20 })],
    });
    const events: VehicleEvent[] = [];
    const statuses: boolean[] = [];
    const offE = tp.platform.bus.on('vehicle.event', (e) => void (e.vehicleId === id && events.push(e.event)));
    const offS = tp.platform.bus.on(
      'vehicle.status',
      (e) => void (e.vehicleId === id && statuses.push(e.status.online)),
    );
    try {
      const connected = waitFor(gw, 'connected');
      gw.start();
      gw.tick();
      await connected;
      await advance(clock, gw, 30);
      if (gw.stats().buffered) await waitFor(gw, 'drained');
      const booted = waitFor(gw, 'booted');
      await advance(clock, gw, 25, () => gw.state() === 'offline' || gw.state() === 'connecting');
      await booted;
      await reconnect(clock, gw);
      await advance(clock, gw, 10);
      if (gw.stats().buffered) await waitFor(gw, 'drained');
      await new Promise((r) => setImmediate(r));
      const rows = (await tp.platform.telemetry.frames(id, 0, Date.now() + 3_600_000)).map((r) => r.frame);
      const restartAt = rows.findIndex((f, i) => i > 0 && f.seq < rows[i - 1]!.seq);
      expect(restartAt).toBeGreaterThan(0);
      expect(rows[restartAt]!.seq).toBe(0);
      expect(rows[restartAt]!.ts - rows[restartAt - 1]!.ts).toBeGreaterThanOrEqual(20_000); // the down time
      expect(statuses).toEqual([true, false, true]);
      expect(events.map((e) => e.code)).toContain('GATEWAY_BOOT');
    } finally {
      offE();
      offS();
      await gw.stop();
    }
  });

  it('counts and keeps the platform’s errors answers', async () => {
    const { id, secret } = await tp.addVehicle('ER1');
    const clock = createManualClock(Date.now() + 20 * 60_000); // gateway clock 20 min fast
    const gw = newGateway(id, secret, clock, tp.mqttUrl);
    try {
      const connected = waitFor(gw, 'connected');
      gw.start();
      gw.tick();
      await connected;
      const answered = new Promise<void>((resolve) => {
        const off = gw.on('protocol-error', () => {
          off();
          resolve();
        });
      });
      await advance(clock, gw, 3);
      await answered;
      expect(gw.stats().errorsByCode.ts_out_of_range).toBeGreaterThan(0);
      expect(gw.recentErrors()[0]).toMatchObject({ code: 'ts_out_of_range', topic: `v1/vehicles/${id}/telemetry` });
    } finally {
      await gw.stop();
    }
  });

  it('commands: each acknowledged; unsafe ones refused with a reason', async () => {
    const { id, secret } = await tp.addVehicle('CM1');
    const clock = createManualClock(Date.now() - 20 * 60_000);
    const gw = newGateway(id, secret, clock, tp.mqttUrl);
    const acks = new Map<string, CommandAck>();
    const waiters = new Map<string, (a: CommandAck) => void>();
    const off = tp.platform.bus.on('command.ack', (e) => {
      if (e.vehicleId !== id) return;
      acks.set(e.ack.id, e.ack);
      waiters.get(e.ack.id)?.(e.ack);
    });
    let n = 0;
    const send = (name: string, args: Record<string, unknown> = {}) => {
      const cmdId = `c${++n}`;
      const got = new Promise<CommandAck>((resolve) => waiters.set(cmdId, resolve));
      void tp.platform.broker.publishToVehicle(id, 'commands', { id: cmdId, ts: Date.now(), name, args });
      return got;
    };
    try {
      const connected = waitFor(gw, 'connected');
      gw.start();
      gw.tick();
      await connected;
      await advance(clock, gw, 5);

      expect(await send('setTelemetryRate', { hz: 10, durationS: 60 })).toMatchObject({ ok: true, result: { hz: 10 } });
      const before = gw.stats().framesSampled;
      await advance(clock, gw, 2);
      expect(gw.stats().framesSampled - before).toBeGreaterThanOrEqual(19);
      // back to the base rate at once (a remote session ended before durationS ran out)
      expect(await send('setTelemetryRate', { hz: 'default' })).toMatchObject({
        ok: true,
        result: { hz: 1, durationS: null, default: true },
      });
      const atBase = gw.stats().framesSampled;
      await advance(clock, gw, 4);
      expect(gw.stats().framesSampled - atBase).toBeLessThanOrEqual(5);
      expect(await send('setTelemetryRate', { hz: 'default', durationS: 5 })).toMatchObject({ ok: false });
      expect(await send('setTelemetryRate', { hz: 50 })).toMatchObject({
        ok: false,
        error: expect.stringContaining('hz'),
      });
      expect(await send('snapshot')).toMatchObject({ ok: true, result: { seq: expect.any(Number) } });
      expect(await send('switchSource', { source: 'generator' })).toMatchObject({
        ok: false,
        error: expect.stringContaining('start it first'),
      });
      expect(await send('startGenerator')).toMatchObject({ ok: true });
      await advance(clock, gw, 25);
      expect(await send('switchSource', { source: 'generator' })).toMatchObject({
        ok: true,
        result: { mode: 'generator' },
      });
      expect(await send('switchSource', { source: 'auto' })).toMatchObject({ ok: true });

      // Mains fails: the generator becomes the only source; stopping it is refused.
      gw.model.addFault(toModelFault(plannedFault('mains-outage', clock.now(), 3600), gw.model.profile));
      await advance(clock, gw, 5);
      expect(gw.model.state().source).toBe('generator');
      const refused = await send('stopGenerator');
      expect(refused.ok).toBe(false);
      expect(refused.error).toMatch(/unsafe: the generator is the only AC source/);
      expect(gw.model.state().generatorRunning).toBe(true);
      expect(await send('switchSource', { source: 'mains' })).toMatchObject({
        ok: false,
        error: 'unsafe: mains is not present',
      });
      expect(await send('resetFault', { code: 'GEN_OVERHEAT_SHUTDOWN' })).toMatchObject({
        ok: false,
        error: 'no latched fault GEN_OVERHEAT_SHUTDOWN',
      });
      expect(await send('resetFault', { fault: 'mains-outage' })).toMatchObject({
        ok: true,
        result: { repaired: 'mains-outage#0' },
      });
      await advance(clock, gw, 40);
      expect(gw.model.state().source).toBe('mains');
      expect(await send('stopGenerator')).toMatchObject({ ok: true, result: { phase: 'cooldown' } });
      expect(await send('selfDestruct')).toMatchObject({
        ok: false,
        error: expect.stringContaining('unknown command'),
      });
      expect(acks.size).toBe(n); // every command acknowledged
      expect(gw.stats().commands).toBe(n);
    } finally {
      off();
      await gw.stop();
    }
  });
});

describe('store-and-forward buffer', () => {
  const frame = (seq: number) => ({
    v: 1 as const,
    seq,
    ts: 1_700_000_000_000 + seq * 1000,
    source: 'mains' as const,
    loadKw: 1,
  });

  it('releases frames only on acknowledgement, re-sends after a reset, drops the oldest unsent when full', () => {
    const b = createFrameBuffer({ capacity: 5 });
    for (let i = 0; i < 4; i++) b.push(frame(i));
    const m1 = b.take(2)!;
    const m2 = b.take(2)!;
    expect(m1.frames.map((f) => f.seq)).toEqual([0, 1]);
    expect(b.ack(m2.id)).toBe(0); // out of order: waits for m1
    expect(b.ack(m1.id)).toBe(4);
    for (let i = 4; i < 8; i++) b.push(frame(i));
    b.take(3);
    b.resetInflight(); // link lost: nothing acknowledged, all pending again
    expect(b.pending()).toBe(4);
    b.take(1); // seq 4 in flight
    for (let i = 8; i < 11; i++) b.push(frame(i)); // full at 5: drops the oldest not in flight
    expect(b.dropped()).toBe(2);
    expect(b.snapshot().map((f) => f.seq)).toEqual([4, 7, 8, 9, 10]);
  });

  it('on disk: survives a restart with the unacknowledged frames and the next seq', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-journal-'));
    try {
      const j1 = createDiskJournal(dir);
      const b1 = createFrameBuffer({ capacity: 100, journal: j1 });
      for (let i = 0; i < 10; i++) b1.push(frame(i));
      const m = b1.take(4)!;
      b1.ack(m.id);
      b1.take(3); // in flight when the gateway dies: not acknowledged, so kept
      b1.flush(10);
      const loaded = createDiskJournal(dir).load();
      expect(loaded.frames.map((f) => f.seq)).toEqual([4, 5, 6, 7, 8, 9]);
      expect(loaded.nextSeq).toBe(10);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
