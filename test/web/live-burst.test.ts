import { Socket as NetSocket } from 'node:net';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { TelemetryFrame } from '../../protocol/index.ts';
import { createAccounts } from '../../web/auth/accounts.ts';
import type { LiveFrame } from '../../web/live/events.ts';
import { connected, httpLogin, openLive, type LiveClient as Client } from '../helpers/live-client.ts';
import { frame, startTestPlatform, type TestPlatform } from '../helpers/platform.ts';
import { PASSWORD, TEST_COST } from './helpers.ts';

const MAX_BUFFERED = 4;
const VEHICLES = 24;

/**
 * After a pause, one commit brings the frames of many vehicles in a single turn of the event loop.
 * A console that reads is not "behind" because of that burst: it gets every frame.
 */
describe('the live layer after a burst of frames', () => {
  let tp: TestPlatform | undefined;
  let socket: Client | undefined;

  afterAll(async () => {
    socket?.disconnect();
    await tp?.close();
  });

  it('delivers a burst of frames of many vehicles, queued in one turn, to a console that reads', async () => {
    tp = await startTestPlatform({ LIVE_MAX_BUFFERED: String(MAX_BUFFERED) });
    const p = tp.platform;
    const ids = Array.from({ length: VEHICLES }, (_, i) => `BU${String(i).padStart(2, '0')}`);
    for (const id of ids) await p.vehicles.add({ id, customerId: 'C1' });
    await createAccounts({ db: p.records }, { passwordCost: TEST_COST }).add({
      id: 'engineer',
      name: 'engineer',
      role: 'engineer',
      password: PASSWORD,
    });
    const base = `http://127.0.0.1:${p.ports.http}`;
    const { cookie } = await httpLogin(base, 'engineer', PASSWORD);

    const c = openLive(base, { cookie });
    socket = c;
    const got: LiveFrame[] = [];
    c.on('frame', (m) => got.push(m));
    await connected(c, 5000, 'welcome');
    for (const vehicleId of ids)
      expect(await c.timeout(5000).emitWithAck('subscribe', { vehicleId })).toEqual({ ok: true, vehicleId });

    const dropped = p.counters.get('live.frames_dropped');
    // the platform's writes to the console's TCP connection (web/live/socket-writes.ts)
    const writes = [
      vi.spyOn(NetSocket.prototype as unknown as { _writev: () => void }, '_writev'),
      vi.spyOn(NetSocket.prototype as unknown as { _write: () => void }, '_write'),
    ];
    const platformWrites = () =>
      writes.reduce(
        (n, spy) => n + spy.mock.contexts.filter((s) => (s as NetSocket).localPort === p.ports.http).length,
        0,
      );
    const ts = Date.now();
    // one turn: what a commit of frames from every vehicle emits on the bus
    for (const [i, vehicleId] of ids.entries())
      p.bus.emit('telemetry.stored', { vehicleId, receivedAt: ts, frames: [frame(i, ts) as TelemetryFrame] });

    await vi.waitFor(() => expect(got.length).toBe(VEHICLES), { timeout: 5000, interval: 20 });
    // the first frame at once, the other 23 of the turn together: two writes, not one per frame
    expect(platformWrites()).toBe(2);
    for (const spy of writes) spy.mockRestore();
    expect(new Set(got.map((m) => m.vehicleId))).toEqual(new Set(ids));
    expect(p.counters.get('live.frames_dropped')).toBe(dropped);
  });
});
