import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { vehicleTopic } from '../../protocol/index.ts';
import { frame, withTimeout } from '../helpers/platform.ts';
import { metrics, provision, rssMiB, sampleRss, startPlatformProcess, type PlatformProcess } from './overload-child.ts';
import { publishPacket, rawConnect, type RawClient } from './fuzz-raw-mqtt.ts';

/**
 * Issue 6, overload: a QoS 0 flood from many gateways, faster than the platform can store, with a
 * platform component subscribed to all telemetry that has stopped reading. The platform runs as
 * `npm start` does, in a child process, so that a crash is seen as a crash.
 *
 * Promised (docs/protocol.md, "Flow control"): memory stays bounded (each connection has a bounded
 * number of messages in the broker, then it is not read until they complete: TCP slows the
 * publisher); QoS 0 beyond a vehicle's rate is dropped and counted (`mqtt.qos0_dropped`), so that
 * every QoS 0 message is either stored or counted; QoS 1 is never dropped, only slowed: gateways
 * that pipeline QoS 1 as fast as they can get every message stored and acknowledged, and a
 * well-behaved vehicle's QoS 1 traffic is all stored; a subscriber that stops reading is closed
 * rather than waited for; the process survives the flood, its end, and shuts down cleanly afterwards.
 */
const FLOODERS = 40;
const FLOOD_MS = 10_000;
const MAX_PER_FLOODER = 25_000; // bound on count as well as time: 1,000,000 messages at most
const CHUNK = 200; // QoS 0 publishes per write
const QOS0_RATE = 50; // MQTT_QOS0_RATE for this run (messages per second per vehicle)
const RSS_LIMIT_MIB = 600; // at rest about 170 MiB, peaks seen 300–400 MiB; unbounded, the same flood took it past 2 GiB
const GOOD_FRAMES_MAX = 5_000;
const PIPELINERS = 4; // QoS 1 gateways that send without waiting for PUBACKs: backpressure, not drops
const MAX_PER_PIPELINER = 20_000;

