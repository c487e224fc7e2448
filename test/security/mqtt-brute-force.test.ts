import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vehicleTopic } from '../../protocol/index.ts';
import { frame, inbox, refusalCode } from '../helpers/platform.ts';
import { MOSQUITTO_PUB, runTool, startClockedPlatform, type ClockedPlatform } from './helpers.ts';

/**
 * Guessing a vehicle's secret (ASVS V2.2.1 anti-automation), over real TCP. docs/protocol.md:
 * wrong secret → CONNACK 4; after 5 failures a minute the id is blocked, CONNACK 5, with a
 * back-off doubling from 1 s to 5 min; while blocked even the right secret is refused (a correct
 * guess is not told apart); once the block is over the right secret is accepted and clears the
 * record. The platform's clock is moved by the test, so the minutes pass at once.
 */
describe('MQTT: brute-forcing a vehicle secret is throttled', () => {
  let tp: ClockedPlatform;
  const refused = (reason: string) => tp.platform.counters.get('mqtt.connect_refused', reason);

  beforeAll(async () => {
    tp = await startClockedPlatform();
  });
  afterAll(async () => {
    await tp?.close();
  });

  const guess = (id: string, n: number) => refusalCode(tp, id, `guess-${n}-${'x'.repeat(40)}`);

  it('5 free guesses, then blocked: CONNACK 5 for any secret, the right one too, without checking it; the live session is not disturbed', async () => {
    const v = await tp.addVehicle('BF-1');
    const other = await tp.addVehicle('BF-2');
    const live = await tp.connect(v.id, v.secret);
    const liveBox = inbox(live);
    await live.subscribeAsync(vehicleTopic(v.id, 'commands'), { qos: 1 });

    const bad = refused('bad_secret');
    const throttled = refused('throttled');
    for (let i = 0; i < 6; i++) expect(await guess(v.id, i), `guess ${i + 1}`).toBe(4);
    expect(refused('bad_secret')).toBe(bad + 6);
    // blocked now: a wrong guess and the right secret get the same answer, and the secret is not even checked
    expect(await guess(v.id, 7)).toBe(5);
    expect(await refusalCode(tp, v.id, v.secret)).toBe(5);
    expect(refused('throttled')).toBe(throttled + 2);
    expect(refused('bad_secret')).toBe(bad + 6);
    // per id: another vehicle is not affected
    const gw2 = await tp.connect(other.id, other.secret);
    await gw2.endAsync();

    // the vehicle's own live session went on undisturbed
    expect(live.connected).toBe(true);
    await tp.platform.broker.publishToVehicle(v.id, 'commands', {
      id: 'still-here',
      ts: Date.now(),
      name: 'ping',
      args: {},
    });
    await liveBox.waitFor(
      (m) => (m.json as { id?: string }).id === 'still-here',
      5000,
      'a command on the live session',
    );
    await live.publishAsync(vehicleTopic(v.id, 'telemetry'), JSON.stringify(frame(1)), { qos: 1 });
    expect(await tp.platform.telemetry.count(v.id)).toBe(1);

    // as documented: after the block (1 s for the first) the right secret is accepted…
    tp.advance(999);
    expect(await refusalCode(tp, v.id, v.secret)).toBe(5);
    tp.advance(1);
    const again = await tp.connect(v.id, v.secret);
    expect(again.connected).toBe(true);
    await again.endAsync();
    // …and clears the record: five free guesses again
    for (let i = 0; i < 5; i++) expect(await guess(v.id, 100 + i)).toBe(4);
    expect(await guess(v.id, 105)).toBe(4);
    expect(await guess(v.id, 106)).toBe(5);
  });

  it('the back-off doubles from 1 s up to 5 min and stays there while the guessing goes on; it ends a window after the last block', async () => {
    const v = await tp.addVehicle('BF-3');
    for (let i = 0; i < 5; i++) expect(await guess(v.id, i)).toBe(4);
    const expected = [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300].map((s) => s * 1000);
    let n = 10;
    expect(await guess(v.id, n++)).toBe(4); // the 6th failure: blocked for 1 s
    for (const [i, block] of expected.entries()) {
      tp.advance(block - 1);
      expect(await guess(v.id, n++), `1 ms before the end of block ${i + 1} (${block} ms)`).toBe(5);
      expect(await refusalCode(tp, v.id, v.secret), `the right secret 1 ms before the end of block ${i + 1}`).toBe(5);
      tp.advance(1);
      // the block is over: the next guess is checked (wrong: 4) and starts the next, longer block
      expect(await guess(v.id, n++), `right after block ${i + 1} (${block} ms)`).toBe(4);
    }
    // the attacker gives up: a window (60 s) after the last block the record is forgotten
    tp.advance(300_000 + 60_001);
    for (let i = 0; i < 5; i++) expect(await guess(v.id, 1000 + i)).toBe(4);
    // and the right secret works at once
    const gw = await tp.connect(v.id, v.secret);
    await gw.endAsync();
  });

  it('an unknown vehicle id is throttled the same way: the answers do not tell which ids exist', async () => {
    const known = await tp.addVehicle('BF-4');
    const codes = async (id: string) => {
      const out: number[] = [];
      for (let i = 0; i < 8; i++) out.push(await guess(id, i));
      return out;
    };
    expect(await codes('BF-NOPE')).toEqual(await codes(known.id));
    expect(await codes(known.id)).toEqual([5, 5, 5, 5, 5, 5, 5, 5]);
  });

  it('mosquitto_pub guessing: refused with "bad user name or password", then "not authorised" once blocked, even with the right secret; accepted after the block', async () => {
    const v = await tp.addVehicle('BF-MOSQ');
    const port = String(tp.platform.ports.mqtt);
    const pub = (secret: string) =>
      runTool(MOSQUITTO_PUB, [
        '-h',
        '127.0.0.1',
        '-p',
        port,
        '-i',
        v.id,
        '-u',
        v.id,
        '-P',
        secret,
        '-q',
        '1',
        '-t',
        vehicleTopic(v.id, 'telemetry'),
        '-m',
        JSON.stringify(frame(7)),
      ]);
    for (let i = 0; i < 6; i++) {
      const r = await pub(`wrong-${i}-${'y'.repeat(40)}`);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/bad user ?name or password/i);
    }
    const blocked = await pub(v.secret);
    expect(blocked.code).not.toBe(0);
    expect(blocked.stderr).toMatch(/not authori[sz]ed/i);
    expect(await tp.platform.telemetry.count(v.id)).toBe(0);
    tp.advance(1000);
    const ok = await pub(v.secret);
    expect(ok, ok.stderr).toMatchObject({ code: 0 });
    expect(await tp.platform.telemetry.count(v.id)).toBe(1);
  });
});
