import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';
import { createRevocationList } from '../../broker/revocation-list.ts';
import { loadConfig } from '../../platform/config.ts';
import { runCerts } from '../../platform/certs.ts';
import { connectMqtt } from '../helpers/mtls.ts';
import { startTestPlatform, type TestPlatform } from '../helpers/platform.ts';

/**
 * Issue 19: certificate revocation. Certificates revoked with `npm run certs -- revoke` (a CRL signed
 * by the project CA, MQTT_TLS_CRL_FILE) are refused on the TLS port and over wss with a counted
 * reason; certificates not revoked still connect; a changed CRL file is picked up without a restart
 * and closes the open connections of the certificates it revokes;
 * an expired CRL refuses every certificate of its CA (`crl_problem`).
 */
let dir: string;
const file = (...p: string[]) => join(dir, ...p);
const pair = (id: string) => ({
  cert: readFileSync(file('v', `${id}.pem`), 'utf8'),
  key: readFileSync(file('v', `${id}.key`), 'utf8'),
});
let caCert: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'pw-crl-'));
  runCerts(['ca', '--out', file('ca')]);
  runCerts(['server', '--host', '127.0.0.1,localhost', '--ca', file('ca'), '--out', file('s')]);
  runCerts(['vehicle', 'CR-1', 'CR-2', 'CR-3', 'CR-4', '--ca', file('ca'), '--out', file('v')]);
  runCerts(['revoke', 'CR-1', '--certs', file('v'), '--ca', file('ca'), '--out', file('ca')]);
  caCert = readFileSync(file('ca', 'ca.pem'), 'utf8');
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const tlsFiles = () => ({
  MQTT_TLS_PORT: '0',
  MQTT_TLS_CERT_FILE: file('s', 'server.pem'),
  MQTT_TLS_KEY_FILE: file('s', 'server.key'),
  MQTT_TLS_CA_FILE: file('ca', 'ca.pem'),
  MQTT_TLS_CRL_FILE: file('ca', 'crl.pem'),
});

describe('a CRL on the TLS port and over wss (client certificates optional)', () => {
  let tp: TestPlatform;
  let mqtts: string;
  let wss: string;

  beforeAll(async () => {
    tp = await startTestPlatform({
      ...tlsFiles(),
      MQTT_TLS_CLIENT_CERT: 'optional',
      MQTT_WS: 'true',
      HTTP_TLS_CERT_FILE: file('s', 'server.pem'),
      HTTP_TLS_KEY_FILE: file('s', 'server.key'),
      HTTP_TLS_CLIENT_CERT: 'optional',
    });
    for (const id of ['CR-1', 'CR-2', 'CR-3']) await tp.addVehicle(id);
    mqtts = `mqtts://127.0.0.1:${tp.platform.ports.mqttTls}`;
    wss = `wss://127.0.0.1:${tp.platform.ports.http}/mqtt`;
  });
  afterAll(async () => {
    await tp?.close();
  });

  const revokedCount = () => tp.platform.counters.get('mqtt.client_cert_refused', 'certificate_revoked');

  it('a revoked vehicle certificate is refused on 8883, counted as certificate_revoked', async () => {
    const before = revokedCount();
    const connected = tp.platform.counters.get('mqtt.connected');
    await expect(connectMqtt(mqtts, { clientId: 'CR-1', ca: caCert, ...pair('CR-1') })).rejects.toThrow();
    expect(revokedCount()).toBe(before + 1);
    expect(tp.platform.counters.get('mqtt.connected')).toBe(connected);
  });

  it('and over wss: 403 at the upgrade, counted alike', async () => {
    const before = revokedCount();
    await expect(connectMqtt(wss, { clientId: 'CR-1', ca: caCert, ...pair('CR-1') })).rejects.toThrow();
    expect(revokedCount()).toBe(before + 1);
    const ws = new WebSocket(wss, 'mqtt', { ca: caCert, ...pair('CR-1') });
    const [, res] = (await once(ws, 'unexpected-response')) as [unknown, IncomingMessage];
    expect(res.statusCode).toBe(403);
    ws.on('error', () => {}); // terminate() before the open reports itself as an error
    ws.terminate();
  });

  it('a certificate that is not revoked still connects on both', async () => {
    for (const url of [mqtts, wss]) {
      const client = await connectMqtt(url, { clientId: 'CR-2', ca: caCert, ...pair('CR-2') });
      expect(client.connected).toBe(true);
      await client.endAsync();
    }
  });

  it('a certificate revoked while the platform runs is refused once the CRL file changes (no restart), and its open connection closed', async () => {
    // open over wss: the certificate travels with the WebSocket stream
    const open = await connectMqtt(wss, { clientId: 'CR-3', ca: caCert, ...pair('CR-3') });
    const other = await connectMqtt(mqtts, { clientId: 'CR-2', ca: caCert, ...pair('CR-2') });
    const closedByRevocation = tp.platform.counters.get('mqtt.client_cert_revoked_closed');
    runCerts(['revoke', 'CR-3', '--certs', file('v'), '--ca', file('ca'), '--out', file('ca')]);
    const before = revokedCount();
    // the file is polled every 2 s. Probed under another client id: CR-3's certificate is refused
    // with CONNACK 2 while it is good (no takeover of the open connection), the TLS socket is cut
    // once it is revoked (CR-2's own connection is not taken over either: the probe never logs in)
    for (const url of [mqtts, wss])
      await vi.waitFor(
        async () => {
          const err = await connectMqtt(url, { clientId: 'CR-2', ca: caCert, ...pair('CR-3') }).then(
            (c) => {
              c.end(true);
              return undefined;
            },
            (e: Error & { code?: number }) => e,
          );
          expect(err).toBeDefined();
          expect(err?.code).toBeUndefined();
        },
        { timeout: 10_000, interval: 250 },
      );
    for (const url of [mqtts, wss])
      await expect(connectMqtt(url, { clientId: 'CR-3', ca: caCert, ...pair('CR-3') })).rejects.toThrow();
    expect(revokedCount()).toBeGreaterThanOrEqual(before + 4);
    // the connection opened before the revocation is closed by it; CR-2's stays
    await vi.waitFor(() => expect(open.connected).toBe(false), { timeout: 10_000 });
    expect(tp.platform.counters.get('mqtt.client_cert_revoked_closed')).toBe(closedByRevocation + 1);
    open.end(true);
    expect(other.connected).toBe(true);
    await other.endAsync();
  });
});

