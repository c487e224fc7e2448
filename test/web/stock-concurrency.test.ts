import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SESSION_COOKIE } from '../../web/auth/sessions.ts';
import { NO_RATE_LIMITS, startWeb, type Agent, type TestWeb } from './helpers.ts';
import { seedStock } from './stock-helpers.ts';

/**
 * Available never goes below zero, whoever reserves at the same moment: 50 reservation requests
 * over real HTTP connections, all sent before any answer, for 10 units available at one store.
 * Written against the API only, so that it runs unchanged on PostgreSQL (the reservation locks its
 * (part, store) position row before it sums the ledger: resources/stock/ledger.ts lockPosition).
 */
describe('concurrent reservations', () => {
  let w: TestWeb;
  let base: string;
  let dispatcher: Agent;

  beforeAll(async () => {
    w = await startWeb({ options: { rateLimits: NO_RATE_LIMITS } });
    const supply = await w.login('supply');
    await seedStock(supply);
    await supply.post('/api/stock/receipts', { partNo: 'FF-5421', storeId: 'SP-N', qty: 10, reason: 'opening stock' });
    await supply.post('/api/stock/receipts', { partNo: 'FF-5421', storeId: 'SP-S', qty: 4, reason: 'opening stock' });
    dispatcher = await w.login('dispatcher');
    await w.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(w.app.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => w?.close());

  it('50 parallel reservations for 10 available units: exactly 10 succeed, the rest get INSUFFICIENT_STOCK naming what is available where', async () => {
    const tickets = await Promise.all(Array.from({ length: 5 }, () => w.ticket('VA1')));
    const send = (i: number) =>
      fetch(`${base}/api/tickets/${tickets[i % tickets.length]!.id}/reservations`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          cookie: `${SESSION_COOKIE}=${dispatcher.cookie}`,
          'x-csrf-token': dispatcher.csrf,
        },
        body: JSON.stringify({ lines: [{ partNo: 'FF-5421', storeId: 'SP-N', qty: 1 }] }),
      }).then(async (r) => ({
        status: r.status,
        body: (await r.json()) as { error?: { code: string; message: string } },
      }));
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => send(i)));

    const ok = answers.filter((a) => a.status === 201);
    const refused = answers.filter((a) => a.status !== 201);
    expect(ok).toHaveLength(10);
    expect(refused).toHaveLength(40);
    for (const r of refused) {
      expect(r.status).toBe(409);
      expect(r.body.error?.code).toBe('INSUFFICIENT_STOCK');
      // what is available where: none left at SP-N, 4 at the south service point
      expect(r.body.error?.message).toBe('FF-5421: 1 requested at SP-N, 0 available there; available: SP-S 4');
    }
    const balances = (await dispatcher.get('/api/stock/balances?partNo=FF-5421')).json().balances;
    expect(balances).toEqual([
      { partNo: 'FF-5421', storeId: 'SP-N', onHand: 10, reserved: 10, available: 0, inTransit: 0 },
      { partNo: 'FF-5421', storeId: 'SP-S', onHand: 4, reserved: 0, available: 4, inTransit: 0 },
    ]);
    // and the ledger holds exactly 10 reservation rows
    const moves = (await dispatcher.get('/api/stock/movements?partNo=FF-5421&storeId=SP-N')).json().movements as {
      kind: string;
    }[];
    expect(moves.filter((m) => m.kind === 'reservation')).toHaveLength(10);
  });
});
