import { once } from 'node:events';
import { rmSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { request } from 'node:https';
import type { MqttClient } from 'mqtt';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCertificateAuthority } from '../../broker/certificate-authority.ts';
import { loadConfig } from '../../platform/config.ts';
import { vehicleTopic } from '../../protocol/index.ts';
import { connectMqtt, expectCertificateNamesVehicle, makeMtlsPki, type MtlsPki } from '../helpers/mtls.ts';
import { frame, startTestPlatform, type TestPlatform } from '../helpers/platform.ts';

/**
 * Issue 19: client certificates over WebSocket. The console's HTTPS server asks for a client
 * certificate (HTTP_TLS_CLIENT_CERT=optional, the vehicles' CA in MQTT_TLS_CA_FILE); a gateway on
 * wss://…/mqtt is authenticated by its certificate's CN by the same rules as on the TLS port, with no
 * MQTT TLS listener at all here. MQTT.js with and without a certificate, another CA's, an expired one.
 */
let pki: MtlsPki;
let tp: TestPlatform;
let veh: { id: string; secret: string };
let url: string;
const day = 86_400_000;

beforeAll(async () => {
  pki = makeMtlsPki();
  tp = await startTestPlatform({
    MQTT_PORT: 'off',
    MQTT_WS: 'true',
    HTTP_TLS_CERT_FILE: pki.certFile,
    HTTP_TLS_KEY_FILE: pki.keyFile,
    HTTP_TLS_CLIENT_CERT: 'optional',
    MQTT_TLS_CA_FILE: pki.caFile,
  });
  veh = await tp.addVehicle('WS-1');
  await tp.addVehicle('WS-2');
  url = `wss://127.0.0.1:${tp.platform.ports.http}/mqtt`;
});
afterAll(async () => {
  await tp?.close();
  if (pki) rmSync(pki.dir, { recursive: true, force: true });
});

async function publishFrame(client: MqttClient, id: string, seq: number): Promise<boolean> {
  await client.publishAsync(vehicleTopic(id, 'telemetry'), JSON.stringify(frame(seq)), { qos: 1 });
  // PUBACK comes after the commit
  const frames = await tp.platform.telemetry.frames(id, 0, Date.now() + 60_000);
  return frames.some((f) => f.frame.seq === seq);
}

