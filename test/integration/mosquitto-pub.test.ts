import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vehicleTopic } from '../../protocol/index.ts';
import { frame, startTestPlatform, type TestPlatform } from '../helpers/platform.ts';

const MOSQUITTO_PUB = '/usr/bin/mosquitto_pub';

/** Runs mosquitto_pub and resolves with its exit code and output (it never rejects on a non-zero exit). */
function mosquittoPub(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(MOSQUITTO_PUB, args, { timeout: 15_000 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') return reject(err); // could not run it at all
      resolve({ code: err ? (err.code as number) : 0, stdout, stderr });
    });
  });
}

/** A gateway that is not MQTT.js: Debian's mosquitto_pub against the embedded broker. */
describe('mosquitto_pub as a gateway', () => {
  let tp: TestPlatform;
  let port: string;

  beforeAll(async () => {
    tp = await startTestPlatform();
    port = String(tp.platform.ports.mqtt);
  });
  afterAll(async () => {
    await tp?.close();
  });

  const args = (id: string, secret: string, payload: string) => [
    '-h',
    '127.0.0.1',
    '-p',
    port,
    '-i',
    id,
    '-u',
    id,
    '-P',
    secret,
    '-q',
    '1',
    '-t',
    vehicleTopic(id, 'telemetry'),
    '-m',
    payload,
  ];

  it("gets a QoS 1 frame stored with a provisioned vehicle's credentials", async () => {
    const { id, secret } = await tp.addVehicle('MOSQ1');
    const f = frame(42);
    const result = await mosquittoPub(args(id, secret, JSON.stringify(f)));
    expect(result, result.stderr).toMatchObject({ code: 0 });
    // mosquitto_pub exits after the PUBACK, which the platform sends only once the frame is stored
    const stored = await tp.platform.telemetry.frames(id, 0, Date.now() + 60_000);
    expect(stored.map((s) => s.frame)).toEqual([expect.objectContaining({ seq: 42, ts: f.ts, source: 'mains' })]);
  });

  it('is refused with a wrong secret and stores nothing', async () => {
    const { id } = await tp.addVehicle('MOSQ2');
    const before = tp.platform.counters.get('mqtt.connect_refused', 'bad_secret');
    const result = await mosquittoPub(args(id, 'wrong-secret', JSON.stringify(frame(1))));
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/not authori[sz]ed|bad user ?name or password/i);
    expect(tp.platform.counters.get('mqtt.connect_refused', 'bad_secret')).toBe(before + 1);
    expect(await tp.platform.telemetry.count(id)).toBe(0);
  });
});
