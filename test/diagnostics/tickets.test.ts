import { afterEach, describe, expect, it, vi } from 'vitest';
import { healthy, onBattery, T0 } from './fixtures.ts';
import { startDiagnostics } from './harness.ts';
import { nextStatus, TRANSITIONS, type TicketAction } from '../../diagnostics/tickets/status.ts';
import type { TelemetryFrame } from '../../protocol/index.ts';
import { createMemoryTelemetryStore } from '../../telemetry/memory-store.ts';
import { advanceTimers } from '../helpers/records.ts';

/** Mains lost at 10 s, generator never starts, battery draining at 60 A from 40 %. */
const cascade = (seconds: number, from = 0): TelemetryFrame[] =>
  Array.from({ length: seconds }, (_, k) => {
    const i = from + k;
    return i < 10 ? healthy(i, T0 + i * 1000) : onBattery(i, T0 + i * 1000, Math.max(0, 40 - (i - 10) / 30), -60);
  });

async function feedInChunks(
  h: Awaited<ReturnType<typeof startDiagnostics>>,
  vehicleId: string,
  frames: TelemetryFrame[],
) {
  for (let i = 0; i < frames.length; i += 10) await h.feed(vehicleId, frames.slice(i, i + 10));
}

describe('emergency tickets from the rules', () => {
  let h: Awaited<ReturnType<typeof startDiagnostics>> | undefined;
  afterEach(async () => {
    vi.useRealTimers();
    await h?.close();
    h = undefined;
  });

  it('the mains-loss cascade yields exactly one extra-urgent ticket with the alarms linked to one incident', async () => {
    h = await startDiagnostics();
    await feedInChunks(h, 'V1', cascade(1200));
    const tickets = await h.diagnostics.tickets.list();
    expect(tickets).toHaveLength(1);
    const t = tickets[0]!;
    expect(t).toMatchObject({
      level: 'extra_urgent',
      status: 'received',
      vehicleId: 'V1',
      customerId: 'C1',
      faultCode: 'GEN-START-FAIL',
      source: 'rule',
    });
    expect(t.workContentDueAt - t.receivedAt).toBe(30 * 60_000);
    expect(t.planRef).toEqual({ code: 'GEN-START-FAIL', version: 1 });
    expect(t.serviceMode).toBe('remote_support');
    const alarms = await h.diagnostics.alarms.list({ vehicleIds: ['V1'] });
    const byRule = Object.fromEntries(alarms.map((a) => [a.ruleId, a]));
    // the battery drains to empty over 20 min, so both battery levels fire too
    expect(Object.keys(byRule).sort()).toEqual([
      'battery_low_soc',
      'battery_very_low_soc',
      'generator_start_failed',
      'mains_lost',
      'predicted_power_loss',
    ]);
    const incident = byRule.mains_lost!.incidentId;
    expect(alarms.every((a) => a.incidentId === incident)).toBe(true);
    expect(byRule.generator_start_failed!.causedByAlarmId).toBe(byRule.mains_lost!.id);
    expect(byRule.predicted_power_loss!.causedByAlarmId).not.toBeNull();
    const snapshot = (await h.diagnostics.tickets.snapshot(t.id)) as { ts: number[] };
    expect(snapshot.ts.length).toBeGreaterThan(50);
    expect(h.events.filter((e) => e.name === 'ticket.opened')).toHaveLength(1);
  });

  it('a more severe alarm joining raises the ticket level', async () => {
    h = await startDiagnostics();
    // over-temperature (major) first → urgent ticket; then over-voltage (critical) in another group does not join
    // but a critical generator alarm in the same group as a major one does: voltage (major) then overheating (critical)
    const gen = (i: number, coolantC: number, voltageV: number) =>
      healthy(i, T0 + i * 1000, {
        source: 'generator',
        mains: { present: false },
        generator: {
          running: true,
          voltageV,
          frequencyHz: 50,
          rpm: 1500,
          oilKpa: 400,
          coolantC: coolantC + (i % 3) / 10,
          fuelPct: 70,
        },
      });
    await feedInChunks(
      h,
      'V1',
      Array.from({ length: 300 }, (_, i) => gen(i, i >= 120 ? 112 : 80, i >= 10 ? 180 : 220)),
    );
    const [t] = await h.diagnostics.tickets.list();
    expect(t!.level).toBe('extra_urgent');
    const timeline = await h.diagnostics.tickets.timeline(t!.id);
    expect(timeline.map((e) => e.action)).toEqual(['received', 'level_raised']);
    expect((await h.diagnostics.tickets.list()).length).toBe(1);
  });

  it('replaying the same fault window never opens a second ticket', async () => {
    h = await startDiagnostics();
    const frames = cascade(400);
    await feedInChunks(h, 'V1', frames);
    await feedInChunks(h, 'V1', frames);
    expect(await h.diagnostics.tickets.list()).toHaveLength(1);
  });

  it('a flapping alarm re-activates instead of piling up', async () => {
    h = await startDiagnostics();
    const frames = Array.from({ length: 1000 }, (_, i) =>
      healthy(i, T0 + i * 1000, { battery: { tempC: Math.floor(i / 150) % 2 === 1 ? 60 : 30 } }),
    );
    await feedInChunks(h, 'V1', frames);
    const alarms = await h.diagnostics.alarms.list({ vehicleIds: ['V1'] });
    expect(alarms).toHaveLength(1);
    expect(alarms[0]!.raiseCount).toBeGreaterThan(1);
    expect(await h.diagnostics.tickets.list()).toHaveLength(1);
  });

  it('acknowledging and commenting an alarm keeps who and when', async () => {
    h = await startDiagnostics();
    await feedInChunks(
      h,
      'V1',
      Array.from({ length: 100 }, (_, i) => healthy(i, T0 + i * 1000, { battery: { tempC: 60 } })),
    );
    const [a] = await h.diagnostics.alarms.list();
    const acked = await h.diagnostics.alarms.acknowledge(a!.id, 'eng-li', 'looking at it');
    expect(acked).toMatchObject({ state: 'acknowledged', acknowledgedBy: 'eng-li' });
    // announced like the engine's own changes, so every console shows it at once
    expect(h.events.filter((e) => e.name === 'alarm.updated').at(-1)?.payload).toEqual({ alarm: acked });
    await expect(h.diagnostics.alarms.acknowledge(a!.id, 'eng-zhao')).rejects.toMatchObject({
      code: 'INVALID_TRANSITION',
    });
    await h.diagnostics.alarms.comment(a!.id, 'eng-li', 'fan replaced');
    expect((await h.diagnostics.alarms.notes(a!.id)).map((n) => [n.kind, n.actor])).toEqual([
      ['raised', 'system'],
      ['acknowledged', 'eng-li'],
      ['comment', 'eng-li'],
    ]);
    await expect(h.diagnostics.alarms.get(99999)).rejects.toMatchObject({ code: 'ALARM_NOT_FOUND' });
  });
});

