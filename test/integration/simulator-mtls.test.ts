import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createScaledClock } from '../../simulators/clock.ts';
import { createFleet } from '../../simulators/fleet/fleet.ts';
import { runCerts } from '../../platform/certs.ts';
import { readSummaryLine } from '../../simulators/fleet/summary-line.ts';
import { startTestPlatform, type TestPlatform } from '../helpers/platform.ts';

/**
 * Issue 19: the gateway simulator over mutual TLS. `npm run simulate -- --broker mqtts://… --ca FILE
 * --client-certs DIR` against a platform that requires client certificates and has no plain port;
 * the certificates come from `npm run certs`.
 */
let dir: string;
let tp: TestPlatform;
let secret: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pw-sim-mtls-'));
  runCerts(['ca', '--out', join(dir, 'ca')]);
  runCerts(['server', '--host', '127.0.0.1', '--ca', join(dir, 'ca'), '--out', join(dir, 'server')]);
  runCerts(['vehicle', 'SIMT-1', '--ca', join(dir, 'ca'), '--out', join(dir, 'vehicles')]);
  tp = await startTestPlatform({
    MQTT_PORT: 'off',
    MQTT_TLS_PORT: '0',
    MQTT_TLS_CERT_FILE: join(dir, 'server', 'server.pem'),
    MQTT_TLS_KEY_FILE: join(dir, 'server', 'server.key'),
    MQTT_TLS_CA_FILE: join(dir, 'ca', 'ca.pem'),
    MQTT_TLS_CLIENT_CERT: 'required',
  });
  // its secret is not used over mutual TLS; the second test shows it does not get in without the certificate
  ({ secret } = await tp.platform.vehicles.add({ id: 'SIMT-1', customerId: 'C1' }));
});
afterAll(async () => {
  await tp?.close();
  rmSync(dir, { recursive: true, force: true });
});

function simulate(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'simulators/cli.ts', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('npm run simulate over mutual TLS', () => {
  it('one simulated vehicle connects with its certificate (no secret) and every frame it sent is stored', async () => {
    const r = await simulate([
      '--broker',
      `mqtts://127.0.0.1:${tp.platform.ports.mqttTls}`,
      '--ca',
      join(dir, 'ca', 'ca.pem'),
      '--client-certs',
      join(dir, 'vehicles'),
      '--vehicles',
      '1',
      '--rate',
      '5',
      '--duration',
      '3',
      '--mode',
      'load',
      '--quiet',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const summary = readSummaryLine<Record<string, number> & { p99AckMsBy10s: unknown; ownLoopMaxMsBy10s: unknown }>(
      r.stdout,
    );
    expect(summary).toMatchObject({ vehicles: 1, connectFailures: 0, lost: 0, unacked: 0 });
    expect(summary.framesAcked).toBeGreaterThan(0);
    // a 3 s run: one 10 s window of acknowledgements, also printed on stderr
    expect(summary.p99AckMsBy10s).toEqual([expect.any(Number)]);
    expect(r.stderr).toMatch(/p99 publish→PUBACK by 10 s of the run \(ms\): \d+\n/);
    expect(summary.ownLoopMaxMsBy10s).toEqual([expect.any(Number)]);
    expect(r.stderr).toMatch(/the runner's own event-loop delay, max by 10 s \(ms\): \d+\n/);
    expect(await tp.platform.telemetry.count('SIMT-1')).toBe(summary.framesAcked);
    expect(tp.platform.counters.get('mqtt.client_cert_login')).toBeGreaterThanOrEqual(1);
  });

  it('with its secret but without a client certificate the same vehicle never gets in (handshake refused)', async () => {
    const before = tp.platform.counters.get('mqtt.client_cert_refused', 'certificate_missing');
    const stored = await tp.platform.telemetry.count('SIMT-1');
    const fleet = createFleet(
      { clock: createScaledClock({ startTs: Date.now(), speed: 1 }) },
      {
        vehicles: [{ id: 'SIMT-1', secret }],
        brokerUrl: `mqtts://127.0.0.1:${tp.platform.ports.mqttTls}`,
        rateHz: 5,
        seed: 1,
        startTs: Date.now(),
        tls: { ca: readFileSync(join(dir, 'ca', 'ca.pem')) },
      },
    );
    fleet.start();
    await vi.waitFor(() => expect(fleet.stats().connectFailures).toBeGreaterThan(0), { timeout: 10_000 });
    await fleet.stop(0);
    expect(fleet.stats().framesAcked).toBe(0);
    expect(await tp.platform.telemetry.count('SIMT-1')).toBe(stored);
    expect(tp.platform.counters.get('mqtt.client_cert_refused', 'certificate_missing')).toBeGreaterThan(before);
  });
});
