import type { Client } from 'aedes';
import mqttPacket from 'mqtt-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vehicleTopic } from '../../protocol/index.ts';
import type { PlatformEvents } from '../../core/events.ts';
import { frame, inbox, startTestPlatform, withTimeout, type TestPlatform } from '../helpers/platform.ts';

/** What aedes and mqtt-packet keep per connection, as far as these checks look. */
interface ClientInside {
  pause: unknown;
  resume: unknown;
  _parser: {
    settings: Record<string, unknown>;
    _list: object;
    _parseLength: unknown;
    listeners(event: string): unknown[];
  };
}

/**
 * What a connected, idle vehicle keeps in the broker (broker/idle-footprint.ts, flow-control.ts,
 * packet-size.ts; the figures in docs/benchmarks.md, "What an idle connection costs"): no copy of
 * its CONNECT packet (secret, will), no stream as the parser's buffer list, and no closures of its
 * own for the guards — while the guards and ingest still work on the same connections.
 */
describe('an idle vehicle connection', () => {
  let tp: TestPlatform;
  const inside = (id: string) =>
    (tp.platform.broker.aedes as unknown as { clients: Record<string, Client> }).clients[id] as unknown as ClientInside;

  beforeAll(async () => {
    tp = await startTestPlatform();
  });
  afterAll(async () => {
    await tp?.close();
  });

  it('keeps neither its CONNECT packet, nor a stream as its read buffer, nor closures of its own for the guards', async () => {
    const a = await tp.addVehicle('IDLE-A');
    const b = await tp.addVehicle('IDLE-B');
    await tp.connect(a.id, a.secret);
    await tp.connect(b.id, b.secret, {
      will: {
        topic: vehicleTopic(b.id, 'status'),
        payload: Buffer.from(JSON.stringify({ online: false, ts: Date.now() })),
        qos: 1,
        retain: true,
      },
    });
    const [ca, cb] = [inside(a.id), inside(b.id)];
    for (const [c, secret] of [
      [ca, a.secret],
      [cb, b.secret],
    ] as const) {
      // the parser reads only the protocol version of the CONNECT it parsed
      expect(c._parser.settings).toEqual({ protocolVersion: 4 });
      expect(JSON.stringify(c._parser.settings)).not.toContain(secret);
      // bl's plain BufferList, not its Duplex stream
      expect(c._parser._list).not.toHaveProperty('_readableState');
      expect(c._parser._list.constructor.name).toBe('BufferList');
    }
    // the guards' functions are shared by every connection
    expect(ca._parser._parseLength).toBe(cb._parser._parseLength);
    expect(ca.pause).toBe(cb.pause);
    expect(ca.resume).toBe(cb.resume);
    expect(ca._parser.listeners('packet')[0]).toBe(cb._parser.listeners('packet')[0]);
    // no Buffer pre-built for each of the 65,536 two-byte numbers
    expect(mqttPacket.writeToStream.cacheNumbers).toBe(false);
  });

  it('streams its queue back at connect only when something was queued for it', async () => {
    // the queue streams aedes opens at CONNECT (broker/session-store.ts, patches/aedes+*.patch)
    const persistence = (tp.platform.broker.aedes as unknown as { persistence: { outgoingStream(c: Client): unknown } })
      .persistence;
    const streamedFor: string[] = [];
    const outgoingStream = persistence.outgoingStream;
    persistence.outgoingStream = function (client: Client) {
      streamedFor.push(client.id);
      return outgoingStream.call(this, client);
    };
    try {
      // nothing ever queued: no stream
      const fresh = await tp.addVehicle('IDLE-Q1');
      await tp.connect(fresh.id, fresh.secret, { clean: false });
      // a persistent session, offline while a command is published: queued, and delivered at reconnect
      const away = await tp.addVehicle('IDLE-Q2');
      const first = await tp.connect(away.id, away.secret, { clean: false });
      await first.subscribeAsync(vehicleTopic(away.id, 'commands'), { qos: 1 });
      await first.endAsync();
      await tp.platform.broker.publishToVehicle(away.id, 'commands', {
        id: 'queued-1',
        ts: Date.now(),
        name: 'ping',
        args: {},
      });
      const again = await tp.connect(away.id, away.secret, { clean: false });
      const got = inbox(again);
      const queued = await got.waitFor(
        (m) => m.topic === vehicleTopic(away.id, 'commands'),
        5000,
        'the queued command',
      );
      expect(queued.json).toMatchObject({ id: 'queued-1' });
      expect(streamedFor).not.toContain(fresh.id);
      expect(streamedFor).toContain(away.id);
    } finally {
      persistence.outgoingStream = outgoingStream;
    }
  });

  it('still stores what a vehicle sends at QoS 1 and QoS 2 after being idle', async () => {
    const v = await tp.addVehicle('IDLE-C');
    const client = await tp.connect(v.id, v.secret);
    const stored: number[] = [];
    let bothStored!: () => void;
    const done = new Promise<void>((resolve) => (bothStored = resolve));
    const off = tp.platform.bus.on('telemetry.stored', (e: PlatformEvents['telemetry.stored']) => {
      if (e.vehicleId !== v.id) return;
      stored.push(...e.frames.map((f) => f.seq));
      if (stored.length >= 2) bothStored();
    });
    try {
      await client.publishAsync(vehicleTopic(v.id, 'telemetry'), JSON.stringify(frame(0)), { qos: 1 });
      await client.publishAsync(vehicleTopic(v.id, 'telemetry'), JSON.stringify(frame(1)), { qos: 2 });
      await withTimeout(done, 5000, 'both frames stored');
      expect(stored.sort()).toEqual([0, 1]);
    } finally {
      off();
    }
  });
});