describe('ticket status machine', () => {
  let h: Awaited<ReturnType<typeof startDiagnostics>> | undefined;
  afterEach(async () => {
    vi.useRealTimers();
    await h?.close();
    h = undefined;
  });

  it('walks received → … → closed with an append-only timeline, refuses skipped steps and reopens', async () => {
    h = await startDiagnostics();
    const tickets = h.diagnostics.tickets;
    const ticket = await tickets.open(
      {
        source: 'hotline',
        customerId: 'C1',
        vehicleId: 'V7',
        level: 'urgent',
        title: 'No power in shelter',
        need: 'Shelter dark since 08:00',
        contacts: [{ name: 'Zhang', phone: '0730-0000000' }],
      },
      'desk-chen',
    );
    expect(ticket.planDueAt).toBe(ticket.receivedAt + 30 * 60_000);
    await expect(tickets.transition(ticket.id, 'start_service', 'eng')).rejects.toMatchObject({
      code: 'INVALID_TRANSITION',
    });
    await tickets.transition(ticket.id, 'determine_work_content', 'desk-chen');
    await expect(tickets.transition(ticket.id, 'start_service', 'eng')).rejects.toThrow(/support plan issued/);
    const fixed = { resolution: { rootCause: 'fuel filter clogged', workDone: 'filter replaced', partsUsed: [] } };
    // closing only what is fixed: a resolution when repaired, verified by someone else (four-eyes)
    for (const [a, who] of [
      ['issue_plan', 'eng-li'],
      ['start_service', 'eng-li'],
      ['mark_repaired', 'eng-li'],
      ['verify', 'desk-chen'],
      ['close', 'desk-chen'],
      ['reopen', 'desk-chen'],
      ['mark_repaired', 'eng-li'],
    ] as [TicketAction, string][]) {
      await tickets.transition(ticket.id, a, who, undefined, 'customer', fixed);
    }
    await tickets.assign(ticket.id, 'eng-li', 'desk-chen');
    await tickets.setServiceMode(ticket.id, 'on_site_repair', 'desk-chen');
    const t = await tickets.get(ticket.id);
    expect(t).toMatchObject({ status: 'repaired', assignee: 'eng-li', serviceMode: 'on_site_repair' });
    expect(t.number).toMatch(/^EM-C1-\d{4}$/);
    const timeline = await tickets.timeline(ticket.id);
    expect(timeline.map((e) => e.toStatus ?? e.action)).toEqual([
      'received',
      'work_content_determined',
      'plan_issued',
      'in_service',
      'repaired',
      'verified',
      'closed',
      'in_service',
      'repaired',
      'assigned',
      'service_mode_set',
    ]);
    expect(timeline[1]).toMatchObject({ actor: 'desk-chen', fromStatus: 'received' });
  });

  it('lets an extra-urgent ticket go to service before a written plan', () => {
    expect(nextStatus('extra_urgent', 'work_content_determined', 'start_service')).toEqual({
      ok: true,
      to: 'in_service',
    });
    expect(nextStatus('urgent', 'work_content_determined', 'start_service').ok).toBe(false);
    expect(nextStatus('urgent', 'closed', 'cancel').ok).toBe(false);
    expect(Object.keys(TRANSITIONS)).toHaveLength(8);
  });
});

