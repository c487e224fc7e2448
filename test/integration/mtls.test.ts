import { execFileSync } from 'node:child_process';
import { copyFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createCertificateAuthority } from '../../broker/certificate-authority.ts';
import { loadConfig } from '../../platform/config.ts';
import { vehicleTopic } from '../../protocol/index.ts';
import {
  connectMqtt,
  expectCertificateNamesVehicle,
  makeMtlsPki,
  mosquittoPub,
  type MtlsPki,
} from '../helpers/mtls.ts';
import { frame, startTestPlatform, type TestPlatform } from '../helpers/platform.ts';

/**
 * Issue 19, item 4: mutual TLS. A vehicle authenticates by a client certificate whose CN is its id,
 * issued by the configured CA (here by the platform's own certificate authority, as `npm run certs`
 * does); MQTT.js and mosquitto_pub, with and without a certificate, a wrong CA, an expired one; the
 * plain port switched off; certificates reloaded when their files change.
 */
let pki: MtlsPki;
const day = 86_400_000;
const expired = () => ({ notBefore: new Date(Date.now() - 3 * day), notAfter: new Date(Date.now() - day) });

beforeAll(() => {
  pki = makeMtlsPki();
});
afterAll(() => {
  if (pki) rmSync(pki.dir, { recursive: true, force: true });
});

async function stored(tp: TestPlatform, id: string, seq: number): Promise<boolean> {
  const frames = await tp.platform.telemetry.frames(id, 0, Date.now() + 60_000);
  return frames.some((f) => f.frame.seq === seq);
}

async function publishFrame(tp: TestPlatform, client: MqttClient, id: string, seq: number): Promise<boolean> {
  await client.publishAsync(vehicleTopic(id, 'telemetry'), JSON.stringify(frame(seq)), { qos: 1 });
  return stored(tp, id, seq); // PUBACK comes after the commit
}

describe('client certificates optional (MQTT_TLS_CLIENT_CERT=optional), plain port on', () => {
  let tp: TestPlatform;
  let url: string;
  let veh: { id: string; secret: string };

  beforeAll(async () => {
    tp = await startTestPlatform({
      MQTT_TLS_PORT: '0',
      MQTT_TLS_CERT_FILE: pki.certFile,
      MQTT_TLS_KEY_FILE: pki.keyFile,
      MQTT_TLS_CA_FILE: pki.caFile,
      MQTT_TLS_CLIENT_CERT: 'optional',
    });
    veh = await tp.addVehicle('MT-1');
    await tp.addVehicle('MT-2');
    url = `mqtts://127.0.0.1:${tp.platform.ports.mqttTls}`;
  });
  afterAll(async () => {
    await tp?.close();
  });

  it('MQTT.js with the vehicle’s certificate and no secret connects as that vehicle; its frame is stored', async () => {
    const c = pki.vehicle('MT-1');
    const before = tp.platform.counters.get('mqtt.client_cert_login');
    const client = await connectMqtt(url, { clientId: 'MT-1', ca: pki.ca.cert, cert: c.cert, key: c.key });
    expect(tp.platform.counters.get('mqtt.client_cert_login')).toBe(before + 1);
    expect(await publishFrame(tp, client, 'MT-1', 1)).toBe(true);
    // the ACL treats it as MT-1: another vehicle's topic is refused
    const denied = tp.platform.counters.get('mqtt.publish_denied', 'MT-1');
    await client.publishAsync(vehicleTopic('MT-2', 'telemetry'), JSON.stringify(frame(2)), { qos: 1 });
    expect(tp.platform.counters.get('mqtt.publish_denied', 'MT-1')).toBe(denied + 1);
    expect(await tp.platform.telemetry.count('MT-2')).toBe(0);
    await client.endAsync();
  });

  it('a password login without a certificate still works on the TLS port (and on the plain one)', async () => {
    const client = await connectMqtt(url, {
      clientId: veh.id,
      username: veh.id,
      password: veh.secret,
      ca: pki.ca.cert,
    });
    expect(await publishFrame(tp, client, veh.id, 3)).toBe(true);
    await client.endAsync();
    const plain = await tp.connect(veh.id, veh.secret);
    await plain.endAsync();
  });

  it('a certificate whose CN is not a registered vehicle is refused (CONNACK 5) and counted', async () => {
    const c = pki.vehicle('GHOST-1');
    const before = tp.platform.counters.get('mqtt.connect_refused', 'unknown_certificate');
    await expect(
      connectMqtt(url, { clientId: 'GHOST-1', ca: pki.ca.cert, cert: c.cert, key: c.key }),
    ).rejects.toMatchObject({ code: 5 });
    expect(tp.platform.counters.get('mqtt.connect_refused', 'unknown_certificate')).toBe(before + 1);
    expect(tp.platform.counters.get('mqtt.client_cert_refused', 'unknown_certificate')).toBeGreaterThan(0);
  });

  it('the certificate names the vehicle: another client id (or user name) with it is refused', async () => {
    await expectCertificateNamesVehicle(url, pki, 'MT-1', 'MT-2');
  });

  it('an expired certificate is refused, not ignored (even with a good secret beside it)', async () => {
    const c = pki.vehicle('MT-1', expired());
    const before = tp.platform.counters.get('mqtt.client_cert_refused', 'certificate_expired');
    const connected = tp.platform.counters.get('mqtt.connected');
    await expect(
      connectMqtt(url, {
        clientId: veh.id,
        username: veh.id,
        password: veh.secret,
        ca: pki.ca.cert,
        cert: c.cert,
        key: c.key,
      }),
    ).rejects.toThrow();
    expect(tp.platform.counters.get('mqtt.client_cert_refused', 'certificate_expired')).toBe(before + 1);
    expect(tp.platform.counters.get('mqtt.connected')).toBe(connected);
  });

  it('a certificate from another CA is refused', async () => {
    const c = pki.vehicle('MT-1', {}, createCertificateAuthority({ name: 'someone else' }));
    const before = tp.platform.counters.get('mqtt.client_cert_refused', 'certificate_untrusted');
    await expect(connectMqtt(url, { clientId: 'MT-1', ca: pki.ca.cert, cert: c.cert, key: c.key })).rejects.toThrow();
    expect(tp.platform.counters.get('mqtt.client_cert_refused', 'certificate_untrusted')).toBe(before + 1);
  });

  it('mosquitto_pub with --cert/--key and no password publishes; with an expired certificate it is refused', async () => {
    const c = pki.vehicle('MT-1');
    const args = (cert: { certFile: string; keyFile: string }, seq: number) => [
      '-h',
      '127.0.0.1',
      '-p',
      String(tp.platform.ports.mqttTls),
      '--cafile',
      pki.caFile,
      '--cert',
      cert.certFile,
      '--key',
      cert.keyFile,
      '-i',
      'MT-1',
      '-q',
      '1',
      '-t',
      vehicleTopic('MT-1', 'telemetry'),
      '-m',
      JSON.stringify(frame(seq)),
    ];
    const ok = await mosquittoPub(args(c, 40));
    expect(ok, ok.stderr).toMatchObject({ code: 0 });
    expect(await stored(tp, 'MT-1', 40)).toBe(true);
    const bad = await mosquittoPub(args(pki.vehicle('MT-1', expired()), 41));
    expect(bad.code).not.toBe(0);
    expect(await stored(tp, 'MT-1', 41)).toBe(false);
  });
});

