import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Ticket } from '../../diagnostics/types.ts';
import { frame, startTestPlatform, withTimeout, type TestPlatform } from '../helpers/platform.ts';

describe('diagnostics end to end over MQTT', () => {
  let tp: TestPlatform;
  beforeAll(async () => {
    tp = await startTestPlatform();
  });
  afterAll(async () => tp.close());

  it('a generator that fails to start after mains loss opens one extra-urgent ticket, with plan and snapshot', async () => {
    const { id, secret } = await tp.addVehicle('GEN-FAIL-1', 'C7');
    const gw = await tp.connect(id, secret);
    const opened = new Promise<Ticket>((resolve) =>
      tp.platform.bus.on('ticket.opened', (e) => {
        if (e.ticket.vehicleId === id) resolve(e.ticket);
      }),
    );
    const t0 = Date.now() - 150_000;
    const frames = Array.from({ length: 150 }, (_, i) => {
      const ts = t0 + i * 1000;
      return i < 20
        ? frame(i, ts)
        : frame(i, ts, {
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
          });
    });
    await gw.publishAsync(`v1/vehicles/${id}/telemetry`, JSON.stringify({ frames }), { qos: 1 });
    const ticket = await withTimeout(opened, 5000, 'the ticket');
    expect(ticket).toMatchObject({
      level: 'extra_urgent',
      faultCode: 'GEN-START-FAIL',
      customerId: 'C7',
      status: 'received',
      planRef: { code: 'GEN-START-FAIL', version: 1 },
    });
    const snapshot = (await tp.platform.diagnostics.tickets.snapshot(ticket.id)) as {
      ts: number[];
      fields: Record<string, unknown>;
    };
    expect(snapshot.ts.length).toBeGreaterThan(100);
    expect(snapshot.fields['battery.socPct']).toBeDefined();
    await tp.platform.diagnostics.idle();
    const alarms = await tp.platform.diagnostics.alarms.list({ vehicleIds: [id] });
    expect(alarms.map((a) => a.ruleId).sort()).toEqual(['generator_start_failed', 'mains_lost']);
    expect(new Set(alarms.map((a) => a.incidentId)).size).toBe(1);
    expect(await tp.platform.diagnostics.tickets.list({ vehicleId: id })).toHaveLength(1);
  });
});