describe('a CRL with client certificates required', () => {
  let tp: TestPlatform;
  let mqtts: string;
  let crlFile: string;

  beforeAll(async () => {
    crlFile = file('required-crl.pem');
    writeFileSync(crlFile, readFileSync(file('ca', 'crl.pem')));
    tp = await startTestPlatform({ ...tlsFiles(), MQTT_TLS_CRL_FILE: crlFile, MQTT_TLS_CLIENT_CERT: 'required' });
    for (const id of ['CR-1', 'CR-4']) await tp.addVehicle(id);
    mqtts = `mqtts://127.0.0.1:${tp.platform.ports.mqttTls}`;
  });
  afterAll(async () => {
    await tp?.close();
  });

  it('the handshake refuses the revoked certificate with a counted reason; the other connects', async () => {
    await expect(connectMqtt(mqtts, { clientId: 'CR-1', ca: caCert, ...pair('CR-1') })).rejects.toThrow();
    await vi.waitFor(() => expect(tp.platform.counters.get('mqtt.client_cert_refused', 'certificate_revoked')).toBe(1));
    const client = await connectMqtt(mqtts, { clientId: 'CR-4', ca: caCert, ...pair('CR-4') });
    await client.endAsync();
  });

  it('an expired CRL refuses every certificate of its CA (crl_problem) until a fresh one is in place', async () => {
    const ca = { cert: caCert, key: readFileSync(file('ca', 'ca.key'), 'utf8') };
    const past = new Date(Date.now() - 3 * 86_400_000);
    writeFileSync(crlFile, createRevocationList(ca, { now: past, days: 1 }).crl);
    await vi.waitFor(
      async () => {
        await expect(connectMqtt(mqtts, { clientId: 'CR-4', ca: caCert, ...pair('CR-4') })).rejects.toThrow();
      },
      { timeout: 10_000, interval: 250 },
    );
    await vi.waitFor(() =>
      expect(tp.platform.counters.get('mqtt.client_cert_refused', 'crl_problem')).toBeGreaterThan(0),
    );
    writeFileSync(crlFile, createRevocationList(ca).crl);
    await vi.waitFor(
      async () => {
        const client = await connectMqtt(mqtts, { clientId: 'CR-4', ca: caCert, ...pair('CR-4') });
        await client.endAsync();
      },
      { timeout: 10_000, interval: 250 },
    );
  });
});

describe('configuration', () => {
  it('MQTT_TLS_CRL_FILE needs client certificates asked for, and the file', () => {
    const { MQTT_TLS_CRL_FILE, MQTT_TLS_CA_FILE, ...tls } = tlsFiles();
    expect(() => loadConfig({ ...tls, MQTT_TLS_CRL_FILE })).toThrow(
      /MQTT_TLS_CRL_FILE is used only with MQTT_TLS_CLIENT_CERT=optional or required/,
    );
    expect(() =>
      loadConfig({
        ...tls,
        MQTT_TLS_CA_FILE,
        MQTT_TLS_CLIENT_CERT: 'optional',
        MQTT_TLS_CRL_FILE: file('nonexistent.pem'),
      }),
    ).toThrow(/MQTT_TLS_CRL_FILE=".*nonexistent.pem": no such file/);
    expect(
      loadConfig({ ...tls, MQTT_TLS_CA_FILE, MQTT_TLS_CLIENT_CERT: 'optional', MQTT_TLS_CRL_FILE }).MQTT_TLS_CRL_FILE,
    ).toBe(MQTT_TLS_CRL_FILE);
  });
});