describe('client certificates required, plain port off (MQTT_PORT=off)', () => {
  let tp: TestPlatform;
  let url: string;
  let dir: string;
  let caFile: string;

  beforeAll(async () => {
    dir = pki.dir;
    caFile = join(dir, 'required-ca.pem');
    copyFileSync(pki.caFile, caFile);
    tp = await startTestPlatform({
      MQTT_PORT: 'off',
      MQTT_TLS_PORT: '0',
      MQTT_TLS_CERT_FILE: pki.certFile,
      MQTT_TLS_KEY_FILE: pki.keyFile,
      MQTT_TLS_CA_FILE: caFile,
      MQTT_TLS_CLIENT_CERT: 'required',
    });
    await tp.addVehicle('RQ-1');
    await tp.addVehicle('RQ-2');
    url = `mqtts://127.0.0.1:${tp.platform.ports.mqttTls}`;
  });
  afterAll(async () => {
    await tp?.close();
  });

  it('listens on the TLS and HTTP ports only: no plain MQTT listener', () => {
    const ports = tp.platform.ports;
    expect(Object.keys(ports).sort()).toEqual(['http', 'mqttTls']);
    expect(() => ports.mqtt).toThrow(/MQTT_PORT=off/);
    // every TCP port this process listens on (ss -ltnp), this platform's among them
    const listening = execFileSync('ss', ['-Hltnp'], { encoding: 'utf8' })
      .split('\n')
      .filter((l) => l.includes(`pid=${process.pid},`))
      .map((l) => Number(/:(\d+)\s/.exec(l.split(/\s+/)[3] + ' ')?.[1]));
    expect(listening).toContain(ports.mqttTls);
    expect(listening).toContain(ports.http);
    expect(listening.length).toBe(2);
  });

  it('a vehicle with its certificate connects and publishes', async () => {
    const c = pki.vehicle('RQ-1');
    const client = await connectMqtt(url, { clientId: 'RQ-1', ca: pki.ca.cert, cert: c.cert, key: c.key });
    expect(await publishFrame(tp, client, 'RQ-1', 1)).toBe(true);
    await client.endAsync();
  });

  it('without a certificate the handshake is refused (MQTT.js and mosquitto_pub with a good secret)', async () => {
    const before = tp.platform.counters.get('mqtt.client_cert_refused', 'certificate_missing');
    await expect(
      connectMqtt(url, { clientId: 'RQ-1', username: 'RQ-1', password: 'x', ca: pki.ca.cert }),
    ).rejects.toThrow();
    const pub = await mosquittoPub([
      '-h',
      '127.0.0.1',
      '-p',
      String(tp.platform.ports.mqttTls),
      '--cafile',
      pki.caFile,
      '-i',
      'RQ-1',
      '-t',
      vehicleTopic('RQ-1', 'telemetry'),
      '-m',
      JSON.stringify(frame(9)),
    ]);
    expect(pub.code).not.toBe(0);
    await vi.waitFor(() =>
      expect(tp.platform.counters.get('mqtt.client_cert_refused', 'certificate_missing')).toBe(before + 2),
    );
    expect(await stored(tp, 'RQ-1', 9)).toBe(false);
  });

  it('an expired certificate and one from another CA are refused in the handshake', async () => {
    const before = tp.platform.counters.get('mqtt.tls_error');
    const old = pki.vehicle('RQ-1', expired());
    await expect(
      connectMqtt(url, { clientId: 'RQ-1', ca: pki.ca.cert, cert: old.cert, key: old.key }),
    ).rejects.toThrow();
    const foreign = pki.vehicle('RQ-1', {}, createCertificateAuthority({ name: 'foreign' }));
    await expect(
      connectMqtt(url, { clientId: 'RQ-1', ca: pki.ca.cert, cert: foreign.cert, key: foreign.key }),
    ).rejects.toThrow();
    await vi.waitFor(() => expect(tp.platform.counters.get('mqtt.tls_error')).toBe(before + 2));
    expect(tp.platform.counters.get('mqtt.client_cert_refused', 'certificate_expired')).toBe(1);
    expect(tp.platform.counters.get('mqtt.client_cert_refused', 'certificate_untrusted')).toBe(1);
  });

  it('a new CA file is picked up without a restart: its certificates work, the old CA’s no longer', async () => {
    const next = createCertificateAuthority({ name: 'next CA' });
    const fresh = pki.vehicle('RQ-1', {}, next);
    const old = pki.vehicle('RQ-1');
    const before = pki.vehicle('RQ-2');
    const open = await connectMqtt(url, { clientId: 'RQ-2', ca: pki.ca.cert, cert: before.cert, key: before.key });
    writeFileSync(caFile, next.cert); // rotated (polled every 2 s)
    await vi.waitFor(
      async () => {
        const client = await connectMqtt(url, { clientId: 'RQ-1', ca: pki.ca.cert, cert: fresh.cert, key: fresh.key });
        await client.endAsync();
      },
      { timeout: 10_000, interval: 250 },
    );
    await expect(
      connectMqtt(url, { clientId: 'RQ-1', ca: pki.ca.cert, cert: old.cert, key: old.key }),
    ).rejects.toThrow();
    // the connection opened under the old CA was not dropped: it still publishes
    expect(open.connected).toBe(true);
    expect(await publishFrame(tp, open, 'RQ-2', 5)).toBe(true);
    await open.endAsync();
  });
});

