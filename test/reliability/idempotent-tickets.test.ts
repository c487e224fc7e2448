import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { vehicleTopic, type TelemetryFrame } from '../../protocol/index.ts';
import { healthy } from '../diagnostics/fixtures.ts';
import { startTestPlatform, type TestPlatform } from '../helpers/platform.ts';

/**
 * Replaying a fault window never opens a second ticket, and leaves the records as they were: the
 * same frames with the same seqs sent again (duplicates at ingest), and the same fault sent again
 * after a restart, when diagnostics has also re-evaluated the recent window from the store
 * (docs/rules.md "After a restart").
 */

const VEHICLE = 'IDEM-1';

/**
 * A charging over-voltage (CHG-OVERVOLT, critical → extra-urgent ticket) of 20 s that then clears:
 * frames at 1 s from `t0`, over-voltage from frame 10 to 29, healthy again for the 60 s the clear
 * needs. `cleared: false` keeps the fault on to the end.
 */
function faultWindow(t0: number, count: number, opts: { cleared?: boolean; firstSeq?: number } = {}): TelemetryFrame[] {
  const cleared = opts.cleared ?? true;
  return Array.from({ length: count }, (_, i) => {
    const seq = (opts.firstSeq ?? 0) + i;
    const over = i >= 10 && (i < 30 || !cleared);
    return healthy(
      seq,
      t0 + i * 1000,
      over ? { charging: { engineRunning: true, alternatorV: 31.5, currentA: 20 } } : {},
    );
  });
}

/** Everything diagnostics recorded, to compare before and after a replay. */
async function records(tp: TestPlatform) {
  const db = tp.platform.records;
  const alarms = await db.selectFrom('alarms').selectAll().orderBy('id').execute();
  const notes = await db.selectFrom('alarm_notes').select(['alarm_id', 'at', 'kind', 'text']).orderBy('id').execute();
  const incidents = await db.selectFrom('incidents').selectAll().orderBy('id').execute();
  const tickets = await db
    .selectFrom('tickets')
    .select(['id', 'number', 'incident_id', 'level', 'status', 'fault_code', 'breaches'])
    .orderBy('id')
    .execute();
  const timeline = await db.selectFrom('ticket_timeline').select(['ticket_id', 'action', 'at']).orderBy('id').execute();
  return { alarms, notes, incidents, tickets, timeline };
}

describe('idempotent tickets: a replayed fault window opens no second ticket', () => {
  let dataDir: string | undefined;
  let tp: TestPlatform | undefined;
  let secret = '';

  afterEach(async () => {
    await tp?.close();
    tp = undefined;
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    dataDir = undefined;
    secret = '';
  });

  async function start(env: Record<string, string> = {}): Promise<TestPlatform> {
    dataDir ??= mkdtempSync(join(tmpdir(), 'pw-idem-'));
    tp = await startTestPlatform(env, { dataDir });
    if (!secret) secret = (await tp.addVehicle(VEHICLE, 'C1')).secret;
    return tp;
  }

  /** Stops the platform as a deployment does (SIGTERM) and starts it again on the same data. */
  async function restart(env: Record<string, string> = {}): Promise<TestPlatform> {
    await tp!.close();
    tp = undefined;
    return start(env);
  }

  /** Publishes the frames in messages of `per` frames, each acknowledged, then waits for diagnostics. */
  async function send(t: TestPlatform, frames: TelemetryFrame[], per: number): Promise<void> {
    const gw: MqttClient = await t.connect(VEHICLE, secret);
    try {
      for (let i = 0; i < frames.length; i += per) {
        const chunk = frames.slice(i, i + per);
        const payload = chunk.length === 1 ? JSON.stringify(chunk[0]) : JSON.stringify({ frames: chunk });
        await gw.publishAsync(vehicleTopic(VEHICLE, 'telemetry'), payload, { qos: 1 });
      }
    } finally {
      await gw.endAsync();
    }
    await t.platform.diagnostics.idle();
  }

  async function expectOneTicket(t: TestPlatform) {
    const tickets = await t.platform.diagnostics.tickets.list({ vehicleId: VEHICLE });
    expect(tickets.map((x) => [x.faultCode, x.level])).toEqual([['CHG-OVERVOLT', 'extra_urgent']]);
    const alarms = await t.platform.diagnostics.alarms.list({ vehicleIds: [VEHICLE] });
    expect(alarms.map((a) => [a.ruleId, a.raiseCount])).toEqual([['charging_over_voltage', 1]]);
  }

  it('the same frames with the same seqs, sent again in other batches, change nothing', async () => {
    const t = await start();
    const frames = faultWindow(Date.now() - 100_000, 95);
    await send(t, frames, 10);
    await expectOneTicket(t);
    const before = await records(t);
    expect(before.alarms[0]!.state).toBe('cleared');
    expect(before.incidents.map((i) => i.state)).toEqual(['resolved']);

    const duplicatesBefore = t.platform.counters.get('ingest.frames_duplicate');
    await send(t, frames, 10); // the same messages
    await send(t, frames, 1); // frame by frame
    await send(t, frames, 95); // one batch
    await send(t, [...frames].reverse(), 7); // out of order
    expect(t.platform.counters.get('ingest.frames_duplicate') - duplicatesBefore).toBe(4 * frames.length);
    expect(await records(t)).toEqual(before);
  });

  it('the same fault, cleared, re-sent after a restart: no second ticket, the alarm history unchanged', async () => {
    let t = await start();
    const frames = faultWindow(Date.now() - 100_000, 95);
    await send(t, frames, 10);
    await expectOneTicket(t);
    const before = await records(t);

    // at start, diagnostics re-evaluates the stored window (the whole fault is in it); then the gateway re-sends
    t = await restart();
    await t.platform.diagnostics.idle();
    await send(t, frames, 10);
    await expectOneTicket(t);
    expect(await records(t)).toEqual(before);
  });

  it('… also when flapping suppression is off (ALARM_FLAP_WINDOW_MS=0): the dedupe does not rest on it', async () => {
    const env = { ALARM_FLAP_WINDOW_MS: '0' };
    let t = await start(env);
    const frames = faultWindow(Date.now() - 100_000, 95);
    await send(t, frames, 10);
    await expectOneTicket(t);
    const before = await records(t);

    t = await restart(env);
    await t.platform.diagnostics.idle();
    await send(t, frames, 10);
    await expectOneTicket(t);
    expect(await records(t)).toEqual(before);
  });

  it('a fault still active across a restart keeps its one alarm and ticket while its frames are re-sent and continue', async () => {
    let t = await start();
    const t0 = Date.now() - 60_000;
    const frames = faultWindow(t0, 50, { cleared: false });
    await send(t, frames, 10);
    await expectOneTicket(t);
    const before = await records(t);
    expect(before.alarms[0]!.state).toBe('active');

    t = await restart();
    await t.platform.diagnostics.idle();
    // the gateway re-sends what it had not seen confirmed, then goes on with the same fault
    const more = faultWindow(t0, 60, { cleared: false });
    await send(t, more.slice(30), 5);
    await expectOneTicket(t);
    const after = await records(t);
    expect(after.alarms).toEqual(before.alarms);
    expect(after.tickets).toEqual(before.tickets);
    expect(after.notes).toEqual(before.notes);
  });
});
