import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { freePort, startVictoria, stopVictoria, VICTORIA_METRICS } from '../../bench/export/victoria.ts';
import type { Ticket } from '../../diagnostics/types.ts';
import { eventLine } from '../../platform/influx-events.ts';
import { frame, startTestPlatform, withTimeout, type TestPlatform } from '../helpers/platform.ts';

/**
 * Issue 19, item 1 (annotations): alarms and ticket events go to the InfluxDB bucket as the `events`
 * measurement (tags kind/vehicle/level/unit), tested against victoria-metrics' /api/v2/write and
 * read back through its export API — also when the server was down while they happened.
 */
const present = existsSync(VICTORIA_METRICS);
if (!present) console.warn(`SKIPPED: ${VICTORIA_METRICS} is absent (apt-get install victoria-metrics)`);

describe.skipIf(!present)('alarms and tickets as InfluxDB events', () => {
  let dir: string;
  let port: number;
  let vm: ChildProcess | undefined;
  let tp: TestPlatform;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pw-events-'));
    port = await freePort();
    vm = await startVictoria(join(dir, 'vm'), port);
    tp = await startTestPlatform({
      INFLUX_URL: `http://127.0.0.1:${port}`,
      INFLUX_BACKOFF_MIN_MS: '20',
      INFLUX_BACKOFF_MAX_MS: '200',
    });
  });
  afterAll(async () => {
    await tp?.close();
    if (vm) await stopVictoria(vm);
    rmSync(dir, { recursive: true, force: true });
  });

  /** The `events_id` points on the server: labels and timestamps per series. */
  async function readEvents(): Promise<{ labels: Record<string, string>; ts: number[]; ids: number[] }[]> {
    await fetch(`http://127.0.0.1:${port}/internal/force_flush`);
    const url = `http://127.0.0.1:${port}/api/v1/export?match[]=${encodeURIComponent('{__name__="events_id"}')}&start=0`;
    const text = await (await fetch(url)).text();
    return text
      .split('\n')
      .filter(Boolean)
      .map((l) => {
        const s = JSON.parse(l) as { metric: Record<string, string>; values: number[]; timestamps: number[] };
        return { labels: s.metric, ts: s.timestamps, ids: s.values };
      });
  }

  /**
   * The vehicle's events once the server shows them all: victoria-metrics makes a new series searchable
   * a moment after it has accepted it (longer on a busy machine), so the read is repeated until then.
   */
  async function eventsOnServer(id: string, alarms: number) {
    let events: Awaited<ReturnType<typeof readEvents>> = [];
    await vi.waitFor(
      async () => {
        events = (await readEvents()).filter((e) => e.labels.vehicle === id);
        expect(events.some((e) => e.labels.kind === 'ticket_opened')).toBe(true);
        expect(events.filter((e) => e.labels.kind === 'alarm_raised').flatMap((e) => e.ids).length).toBe(alarms);
      },
      { timeout: 15_000, interval: 250 },
    );
    return events;
  }

  /** Mains lost and the generator not starting: two alarms and an extra-urgent ticket (diagnostics/rules). */
  async function failGenerator(id: string, secret: string): Promise<Ticket> {
    const gw = await tp.connect(id, secret);
    const opened = new Promise<Ticket>((resolve) =>
      tp.platform.bus.on('ticket.opened', (e) => {
        if (e.ticket.vehicleId === id) resolve(e.ticket);
      }),
    );
    const t0 = Date.now() - 150_000;
    const frames = Array.from({ length: 150 }, (_, i) =>
      i < 20
        ? frame(i, t0 + i * 1000)
        : frame(i, t0 + i * 1000, {
            source: 'battery',
            mains: { present: false, voltageV: 0, frequencyHz: 0, currentA: 0 },
            generator: {
              running: false,
              voltageV: 0,
              frequencyHz: 0,
              currentA: 0,
              rpm: 0,
              fuelPct: 80,
              coolantC: 25,
              oilKpa: 0,
            },
            battery: { voltageV: 25.1, currentA: -45, socPct: 70 - i / 10, tempC: 26 },
          }),
    );
    await gw.publishAsync(`v1/vehicles/${id}/telemetry`, JSON.stringify({ frames }), { qos: 1 });
    const ticket = await withTimeout(opened, 5000, 'the ticket');
    await tp.platform.diagnostics.idle();
    await gw.endAsync();
    return ticket;
  }

  it('the alarms raised and the ticket opened by a failing generator are on the server, tagged', async () => {
    const { id, secret } = await tp.addVehicle('EVT-1', 'C7');
    const ticket = await failGenerator(id, secret);
    await tp.platform.influxEvents!.drained();
    const alarms = await tp.platform.diagnostics.alarms.list({ vehicleIds: [id] });
    const events = await eventsOnServer(id, alarms.length);
    const raised = events.filter((e) => e.labels.kind === 'alarm_raised');
    expect(raised.flatMap((e) => e.ids).sort()).toEqual(alarms.map((a) => a.id).sort());
    for (const a of alarms) {
      const series = raised.find((e) => e.ids.includes(a.id))!;
      expect(series.labels).toMatchObject({ level: a.severity, unit: 'C7' });
      expect(series.ts[series.ids.indexOf(a.id)]).toBe(a.raisedAt);
    }
    const opened = events.find((e) => e.labels.kind === 'ticket_opened');
    expect(opened).toMatchObject({
      labels: { level: 'extra_urgent', unit: 'C7', vehicle: id },
      ids: [ticket.id],
      ts: [ticket.receivedAt],
    });
  });

  it('events that happen while the server is down arrive once it is back', async () => {
    await stopVictoria(vm!);
    vm = undefined;
    const { id, secret } = await tp.addVehicle('EVT-2', 'C8');
    const failedBefore = tp.platform.counters.get('influx.events_failed');
    const ticket = await failGenerator(id, secret);
    await vi.waitFor(() => expect(tp.platform.counters.get('influx.events_failed')).toBeGreaterThan(failedBefore));
    expect(tp.platform.influxEvents!.queued()).toBeGreaterThanOrEqual(3);
    vm = await startVictoria(join(dir, 'vm'), port);
    await vi.waitFor(() => expect(tp.platform.influxEvents!.queued()).toBe(0), { timeout: 10_000 });
    await tp.platform.influxEvents!.drained();
    const events = await eventsOnServer(id, 2);
    expect(events.find((e) => e.labels.kind === 'ticket_opened')?.ids).toEqual([ticket.id]);
    expect(events.filter((e) => e.labels.kind === 'alarm_raised').flatMap((e) => e.ids)).toHaveLength(2);
    expect(tp.platform.counters.get('influx.events_dropped')).toBe(0);
  });

  it('writes line protocol with escaped tags and text', () => {
    expect(
      eventLine({
        kind: 'ticket_opened',
        vehicle: 'V 1',
        unit: 'a,b',
        level: 'urgent',
        id: 7,
        text: 'say "hi"\nnow',
        at: 1000,
      }),
    ).toBe(
      'events,kind=ticket_opened,level=urgent,unit=a\\,b,vehicle=V\\ 1 id=7i,value=1i,text="say \\"hi\\" now" 1000',
    );
  });
});