describe('client certificates over WebSocket (wss://…/mqtt, HTTP_TLS_CLIENT_CERT=optional)', () => {
  it('a vehicle’s certificate and no secret: connected as that vehicle, its frame stored, the ACL applied', async () => {
    const c = pki.vehicle('WS-1');
    const logins = tp.platform.counters.get('mqtt.client_cert_login');
    const client = await connectMqtt(url, { clientId: 'WS-1', ca: pki.ca.cert, cert: c.cert, key: c.key });
    expect(tp.platform.counters.get('mqtt.client_cert_login')).toBe(logins + 1);
    expect(await publishFrame(client, 'WS-1', 1)).toBe(true);
    const denied = tp.platform.counters.get('mqtt.publish_denied', 'WS-1');
    await client.publishAsync(vehicleTopic('WS-2', 'telemetry'), JSON.stringify(frame(2)), { qos: 1 });
    expect(tp.platform.counters.get('mqtt.publish_denied', 'WS-1')).toBe(denied + 1);
    await client.endAsync();
  });

  it('without a certificate the vehicle logs in with its secret; with neither it is refused', async () => {
    const client = await connectMqtt(url, {
      clientId: veh.id,
      username: veh.id,
      password: veh.secret,
      ca: pki.ca.cert,
    });
    expect(await publishFrame(client, veh.id, 3)).toBe(true);
    await client.endAsync();
    await expect(connectMqtt(url, { clientId: veh.id, ca: pki.ca.cert })).rejects.toMatchObject({ code: 4 });
  });

  it('the same rules as on the TLS port: the CN must be a registered vehicle, a user name must match it', async () => {
    const ghost = pki.vehicle('WS-GHOST');
    const unknown = tp.platform.counters.get('mqtt.client_cert_refused', 'unknown_certificate');
    await expect(
      connectMqtt(url, { clientId: 'WS-GHOST', ca: pki.ca.cert, cert: ghost.cert, key: ghost.key }),
    ).rejects.toMatchObject({ code: 5 });
    expect(tp.platform.counters.get('mqtt.client_cert_refused', 'unknown_certificate')).toBe(unknown + 1);
    await expectCertificateNamesVehicle(url, pki, 'WS-1', 'WS-2');
  });

  it('a certificate of another CA is refused at the upgrade (403), even with a good secret beside it', async () => {
    const foreign = pki.vehicle('WS-1', {}, createCertificateAuthority({ name: 'another CA' }));
    const before = tp.platform.counters.get('mqtt.client_cert_refused', 'certificate_untrusted');
    const connected = tp.platform.counters.get('mqtt.connected');
    await expect(
      connectMqtt(url, {
        clientId: veh.id,
        username: veh.id,
        password: veh.secret,
        ca: pki.ca.cert,
        cert: foreign.cert,
        key: foreign.key,
      }),
    ).rejects.toThrow();
    expect(tp.platform.counters.get('mqtt.client_cert_refused', 'certificate_untrusted')).toBe(before + 1);
    expect(tp.platform.counters.get('mqtt.connected')).toBe(connected);
    // what the gateway sees: the upgrade answered 403, no WebSocket
    const ws = new WebSocket(url, 'mqtt', { ca: pki.ca.cert, cert: foreign.cert, key: foreign.key });
    const [, res] = (await once(ws, 'unexpected-response')) as [unknown, IncomingMessage];
    expect(res.statusCode).toBe(403);
    ws.on('error', () => {}); // terminate() before the open reports itself as an error
    ws.terminate();
  });

  it('an expired certificate is refused and counted as expired', async () => {
    const old = pki.vehicle('WS-1', {
      notBefore: new Date(Date.now() - 3 * day),
      notAfter: new Date(Date.now() - day),
    });
    const before = tp.platform.counters.get('mqtt.client_cert_refused', 'certificate_expired');
    await expect(
      connectMqtt(url, { clientId: 'WS-1', ca: pki.ca.cert, cert: old.cert, key: old.key }),
    ).rejects.toThrow();
    expect(tp.platform.counters.get('mqtt.client_cert_refused', 'certificate_expired')).toBe(before + 1);
  });

  it('the console itself still answers over HTTPS without a certificate', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port: tp.platform.ports.http, path: '/healthz', ca: pki.ca.cert },
        (r) => {
          r.resume();
          resolve(r.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(200);
  });
});

describe('configuration', () => {
  it('HTTP_TLS_CLIENT_CERT needs HTTPS, MQTT over WebSocket and the CA', () => {
    const https = { HTTP_TLS_CERT_FILE: pki.certFile, HTTP_TLS_KEY_FILE: pki.keyFile, MQTT_WS: 'true' };
    expect(() => loadConfig({ ...https, HTTP_TLS_CLIENT_CERT: 'optional' })).toThrow(
      /MQTT_TLS_CA_FILE is missing: HTTP_TLS_CLIENT_CERT=optional needs the CA/,
    );
    expect(() => loadConfig({ ...https, HTTP_TLS_CLIENT_CERT: 'required' })).toThrow(
      /HTTP_TLS_CLIENT_CERT must be off or optional/,
    );
    expect(() =>
      loadConfig({ MQTT_WS: 'true', HTTP_TLS_CLIENT_CERT: 'optional', MQTT_TLS_CA_FILE: pki.caFile }),
    ).toThrow(/HTTP_TLS_CLIENT_CERT=optional needs HTTPS/);
    expect(() =>
      loadConfig({ ...https, MQTT_WS: 'false', HTTP_TLS_CLIENT_CERT: 'optional', MQTT_TLS_CA_FILE: pki.caFile }),
    ).toThrow(/set MQTT_WS=true/);
    expect(
      loadConfig({ ...https, HTTP_TLS_CLIENT_CERT: 'optional', MQTT_TLS_CA_FILE: pki.caFile }).HTTP_TLS_CLIENT_CERT,
    ).toBe('optional');
  });
});
