import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Command, VehicleStatus } from '../../protocol/index.ts';
import { plannedFault, toModelFault } from '../../simulators/scenarios/plan.ts';
import { startTestPlatform, type TestPlatform } from '../helpers/platform.ts';
import {
  advance,
  createManualClock,
  emptied,
  expectInOrderOnce,
  lossyConnect,
  newGateway,
  once1,
  reconnect,
  seqRange,
  startProxy,
  storedFrames,
  until,
} from './link-loss-harness.ts';

/**
 * Link loss (issue 6): buffered frames are replayed in order, stored once, confirmed by the platform
 * (`telemetry/confirmed`) and only then deleted by the gateway; seq gaps are backfilled; a full
 * buffer's drops are counted on both sides; replayed history raises no live alarm.
 */
const PLATFORM_ENV = { TELEMETRY_GAP_GRACE_MS: '300', DIAGNOSTICS_TICK_MS: '1000' };

let tp: TestPlatform;
beforeAll(async () => {
  tp = await startTestPlatform(PLATFORM_ENV);
});
afterAll(async () => {
  await tp?.close();
});

describe('link loss', () => {
  it('10 simulated minutes offline: every frame once and in order, confirmed to the last seq, buffer emptied, the outage’s fault only in history', async () => {
    const { id, secret } = await tp.addVehicle('LINK10');
    // simulated time ends about now: the frames after the reconnect are live, those of the outage history
    const clock = createManualClock(Date.now() - 14 * 60_000);
    const t0 = clock.now();
    const offAt = t0 + 2 * 60_000;
    const gw = newGateway(tp, id, secret, clock, { faults: [plannedFault('link-loss', offAt, 600)] });
    // a mains outage that starts and ends while the link is down
    const outage = plannedFault('mains-outage', offAt + 60_000, 180);
    gw.model.addFault(toModelFault(outage, gw.model.profile));
    const arrived: number[] = [];
    const statuses: VehicleStatus[] = [];
    const offStored = tp.platform.bus.on(
      'telemetry.stored',
      (e) => void (e.vehicleId === id && arrived.push(...e.frames.map((f) => f.seq))),
    );
    const offStatus = tp.platform.bus.on('vehicle.status', (e) => void (e.vehicleId === id && statuses.push(e.status)));
    try {
      const connected = once1(gw, 'connected');
      gw.start();
      gw.tick();
      await connected;
      await advance(clock, gw, 119);
      await emptied(gw); // confirmed while online: nothing kept
      expect(gw.stats().confirmed?.seq).toBe(119);

      const lost = once1(gw, 'disconnected');
      await advance(clock, gw, 1); // the link drops at 120 s
      await lost;
      await advance(clock, gw, 599, 5);
      expect(gw.stats()).toMatchObject({ state: 'offline', buffered: 600, unconfirmed: 0, dropped: 0 });

      const replayStart = Date.now();
      await reconnect(clock, gw);
      const lastBuffered = gw.model.nextSeq - 1;
      await until(
        () => (gw.stats().confirmed?.seq ?? -1) >= lastBuffered,
        15_000,
        `confirmation of seq ${lastBuffered}`,
      );
      const replayMs = Date.now() - replayStart;
      await advance(clock, gw, 60); // live again
      const last = gw.model.nextSeq - 1;
      await until(() => gw.stats().confirmed?.seq === last, 10_000, `confirmation of the last seq ${last}`);
      await emptied(gw);

      const s = gw.stats();
      expect(s).toMatchObject({ buffered: 0, unconfirmed: 0, dropped: 0, releasedUnconfirmed: 0, backfillRequests: 0 });
      expect(s.batchesSent).toBeGreaterThanOrEqual(2); // 600 frames: at least two ≤ 500-frame batches
      const stored = await storedFrames(tp, id);
      expectInOrderOnce(stored, seqRange(0, last));
      expect(stored).toHaveLength(s.framesSampled);
      expect(arrived).toEqual(seqRange(0, last)); // replayed in order, no duplicate reached diagnostics
      expect(tp.platform.confirmations.state(id)).toMatchObject({ seq: last, gaps: [], confirmed: { seq: last } });
      expect(tp.platform.counters.get('telemetry.frames_lost', id)).toBe(0);
      expect(tp.platform.counters.get('telemetry.backfill_requests', id)).toBe(0);
      expect(statuses.map((st) => st.online)).toEqual([true, false, true]);
      expect(statuses.at(-1)).toMatchObject({ online: true, buffered: 601, dropped: 0 }); // and the frame of the reconnect tick

      // no stale alarm: the mains loss during the outage is history, raised and cleared at event time
      await tp.platform.diagnostics.idle();
      const alarms = await tp.platform.diagnostics.alarms.list({ vehicleIds: [id] });
      expect(alarms.filter((a) => a.state !== 'cleared')).toEqual([]);
      const mainsLost = alarms.find((a) => a.ruleId === 'mains_lost');
      expect(mainsLost).toMatchObject({ state: 'cleared', live: false });
      expect(Math.abs(mainsLost!.raisedAt - (outage.startTs + 10_000))).toBeLessThanOrEqual(2000); // `for: 10s`
      expect(Math.abs(mainsLost!.clearedAt! - (outage.endTs! + 30_000))).toBeLessThanOrEqual(2000); // `clearFor: 30s`
      expect((await tp.platform.diagnostics.tickets.list({ vehicleId: id })).length).toBe(0);
      console.info(`[link-loss 10 min] replay of 600 frames to confirmation: ${replayMs} ms wall`);
    } finally {
      offStored();
      offStatus();
      await gw.stop();
    }
  });

  it('a frame lost after the gateway handed it over: the gap is detected, backfilled from the buffer and confirmed', async () => {
    const { id, secret } = await tp.addVehicle('GAP1');
    const clock = createManualClock(Date.now() - 10 * 60_000);
    const lose = new Set([25, 140]); // one live frame, one inside a replay batch
    const gw = newGateway(tp, id, secret, clock, { connect: lossyConnect(lose) });
    const backfills: Command[] = [];
    gw.on('command', (cmd: Command) => void (cmd.name === 'backfill' && backfills.push(cmd)));
    try {
      const connected = once1(gw, 'connected');
      gw.start();
      gw.tick();
      await connected;
      await advance(clock, gw, 60);
      await until(() => !lose.has(25), 5000, 'seq 25 to be sent (and lost)');
      await until(() => backfills.length >= 1, 10_000, 'a backfill request for seq 25');
      expect(backfills[0]!.args).toMatchObject({ fromSeq: 25, toSeq: 25 });
      await until(() => (gw.stats().confirmed?.seq ?? -1) >= 60, 10_000, 'confirmation past the gap');

      gw.cutLink(120_000);
      await advance(clock, gw, 120, 5);
      await reconnect(clock, gw);
      const last = gw.model.nextSeq - 1;
      await until(() => gw.stats().confirmed?.seq === last, 15_000, `confirmation of seq ${last}`);
      await emptied(gw);

      expect(lose.size).toBe(0);
      expect(backfills.map((c) => [c.args.fromSeq, c.args.toSeq])).toEqual([
        [25, 25],
        [140, 140],
      ]);
      expect(gw.stats()).toMatchObject({ backfillRequests: 2, backfillFramesSent: 2, backfillMissing: 0, dropped: 0 });
      expectInOrderOnce(await storedFrames(tp, id), seqRange(0, last));
      expect(tp.platform.counters.get('telemetry.seq_gaps', id)).toBe(2);
      expect(tp.platform.counters.get('telemetry.frames_lost', id)).toBe(0);
    } finally {
      await gw.stop();
    }
  });

  it('a full buffer drops the oldest unsent frames and says so: gateway stats, status to the platform, counted lost after backfill', async () => {
    const { id, secret } = await tp.addVehicle('FULL1');
    const clock = createManualClock(Date.now() - 10 * 60_000);
    const gw = newGateway(tp, id, secret, clock, { bufferCapacity: 100 });
    const statuses: VehicleStatus[] = [];
    const off = tp.platform.bus.on('vehicle.status', (e) => void (e.vehicleId === id && statuses.push(e.status)));
    try {
      const connected = once1(gw, 'connected');
      gw.start();
      gw.tick();
      await connected;
      await advance(clock, gw, 20);
      await emptied(gw);
      const lastBefore = gw.model.nextSeq - 1; // 20

      gw.cutLink(300_000);
      await advance(clock, gw, 300, 5);
      expect(gw.stats()).toMatchObject({ buffered: 100, dropped: 200, releasedUnconfirmed: 0 });
      expect(gw.heldFrames()[0]!.seq).toBe(lastBefore + 201); // the 200 oldest went

      await reconnect(clock, gw);
      const last = gw.model.nextSeq - 1;
      await until(
        () => gw.stats().confirmed?.seq === last,
        15_000,
        `confirmation of seq ${last} past the dropped frames`,
      );
      await emptied(gw);

      expect(statuses.at(-1)).toMatchObject({ online: true, dropped: 200 });
      expect(tp.platform.counters.get('gateway.frames_dropped', id)).toBe(200);
      expect(gw.stats()).toMatchObject({
        dropped: 200,
        backfillRequests: 1,
        backfillMissing: 200,
        backfillFramesSent: 0,
      });
      expect(tp.platform.counters.get('telemetry.frames_lost', id)).toBe(200);
      expectInOrderOnce(await storedFrames(tp, id), [...seqRange(0, lastBefore), ...seqRange(lastBefore + 201, last)]);
    } finally {
      off();
      await gw.stop();
    }
  });

  it('a reboot without a disk buffer restarts seq at 0: the new run is confirmed, the old confirmation deletes none of it', async () => {
    const { id, secret } = await tp.addVehicle('RUN1');
    const clock = createManualClock(Date.now() - 10 * 60_000);
    const gw = newGateway(tp, id, secret, clock, {
      faults: [plannedFault('gateway-reboot', clock.now() + 60_500, null, { downS: 20 })],
    });
    try {
      const connected = once1(gw, 'connected');
      gw.start();
      gw.tick();
      await connected;
      await advance(clock, gw, 60);
      await emptied(gw);
      const oldRun = gw.stats().confirmed!;
      expect(oldRun.seq).toBe(60);
      await advance(clock, gw, 25);
      await reconnect(clock, gw); // the retained confirmation of the old run (seq 60) arrives first
      await advance(clock, gw, 90);
      const last = gw.model.nextSeq - 1;
      expect(last).toBeGreaterThan(60);
      await until(
        () => gw.stats().confirmed?.seq === last && gw.stats().confirmed!.ts > oldRun.ts,
        10_000,
        'confirmation of the new run',
      );
      await emptied(gw);
      const st = tp.platform.confirmations.state(id)!;
      expect(st).toMatchObject({ seq: last, run: 1, gaps: [] });
      const stored = await storedFrames(tp, id);
      expect(stored.map((f) => f.seq)).toEqual([...seqRange(0, 60), ...seqRange(0, last)]);
      expect(tp.platform.counters.get('telemetry.seq_restarts', id)).toBe(1);
    } finally {
      await gw.stop();
    }
  });

  it('the confirmation mark survives a platform restart: a gap across it is still found and backfilled', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'pw-linkloss-'));
    let p1: TestPlatform | undefined = await startTestPlatform(PLATFORM_ENV, { dataDir });
    let p2: TestPlatform | undefined;
    const { id, secret } = await p1.addVehicle('RST1');
    const proxy = await startProxy(Number(new URL(p1.mqttUrl).port));
    const clock = createManualClock(Date.now() - 10 * 60_000);
    const lose = new Set<number>();
    const gw = newGateway(p1, id, secret, clock, { brokerUrl: proxy.url, connect: lossyConnect(lose) });
    try {
      const connected = once1(gw, 'connected');
      gw.start();
      gw.tick();
      await connected;
      await advance(clock, gw, 40);
      await emptied(gw);
      expect(gw.stats().confirmed?.seq).toBe(40);

      const lost = once1(gw, 'disconnected');
      await p1.close(); // graceful: the mark is saved
      p1 = undefined;
      await lost;
      await advance(clock, gw, 60, 5); // buffering 41–100
      p2 = await startTestPlatform(PLATFORM_ENV, { dataDir });
      proxy.retarget(Number(new URL(p2.mqttUrl).port));
      expect(p2.platform.confirmations.state(id)).toMatchObject({ seq: 40, confirmed: { seq: 40 } });
      lose.add(41); // the first frame after the restart never reaches the store
      await reconnect(clock, gw);
      const last = gw.model.nextSeq - 1;
      await until(() => gw.stats().confirmed?.seq === last, 15_000, `confirmation of seq ${last} after the restart`);
      await emptied(gw);
      expect(gw.stats().backfillRequests).toBe(1);
      expectInOrderOnce(await storedFrames(p2, id), seqRange(0, last));
    } finally {
      await gw.stop();
      await proxy.close();
      await p1?.close();
      await p2?.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
