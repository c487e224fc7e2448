import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plannedFault, toModelFault } from '../../simulators/scenarios/plan.ts';
import { startTestPlatform, type TestPlatform } from '../helpers/platform.ts';
import {
  advance,
  createManualClock,
  emptied,
  expectInOrderOnce,
  newGateway,
  once1,
  reconnect,
  seqRange,
  storedFrames,
  until,
} from './link-loss-harness.ts';

/**
 * Link loss for 24 simulated hours at the real data rate (1 frame/s → 86,400 frames buffered), then
 * replayed at full speed in ≤ 500-frame batches: every frame stored once and in order, confirmed to the
 * last seq, the gateway's buffer emptied, and the fault that came and went during the outage only in
 * history. Prints the replay figures.
 */
const DAY_S = 86_400;

let tp: TestPlatform;
beforeAll(async () => {
  tp = await startTestPlatform();
});
afterAll(async () => {
  await tp?.close();
});

describe('link loss, 24 simulated hours', () => {
  it('86,400 buffered frames replayed: each once, in order, confirmed, buffer emptied, no stale alarm', async () => {
    const { id, secret } = await tp.addVehicle('LINK24H');
    // simulated time ends about now, so that the frames after the reconnect are live
    const clock = createManualClock(Date.now() - (DAY_S + 5 * 60) * 1000);
    const t0 = clock.now();
    const gw = newGateway(tp, id, secret, clock, { bufferCapacity: 100_000 });
    const offAt = t0 + 120_000;
    const outage = plannedFault('mains-outage', offAt + 6 * 3_600_000, 2 * 3600);
    gw.model.addFault(toModelFault(outage, gw.model.profile));
    let lastArrived = -1;
    let outOfOrder = 0;
    const off = tp.platform.bus.on('telemetry.stored', (e) => {
      if (e.vehicleId !== id) return;
      for (const f of e.frames) {
        if (f.seq !== lastArrived + 1) outOfOrder++;
        lastArrived = f.seq;
      }
    });
    try {
      const connected = once1(gw, 'connected');
      gw.start();
      gw.tick();
      await connected;
      await advance(clock, gw, 119);
      await emptied(gw);

      const lost = once1(gw, 'disconnected');
      gw.cutLink(); // down until restored
      await lost;
      const simStart = Date.now();
      await advance(clock, gw, DAY_S, 10);
      const simMs = Date.now() - simStart;
      expect(gw.stats()).toMatchObject({ buffered: DAY_S, dropped: 0, releasedUnconfirmed: 0 });

      const replayStart = Date.now();
      gw.restoreLink();
      await reconnect(clock, gw);
      const lastBuffered = gw.model.nextSeq - 1;
      await until(() => gw.stats().buffered === 0, 110_000, 'every buffered frame acknowledged');
      const ackedMs = Date.now() - replayStart;
      await until(
        () => (gw.stats().confirmed?.seq ?? -1) >= lastBuffered,
        10_000,
        `confirmation of seq ${lastBuffered}`,
      );
      const confirmedMs = Date.now() - replayStart;

      await advance(clock, gw, 60); // live again
      const last = gw.model.nextSeq - 1;
      await until(() => gw.stats().confirmed?.seq === last, 10_000, `confirmation of the last seq ${last}`);
      await emptied(gw);

      const s = gw.stats();
      expect(s).toMatchObject({ buffered: 0, unconfirmed: 0, dropped: 0, backfillRequests: 0 });
      expect(s.batchesSent).toBeGreaterThanOrEqual(Math.ceil(DAY_S / 500));
      const stored = await storedFrames(tp, id);
      expect(stored).toHaveLength(s.framesSampled);
      expectInOrderOnce(stored, seqRange(0, last));
      expect(await tp.platform.telemetry.count(id)).toBe(last + 1);
      expect(outOfOrder).toBe(0);
      expect(lastArrived).toBe(last);
      expect(tp.platform.confirmations.state(id)).toMatchObject({ seq: last, gaps: [] });
      expect(tp.platform.counters.get('telemetry.frames_lost', id)).toBe(0);

      await tp.platform.diagnostics.idle();
      const alarms = await tp.platform.diagnostics.alarms.list({ vehicleIds: [id] });
      expect(alarms.filter((a) => a.state !== 'cleared')).toEqual([]);
      expect(alarms.map((a) => a.ruleId)).toEqual(['mains_lost']);
      expect(alarms[0]).toMatchObject({ state: 'cleared', live: false });
      expect(Math.abs(alarms[0]!.raisedAt - (outage.startTs + 10_000))).toBeLessThanOrEqual(2000);
      expect(Math.abs(alarms[0]!.clearedAt! - (outage.endTs! + 30_000))).toBeLessThanOrEqual(2000);
      expect((await tp.platform.diagnostics.tickets.list({ vehicleId: id })).length).toBe(0);

      console.info(
        `[link-loss 24 h] ${DAY_S} frames: simulating the day ${simMs} ms; replay ${s.batchesSent} batches, ` +
          `all acknowledged after ${ackedMs} ms, confirmed after ${confirmedMs} ms (${Math.round(DAY_S / (ackedMs / 1000))} frames/s), ` +
          `${s.confirmations} confirmations received`,
      );
      expect(confirmedMs).toBeLessThan(110_000);
    } finally {
      off();
      await gw.stop();
    }
  });
});
