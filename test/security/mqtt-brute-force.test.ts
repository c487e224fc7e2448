import { createConnection } from 'node:net';
import { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vehicleTopic } from '../../protocol/index.ts';
import { frame, inbox } from '../helpers/platform.ts';
import { MOSQUITTO_PUB, runTool, startClockedPlatform, type ClockedPlatform } from './helpers.ts';

/**
 * Guessing a vehicle's secret, and keeping a vehicle offline by guessing (ASVS V2.2.1
 * anti-automation), over real TCP from several loopback addresses (127.0.0.x stand for different
 * machines). docs/protocol.md: verify first, throttle the failures — failures count per (client
 * id, source address) and per address, never per id alone: after 5 failures of one id from one
 * address (20 from one address in all) that source is throttled, CONNACK 5, for 1 s doubling to
 * 5 min while it goes on; a throttled source gets no scrypt work, only a secret verified before
 * is still accepted from it. The platform's clock is moved by the test, so the minutes pass at once.
 */
describe('MQTT: guessing is throttled per source, and cannot keep a vehicle out', () => {
  let tp: ClockedPlatform;
  const refused = (reason: string) => tp.platform.counters.get('mqtt.connect_refused', reason);

  beforeAll(async () => {
    tp = await startClockedPlatform();
  });
  afterAll(async () => {
    await tp?.close();
  });

  /** An MQTT.js client whose TCP connection comes from `from` (a loopback address). */
  function clientFrom(from: string, id: string, secret: string): MqttClient {
    const port = tp.platform.ports.mqtt;
    return new MqttClient(() => createConnection({ host: '127.0.0.1', port, localAddress: from }), {
      clientId: id,
      username: id,
      password: secret,
      reconnectPeriod: 0,
      connectTimeout: 5000,
      protocolVersion: 4,
    });
  }
  /** Connects from `from`: resolves with the connected client, rejects with the refusal. */
  function connectFrom(from: string, id: string, secret: string): Promise<MqttClient> {
    return new Promise((resolve, reject) => {
      const client = clientFrom(from, id, secret);
      client.once('error', (err) => {
        client.end(true);
        reject(err);
      });
      client.once('connect', () => {
        client.removeAllListeners('error');
        client.on('error', () => undefined);
        resolve(client);
      });
    });
  }
  /** 0 when the CONNECT is accepted (the client is closed again), else the CONNACK code. */
  async function attempt(from: string, id: string, secret: string): Promise<number> {
    try {
      const c = await connectFrom(from, id, secret);
      await c.endAsync();
      return 0;
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (typeof code !== 'number') throw new Error(`connection failed without a CONNACK code: ${String(err)}`);
      return code;
    }
  }
  const guess = (from: string, id: string, n: number) => attempt(from, id, `guess-${n}-${'x'.repeat(40)}`);

  it('the reported attack: a wrong-secret loop every 100 ms from another address; the real gateway reconnects 12 of 12 times', async () => {
    const v = await tp.addVehicle('BF-1');
    const other = await tp.addVehicle('BF-2');
    const attacker = '127.0.0.2';
    const gateway = '127.0.0.3';
    const bad = refused('bad_secret');
    const throttled = refused('throttled');
    const answers: number[] = [];
    let reconnects = 0;
    let n = 0;
    for (let round = 0; round < 12; round++) {
      // ~2.5 s of guessing at 10 a second, then the gateway reconnects
      for (let i = 0; i < 25; i++) {
        answers.push(await guess(attacker, v.id, n++));
        tp.advance(100);
      }
      expect(await attempt(gateway, v.id, v.secret), `reconnect ${round + 1}`).toBe(0);
      reconnects++;
    }
    expect(reconnects).toBe(12);
    // the attacker: 5 free failures, the 6th starts a block; then mostly refused unchecked (5)
    expect(answers.slice(0, 6)).toEqual([4, 4, 4, 4, 4, 4]);
    expect(answers[6]).toBe(5);
    const checked = answers.filter((c) => c === 4).length;
    expect(refused('bad_secret') - bad).toBe(checked);
    expect(refused('throttled') - throttled).toBe(answers.length - checked);
    // with 1, 2, 4, 8, 16 s blocks over 30 s: at most a handful of the 300 guesses were checked at all
    expect(checked).toBeLessThanOrEqual(11);
    // per (id, address): the attacker's other guesses from its address are checked as usual, another vehicle is unaffected
    expect(await guess(attacker, other.id, 1)).toBe(4);
    expect(await attempt(gateway, other.id, other.secret)).toBe(0);
  });

  it('a throttled source gets no scrypt work, yet a secret verified before still gets in from it (a shared NAT address); a live session is undisturbed', async () => {
    const v = await tp.addVehicle('BF-NAT');
    const fresh = await tp.addVehicle('BF-NAT-NEW');
    const nat = '127.0.0.4';
    const live = await connectFrom(nat, v.id, v.secret); // verified once: its fingerprint is remembered
    const liveBox = inbox(live);
    await live.subscribeAsync(vehicleTopic(v.id, 'commands'), { qos: 1 });

    for (let i = 0; i < 6; i++) expect(await guess(nat, v.id, i), `guess ${i + 1}`).toBe(4);
    const bad = refused('bad_secret');
    const throttled = refused('throttled');
    // throttled now: wrong guesses are refused unchecked (bad_secret does not move: no verification ran)…
    expect(await guess(nat, v.id, 7)).toBe(5);
    expect(await guess(nat, v.id, 8)).toBe(5);
    expect(refused('bad_secret')).toBe(bad);
    expect(refused('throttled')).toBe(throttled + 2);
    // the live session goes on undisturbed
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
    await live.endAsync();
    // the gateway reconnects from the same address with its secret, verified before: accepted
    const again = await connectFrom(nat, v.id, v.secret);
    expect(again.connected).toBe(true);
    await again.endAsync();
    // a success clears the source's record: guesses are checked again (and start a fresh count)
    expect(await guess(nat, v.id, 9)).toBe(4);

    // a secret never verified is not computed for a throttled source: it waits for the block's end
    for (let i = 0; i < 6; i++) expect(await guess(nat, fresh.id, 100 + i)).toBe(4);
    expect(await attempt(nat, fresh.id, fresh.secret)).toBe(5);
    // from any other address it is accepted at once
    expect(await attempt('127.0.0.5', fresh.id, fresh.secret)).toBe(0);
    // and now that it was verified, from the throttled source too
    expect(await attempt(nat, fresh.id, fresh.secret)).toBe(0);
  });

  it('one address guessing many ids: throttled after 20 failures for every id, other addresses unaffected', async () => {
    const a = await tp.addVehicle('BF-ADDR-A');
    const b = await tp.addVehicle('BF-ADDR-B');
    const sprayer = '127.0.0.6';
    const unknown = refused('unknown_account');
    for (let i = 0; i < 21; i++) expect(await guess(sprayer, `BF-SPRAY-${i}`, i), `id ${i + 1}`).toBe(4);
    expect(refused('unknown_account') - unknown).toBe(21);
    // the 21st failure throttled the address: any id from it, known or not, right secret never verified or not
    expect(await guess(sprayer, 'BF-SPRAY-NEW', 1)).toBe(5);
    expect(await guess(sprayer, a.id, 1)).toBe(5);
    expect(await attempt(sprayer, a.id, a.secret)).toBe(5);
    // another address is not affected
    expect(await attempt('127.0.0.7', a.id, a.secret)).toBe(0);
    expect(await attempt('127.0.0.7', b.id, b.secret)).toBe(0);
    // a's secret is verified now: accepted even from the throttled address
    expect(await attempt(sprayer, a.id, a.secret)).toBe(0);
    // the block ends (1 s for the first): checked again
    tp.advance(1000);
    expect(await guess(sprayer, 'BF-SPRAY-LATE', 1)).toBe(4);
    expect(await guess(sprayer, 'BF-SPRAY-LATE', 2)).toBe(5); // the next block, 2 s
  });

  it('the back-off doubles from 1 s up to 5 min and stays there while the guessing goes on; it ends a window after the last block', async () => {
    const v = await tp.addVehicle('BF-3');
    const from = '127.0.0.8';
    for (let i = 0; i < 5; i++) expect(await guess(from, v.id, i)).toBe(4);
    const expected = [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300].map((s) => s * 1000);
    let n = 10;
    expect(await guess(from, v.id, n++)).toBe(4); // the 6th failure: blocked for 1 s
    for (const [i, block] of expected.entries()) {
      tp.advance(block - 1);
      expect(await guess(from, v.id, n++), `1 ms before the end of block ${i + 1} (${block} ms)`).toBe(5);
      tp.advance(1);
      // the block is over: the next guess is checked (wrong: 4) and starts the next, longer block
      expect(await guess(from, v.id, n++), `right after block ${i + 1} (${block} ms)`).toBe(4);
    }
    // all the while the vehicle itself connects from its own address
    expect(await attempt('127.0.0.9', v.id, v.secret)).toBe(0);
    // the attacker gives up: a window (60 s) after the last block the record is forgotten
    tp.advance(300_000 + 60_001);
    for (let i = 0; i < 5; i++) expect(await guess(from, v.id, 1000 + i)).toBe(4);
  });

  it('an unknown vehicle id is throttled the same way: the answers do not tell which ids exist', async () => {
    const known = await tp.addVehicle('BF-4');
    const from = '127.0.0.10';
    const codes = async (id: string) => {
      const out: number[] = [];
      for (let i = 0; i < 8; i++) out.push(await guess(from, id, i));
      return out;
    };
    expect(await codes('BF-NOPE')).toEqual(await codes(known.id));
    expect(await codes(known.id)).toEqual([5, 5, 5, 5, 5, 5, 5, 5]);
  });

  it('service accounts (svc-…) the same: a stranger guessing cannot keep the real service out', async () => {
    const { secret } = await tp.platform.serviceAccounts.add('svc-bf', 'brute-force test');
    for (let i = 0; i < 6; i++) expect(await guess('127.0.0.11', 'svc-bf', i)).toBe(4);
    expect(await guess('127.0.0.11', 'svc-bf', 7)).toBe(5);
    for (let i = 0; i < 3; i++) expect(await attempt('127.0.0.12', 'svc-bf', secret)).toBe(0);
  });

  it('mosquitto_pub guessing: "bad user name or password", then "not authorised" once its source is throttled; the gateway from its own address publishes throughout', async () => {
    const v = await tp.addVehicle('BF-MOSQ');
    const port = String(tp.platform.ports.mqtt);
    const pub = (from: string, secret: string, seq: number) =>
      runTool(MOSQUITTO_PUB, [
        ...['-h', '127.0.0.1', '-p', port, '-A', from, '-i', v.id, '-u', v.id, '-P', secret, '-q', '1'],
        ...['-t', vehicleTopic(v.id, 'telemetry'), '-m', JSON.stringify(frame(seq))],
      ]);
    for (let i = 0; i < 6; i++) {
      const r = await pub('127.0.0.13', `wrong-${i}-${'y'.repeat(40)}`, 1);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/bad user ?name or password/i);
    }
    const blocked = await pub('127.0.0.13', `wrong-7-${'y'.repeat(40)}`, 1);
    expect(blocked.code).not.toBe(0);
    expect(blocked.stderr).toMatch(/not authori[sz]ed/i);
    expect(await tp.platform.telemetry.count(v.id)).toBe(0);
    const ok = await pub('127.0.0.14', v.secret, 7);
    expect(ok, ok.stderr).toMatchObject({ code: 0 });
    expect(await tp.platform.telemetry.count(v.id)).toBe(1);
  });
});