describe('deadlines', () => {
  let h: Awaited<ReturnType<typeof startDiagnostics>> | undefined;
  afterEach(async () => {
    vi.useRealTimers();
    await h?.close();
    h = undefined;
  });

  it('a missed 30-minute deadline fires a breach event once and escalates to the duty lead; a met one does not', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'], now: T0 });
    h = await startDiagnostics({ now: () => Date.now() });
    const tickets = h.diagnostics.tickets;
    const late = await tickets.open(
      { source: 'hotline', customerId: 'C1', level: 'urgent', title: 'late', need: 'x' },
      'desk',
    );
    const prompt = await tickets.open(
      { source: 'hotline', customerId: 'C1', level: 'urgent', title: 'prompt', need: 'x' },
      'desk',
    );
    await advanceTimers(10 * 60_000);
    await tickets.transition(prompt.id, 'determine_work_content', 'desk');
    await tickets.transition(prompt.id, 'issue_plan', 'desk');
    await advanceTimers(20 * 60_000 - 1);
    expect(h.events.filter((e) => e.name === 'ticket.deadline_breached')).toHaveLength(0);
    await advanceTimers(2);
    const breaches = h.events
      .filter((e) => e.name === 'ticket.deadline_breached')
      .map((e) => e.payload as { ticket: { id: number }; deadline: string; escalatedTo: string });
    expect(breaches.map((b) => [b.ticket.id, b.deadline, b.escalatedTo])).toEqual([
      [late.id, 'work_content', 'lead-wang'],
      [late.id, 'plan', 'lead-wang'],
    ]);
    const t = await tickets.get(late.id);
    expect(t).toMatchObject({ breaches: ['work_content', 'plan'], escalatedTo: 'lead-wang' });
    await advanceTimers(60 * 60_000);
    expect(h.events.filter((e) => e.name === 'ticket.deadline_breached')).toHaveLength(2);
  });

  it('frames stored but not evaluated before a crash are evaluated at start: the fault still gets its ticket', async () => {
    vi.useFakeTimers({
      toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'],
      now: T0 + 200_000,
    });
    const telemetry = createMemoryTelemetryStore();
    // acknowledged and stored, then the process died before diagnostics saw them
    const frames = Array.from({ length: 100 }, (_, i) =>
      healthy(i, T0 + 100_000 + i * 1000, { charging: { engineRunning: true, alternatorV: 31, currentA: 20 } }),
    );
    await telemetry.append(frames.map((frame) => ({ vehicleId: 'V1', receivedAt: frame.ts, frame })));
    h = await startDiagnostics({ now: () => Date.now(), telemetry, vehicleIds: ['V1', 'V2'] });
    await h.diagnostics.idle();
    const tickets = await h.diagnostics.tickets.list();
    expect(tickets.map((t) => [t.vehicleId, t.faultCode, t.level])).toEqual([['V1', 'CHG-OVERVOLT', 'extra_urgent']]);
  });

  it('a restart mid-way keeps alarms, tickets and deadline timers', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'], now: T0 });
    h = await startDiagnostics({ now: () => Date.now() });
    await h.feed(
      'V1',
      Array.from({ length: 100 }, (_, i) => healthy(i, T0 + i * 1000, { battery: { tempC: 60 } })),
    );
    const [before] = await h.diagnostics.tickets.list();
    expect(before).toBeDefined();
    const kept = await h.close({ keepFile: true });
    await advanceTimers(5 * 60_000);
    h = await startDiagnostics({ restartOf: kept!, now: () => Date.now() });
    // the same ticket, as it was: not a new one that happens to get the same id in a new file
    expect(await h.diagnostics.tickets.list()).toEqual([before]);
    // the same fault still in the data after restart: no second alarm, no second ticket
    const t1 = Date.now();
    await h.feed(
      'V1',
      Array.from({ length: 100 }, (_, i) => healthy(1000 + i, t1 + i * 1000, { battery: { tempC: 60 } })),
    );
    expect(await h.diagnostics.alarms.list()).toHaveLength(1);
    expect(await h.diagnostics.tickets.list()).toHaveLength(1);
    await advanceTimers(30 * 60_000);
    expect(
      h.events
        .filter((e) => e.name === 'ticket.deadline_breached')
        .map((e) => (e.payload as { ticket: { id: number } }).ticket.id),
    ).toContain(before!.id);
  });
});
