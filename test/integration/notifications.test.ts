import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Ticket } from '../../diagnostics/types.ts';
import { frame, startTestPlatform, withTimeout, type TestPlatform } from '../helpers/platform.ts';

describe('notifications end to end: a simulated fault over MQTT', () => {
  let tp: TestPlatform;
  beforeAll(async () => {
    tp = await startTestPlatform({ PUBLIC_URL: 'https://pw.example.com' });
  });
  afterAll(async () => tp.close());

  it('opens an extra-urgent ticket and the customer’s contacts get messages, written with the ticket', async () => {
    const { id, secret } = await tp.addVehicle('GEN-FAIL-N1', 'C9');
    const contact = await tp.platform.alerts.contacts.addToCustomer('C9', {
      name: 'Duty officer',
      language: 'zh',
      channels: [
        { channel: 'email', target: 'duty@c9.example' },
        { channel: 'dingtalk', target: 'c9-robot' },
      ],
    });
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
    await tp.platform.diagnostics.idle();
    const rows = await tp.platform.records
      .selectFrom('notifications')
      .selectAll()
      .where('customer_id', '=', 'C9')
      .orderBy('id')
      .execute();
    const first = rows.filter((r) => r.kind === 'ticket_opened');
    // (delivery is the dispatcher's: without a channels file here these rows fail as "channel not configured")
    expect(first.map((r) => [r.channel, r.target, r.language])).toEqual([
      ['email', 'duty@c9.example', 'zh'],
      ['dingtalk', 'c9-robot', 'zh'],
    ]);
    expect(first[0]!.key).toMatch(new RegExp(`^ticket:${ticket.id}:opened:contact:${contact.id}:email:`));
    expect(first[0]!.body).toContain(`https://pw.example.com/#/tickets/${ticket.id}`);
    expect(first[0]!.body).toContain(ticket.number);
    // the whole incident reached the contact as at most one message per kind and channel, the rest merged
    const final = await tp.platform.diagnostics.tickets.get(ticket.id);
    expect(final.level).toBe('extra_urgent');
    const notMerged = rows.filter((r) => r.status !== 'merged');
    const perKindChannel = new Map<string, number>();
    for (const r of notMerged)
      perKindChannel.set(`${r.kind}/${r.channel}`, (perKindChannel.get(`${r.kind}/${r.channel}`) ?? 0) + 1);
    for (const [k, n] of perKindChannel) expect(n, k).toBe(1);
    expect(rows.every((r) => r.thread === `incident:${ticket.incidentId}`)).toBe(true);
  });
});