describe('overload: QoS 0 flood from many gateways', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'pw-overload-'));
  let platform: PlatformProcess | undefined;

  afterAll(async () => {
    await platform?.stop(5_000);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('keeps memory bounded, drops and counts the excess, stores all QoS 1 traffic, and survives', async () => {
    const flooders = Array.from({ length: FLOODERS }, (_, i) => `OVF${i}`);
    const pipeliners = Array.from({ length: PIPELINERS }, (_, i) => `OVP${i}`);
    const secrets = await provision(dataDir, [...flooders, ...pipeliners, 'OVGOOD', 'OVAFTER'], ['svc-stuck']);
    platform = await startPlatformProcess(dataDir, { MQTT_QOS0_RATE: String(QOS0_RATE) });
    const p = platform;
    const port = p.ports.mqtt;
    const baseline = rssMiB(p.pid)!;

    // memory, sampled all along; at its highs, what the platform says held it
    const rss = sampleRss(p, baseline);

    const floodStarted = Date.now();
    try {
      // a platform component (service account) subscribed to every vehicle's telemetry that stops reading
      const stuck = await rawConnect({
        port,
        clientId: 'svc-stuck',
        username: 'svc-stuck',
        password: secrets.get('svc-stuck')!,
      });
      expect(await stuck.subscribe('v1/vehicles/+/telemetry', 0)).toEqual([0]);
      stuck.socket.pause();

      // the flood: valid telemetry at QoS 0, pre-encoded, as fast as the sockets take it
      const t0 = Date.now() - 3_600_000;
      const sent = new Map<string, number>();
      const deadline = Date.now() + FLOOD_MS;
      const clients = await Promise.all(
        flooders.map((id) => rawConnect({ port, clientId: id, username: id, password: secrets.get(id)! })),
      );
      const flood = clients.map(async (c: RawClient, i) => {
        const id = flooders[i]!;
        const topic = vehicleTopic(id, 'telemetry');
        // a valid frame with a fresh (seq, ts) each time, cheaply: the test process must not be the bottleneck
        const [head, mid, tail] = JSON.stringify(frame(111_111_111, 222_222_222_222)).split(
          /111111111|222222222222/,
        ) as [string, string, string];
        let seq = 0;
        while (Date.now() < deadline && seq < MAX_PER_FLOODER && p.isAlive()) {
          const packets: Buffer[] = [];
          for (let k = 0; k < CHUNK; k++, seq++)
            packets.push(publishPacket(topic, head + seq + mid + (t0 + seq) + tail, 0));
          try {
            await c.write(Buffer.concat(packets));
          } catch {
            break; // closed under us: the process died, reported below
          }
          sent.set(id, seq);
          // let this process's own I/O (the QoS 1 vehicle below) run between writes
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
        c.end(); // DISCONNECT after the last publish: the broker reads everything before it
      });

      // QoS 1 gateways that pipeline without waiting for PUBACKs (ids cycle; TCP is their only brake)
      const pipelined = new Map<string, number>();
      const pipes = await Promise.all(
        pipeliners.map((id) => rawConnect({ port, clientId: id, username: id, password: secrets.get(id)! })),
      );
      const pipeline = pipes.map(async (c: RawClient, i) => {
        const id = pipeliners[i]!;
        const topic = vehicleTopic(id, 'telemetry');
        const [head, mid, tail] = JSON.stringify(frame(111_111_111, 222_222_222_222)).split(
          /111111111|222222222222/,
        ) as [string, string, string];
        let seq = 0;
        while (Date.now() < deadline && seq < MAX_PER_PIPELINER && p.isAlive()) {
          const packets: Buffer[] = [];
          for (let k = 0; k < CHUNK; k++, seq++)
            packets.push(publishPacket(topic, head + seq + mid + (t0 + seq) + tail, 1, (seq % 65_535) + 1));
          try {
            await c.write(Buffer.concat(packets));
          } catch {
            break;
          }
          pipelined.set(id, seq);
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
      });

      // meanwhile a well-behaved vehicle sends QoS 1 telemetry, one message at a time
      const goodClient = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {
        clientId: 'OVGOOD',
        username: 'OVGOOD',
        password: secrets.get('OVGOOD')!,
        reconnectPeriod: 0,
      });
      goodClient.on('error', () => undefined);
      let acked = 0;
      let slowestAckMs = 0;
      const good = (async () => {
        while (Date.now() < deadline && acked < GOOD_FRAMES_MAX && p.isAlive()) {
          const t = Date.now();
          await withTimeout(
            goodClient.publishAsync(
              vehicleTopic('OVGOOD', 'telemetry'),
              JSON.stringify(frame(acked, t0 + acked * 1000)),
              { qos: 1 },
            ),
            20_000,
            'a QoS 1 PUBACK during the flood',
          );
          slowestAckMs = Math.max(slowestAckMs, Date.now() - t);
          acked++;
        }
      })();

      await Promise.all([...flood, ...pipeline, good]);
      const floodEnded = Date.now();
      expect(p.isAlive(), `the platform died during the flood:\n${p.tail()}`).toBe(true);
      const totalSent = [...sent.values()].reduce((a, b) => a + b, 0);
      console.log(
        `flood: ${totalSent} QoS 0 messages from ${FLOODERS} gateways in ${FLOOD_MS / 1000} s; meanwhile ${acked} QoS 1 frames acknowledged, the slowest PUBACK after ${slowestAckMs} ms`,
      );
      expect(acked).toBeGreaterThan(0);

      // every QoS 0 message is either stored or counted as dropped, once the broker has read them all
      let m = await metrics(p.ports.http);
      const accounted = (id: string) =>
        (m.byKey['ingest.frames_stored']?.[id] ?? 0) + (m.byKey['mqtt.qos0_dropped']?.[id] ?? 0);
      while (flooders.some((id) => accounted(id) < sent.get(id)!) && Date.now() - floodEnded < 60_000 && p.isAlive()) {
        await new Promise<void>((resolve) => setTimeout(resolve, 250)); // polling a live process: bounded by the deadline above
        m = await metrics(p.ports.http);
      }
      expect(p.isAlive(), `the platform died after the flood:\n${p.tail()}`).toBe(true);
      const elapsedS = Math.ceil((Date.now() - floodStarted) / 1000);
      for (const id of flooders) {
        expect(accounted(id), `${id}: stored + dropped`).toBe(sent.get(id));
        expect(m.byKey['mqtt.qos0_dropped']?.[id] ?? 0, `${id}: dropped`).toBeGreaterThan(0);
        // the rate lets through QOS0_RATE a second, plus a one-second burst
        expect(m.byKey['ingest.frames_stored']?.[id] ?? 0, `${id}: stored`).toBeLessThanOrEqual(
          QOS0_RATE * (elapsedS + 1),
        );
      }
      console.log(
        `after the flood: dropped ${m.totals['mqtt.qos0_dropped']}, stored ${m.totals['ingest.frames_stored']}; RSS baseline ${baseline.toFixed(0)} MiB, ${rss.heldBy()}`,
      );

      // every acknowledged QoS 1 frame is stored, exactly those
      expect(m.byKey['ingest.frames_stored']?.['OVGOOD']).toBe(acked);
      await goodClient.endAsync();
      // the pipelining QoS 1 gateways were slowed, not dropped: every message acknowledged and stored
      for (const [i, c] of pipes.entries()) {
        const id = pipeliners[i]!;
        while (c.acks() < pipelined.get(id)! && !c.isClosed() && Date.now() - floodEnded < 90_000)
          await new Promise<void>((resolve) => setTimeout(resolve, 100));
        expect(c.acks(), `${id}: PUBACKs`).toBe(pipelined.get(id));
        c.end();
      }
      m = await metrics(p.ports.http);
      for (const id of pipeliners) {
        expect(m.byKey['ingest.frames_stored']?.[id], `${id}: stored`).toBe(pipelined.get(id));
        expect(m.byKey['mqtt.qos0_dropped']?.[id]).toBeUndefined();
      }
      console.log(
        `QoS 1 pipelined: ${[...pipelined.values()].reduce((a, b) => a + b, 0)} messages, all acknowledged and stored; receive window full ${m.totals['mqtt.receive_window_full'] ?? 0} times`,
      );

      // the stuck subscriber was closed as a slow consumer instead of being waited for (its own socket,
      // paused, does not see the close: the platform's counter tells)
      while (!m.byKey['mqtt.slow_consumer_disconnected']?.['svc-stuck'] && Date.now() - floodEnded < 60_000) {
        await new Promise<void>((resolve) => setTimeout(resolve, 250));
        m = await metrics(p.ports.http);
      }
      expect(m.byKey['mqtt.slow_consumer_disconnected']?.['svc-stuck']).toBe(1);
      stuck.socket.destroy();

      // memory stayed bounded all along
      expect(rss.peak(), rss.heldBy()).toBeLessThan(RSS_LIMIT_MIB);

      // still serving: health, a new connection, a QoS 1 frame stored
      const health = await fetch(`http://127.0.0.1:${p.ports.http}/healthz`);
      expect(health.status).toBe(200);
      const after = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {
        clientId: 'OVAFTER',
        username: 'OVAFTER',
        password: secrets.get('OVAFTER')!,
        reconnectPeriod: 0,
      });
      await withTimeout(
        after.publishAsync(vehicleTopic('OVAFTER', 'telemetry'), JSON.stringify(frame(1)), { qos: 1 }),
        5_000,
        'a PUBACK after the flood',
      );
      await after.endAsync();
      m = await metrics(p.ports.http);
      expect(m.byKey['ingest.frames_stored']?.['OVAFTER']).toBe(1);
    } finally {
      rss.stop();
    }

    // and it shuts down cleanly
    const exit = await withTimeout(p.stop(20_000), 30_000, 'the platform to stop');
    expect(exit, p.tail()).toEqual({ code: 0, signal: null });
  }, 180_000);
});