describe('configuration', () => {
  it('checks the mutual TLS settings and MQTT_PORT=off', () => {
    const tls = { MQTT_TLS_PORT: '8883', MQTT_TLS_CERT_FILE: pki.certFile, MQTT_TLS_KEY_FILE: pki.keyFile };
    expect(() => loadConfig({ ...tls, MQTT_TLS_CLIENT_CERT: 'required' })).toThrow(/MQTT_TLS_CA_FILE is missing/);
    expect(() => loadConfig({ ...tls, MQTT_TLS_CLIENT_CERT: 'yes' })).toThrow(
      /MQTT_TLS_CLIENT_CERT must be off, optional or required/,
    );
    expect(() => loadConfig({ ...tls, MQTT_TLS_CA_FILE: pki.caFile })).toThrow(
      /MQTT_TLS_CA_FILE is used only with MQTT_TLS_CLIENT_CERT/,
    );
    expect(() => loadConfig({ MQTT_TLS_CLIENT_CERT: 'optional', MQTT_TLS_CA_FILE: pki.caFile })).toThrow(
      /MQTT_TLS_PORT is missing/,
    );
    expect(() => loadConfig({ MQTT_PORT: 'off' })).toThrow(/MQTT_PORT=off leaves gateways no way in/);
    expect(() => loadConfig({ MQTT_PORT: 'of' })).toThrow(/MQTT_PORT must be a whole number .* or off/);
    expect(loadConfig({ ...tls, MQTT_PORT: 'off' }).MQTT_PORT).toBeNull();
    expect(loadConfig({ MQTT_PORT: '1884' }).MQTT_PORT).toBe(1884);
    expect(loadConfig({}).MQTT_PORT).toBe(1883);
    expect(
      loadConfig({ ...tls, MQTT_TLS_CLIENT_CERT: 'optional', MQTT_TLS_CA_FILE: pki.caFile }).MQTT_TLS_CLIENT_CERT,
    ).toBe('optional');
  });
});
