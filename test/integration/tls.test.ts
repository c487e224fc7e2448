import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import { connect as connectTcp } from 'node:net';
import { request } from 'node:https';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { generate } from 'mqtt-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../platform/config.ts';
import { vehicleTopic } from '../../protocol/index.ts';
import { makeTestPki, type TestPki } from '../helpers/certificates.ts';
import { frame, startTestPlatform, type TestPlatform } from '../helpers/platform.ts';

/** Issue 19, items 4 and 5: MQTT over TLS, the console over HTTPS, MQTT over WebSocket (wss). */
let pki: TestPki;
let other: TestPki;
let tp: TestPlatform;
let vehicle: { id: string; secret: string };

beforeAll(async () => {
  pki = makeTestPki();
  other = makeTestPki({ dir: pki.dir, name: 'other' }); // a CA the platform's certificate is not from
  tp = await startTestPlatform({
    MQTT_TLS_PORT: '0',
    MQTT_TLS_CERT_FILE: pki.certFile,
    MQTT_TLS_KEY_FILE: pki.keyFile,
    HTTP_TLS_CERT_FILE: pki.certFile,
    HTTP_TLS_KEY_FILE: pki.keyFile,
    MQTT_WS: 'true',
  });
  vehicle = await tp.addVehicle('TLS-1');
});
afterAll(async () => {
  await tp?.close();
  if (pki) rmSync(pki.dir, { recursive: true, force: true });
});

/** Connects with MQTT.js; resolves on CONNACK, rejects on the first error. */
function connect(url: string, options: IClientOptions): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5000, ...options });
    client.once('connect', () => resolve(client));
    client.once('error', (err) => {
      client.end(true);
      reject(err);
    });
  });
}

async function publishAndFind(client: MqttClient, seq: number) {
  const f = frame(seq);
  await client.publishAsync(vehicleTopic(vehicle.id, 'telemetry'), JSON.stringify(f), { qos: 1 });
  // PUBACK comes after the commit: the frame is in the store now
  const stored = await tp.platform.telemetry.frames(vehicle.id, 0, Date.now() + 60_000);
  return stored.some((s) => s.frame.seq === seq && s.frame.ts === f.ts);
}

const creds = () => ({ clientId: vehicle.id, username: vehicle.id, password: vehicle.secret });

describe('MQTT over TLS (mqtts)', () => {
  it('MQTT.js trusting the CA connects, and a QoS 1 frame is stored', async () => {
    const client = await connect(`mqtts://127.0.0.1:${tp.platform.ports.mqttTls}`, { ...creds(), ca: pki.ca });
    expect(await publishAndFind(client, 1)).toBe(true);
    await client.endAsync();
  });

  it('a client trusting another CA refuses the server certificate; nothing reaches the broker', async () => {
    const before = tp.platform.counters.get('mqtt.connected');
    await expect(
      connect(`mqtts://127.0.0.1:${tp.platform.ports.mqttTls}`, { ...creds(), ca: other.ca }),
    ).rejects.toMatchObject({ code: expect.stringMatching(/SELF_SIGNED|UNABLE_TO_VERIFY|CERT/) });
    expect(tp.platform.counters.get('mqtt.connected')).toBe(before);
  });

  it('the TLS port speaks TLS only: a plain MQTT CONNECT there is cut, never answered', async () => {
    const before = tp.platform.counters.get('mqtt.tls_error');
    const socket = connectTcp(tp.platform.ports.mqttTls!, '127.0.0.1');
    const received: Buffer[] = [];
    socket.on('data', (b: Buffer) => received.push(b));
    socket.on('error', () => undefined);
    socket.write(
      generate({
        cmd: 'connect',
        protocolId: 'MQTT',
        protocolVersion: 4,
        clean: true,
        keepalive: 30,
        clientId: vehicle.id,
        username: vehicle.id,
        password: Buffer.from(vehicle.secret),
      }),
    );
    await once(socket, 'close');
    expect(Buffer.concat(received)[0]).not.toBe(0x20); // no CONNACK
    expect(tp.platform.counters.get('mqtt.tls_error')).toBeGreaterThan(before);
  });

  it('mosquitto_pub --cafile publishes a frame over TLS', async () => {
    const f = frame(77);
    const result = await new Promise<{ code: number; stderr: string }>((resolve, reject) => {
      execFile(
        '/usr/bin/mosquitto_pub',
        [
          '-h',
          '127.0.0.1',
          '-p',
          String(tp.platform.ports.mqttTls),
          '--cafile',
          pki.caFile,
          '-i',
          vehicle.id,
          '-u',
          vehicle.id,
          '-P',
          vehicle.secret,
          '-q',
          '1',
          '-t',
          vehicleTopic(vehicle.id, 'telemetry'),
          '-m',
          JSON.stringify(f),
        ],
        { timeout: 15_000 },
        (err, _stdout, stderr) => {
          if (err && typeof err.code !== 'number') return reject(err);
          resolve({ code: err ? (err.code as number) : 0, stderr });
        },
      );
    });
    expect(result, result.stderr).toMatchObject({ code: 0 });
    const stored = await tp.platform.telemetry.frames(vehicle.id, 0, Date.now() + 60_000);
    expect(stored.map((s) => s.frame.seq)).toContain(77);
  });
});

describe('the console over HTTPS', () => {
  const get = (path: string, ca: Buffer) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: tp.platform.ports.http, path, ca }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    });

  it('answers over TLS with the configured certificate', async () => {
    const res = await get('/healthz', pki.ca);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ status: 'ok' });
  });

  it('a client trusting another CA refuses it', async () => {
    await expect(get('/healthz', other.ca)).rejects.toThrow(/self[- ]signed|unable to verify|certificate/i);
  });
});

describe('MQTT over WebSocket (wss://…/mqtt on the console port)', () => {
  const url = () => `wss://127.0.0.1:${tp.platform.ports.http}/mqtt`;

  it('MQTT.js connects with the same credentials and a QoS 1 frame is stored', async () => {
    const client = await connect(url(), { ...creds(), ca: pki.ca });
    expect(await publishAndFind(client, 2)).toBe(true);
    await client.endAsync();
  });

  it('the same authentication: a wrong secret is refused', async () => {
    await expect(connect(url(), { ...creds(), password: 'wrong', ca: pki.ca })).rejects.toMatchObject({ code: 4 }); // bad user name or password, as over TCP
  });

  it('the same ACL: another vehicle’s topic is not delivered to its subscribers', async () => {
    const other = await tp.addVehicle('TLS-2');
    const client = await connect(url(), { ...creds(), ca: pki.ca });
    const before = tp.platform.counters.get('mqtt.publish_denied', vehicle.id);
    await client.publishAsync(vehicleTopic(other.id, 'telemetry'), JSON.stringify(frame(3)), { qos: 1 });
    expect(tp.platform.counters.get('mqtt.publish_denied', vehicle.id)).toBe(before + 1);
    expect(await tp.platform.telemetry.count(other.id)).toBe(0);
    await client.endAsync();
  });

  it('the live console socket on the same port still works beside it (socket.io path untouched)', async () => {
    const res = await new Promise<number>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port: tp.platform.ports.http, path: '/socket.io/?EIO=4&transport=polling', ca: pki.ca },
        (r) => {
          r.resume();
          resolve(r.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end();
    });
    // engine.io's open packet: the upgrade listener for /mqtt left socket.io's path alone
    expect(res).toBe(200);
  });
});

describe('TLS configuration', () => {
  it('refuses to start without the key, with a missing file, or with files but no port', () => {
    expect(() => loadConfig({ MQTT_TLS_PORT: '8883', MQTT_TLS_CERT_FILE: pki.certFile })).toThrow(
      /MQTT_TLS_KEY_FILE is missing/,
    );
    expect(() =>
      loadConfig({
        MQTT_TLS_PORT: '8883',
        MQTT_TLS_CERT_FILE: '/nonexistent/cert.pem',
        MQTT_TLS_KEY_FILE: pki.keyFile,
      }),
    ).toThrow(/MQTT_TLS_CERT_FILE="\/nonexistent\/cert.pem": no such file/);
    expect(() => loadConfig({ MQTT_TLS_CERT_FILE: pki.certFile, MQTT_TLS_KEY_FILE: pki.keyFile })).toThrow(
      /MQTT_TLS_PORT is missing/,
    );
    expect(() => loadConfig({ HTTP_TLS_KEY_FILE: pki.keyFile })).toThrow(/HTTP_TLS_CERT_FILE is missing/);
    expect(() => loadConfig({ MQTT_WS: 'yes' })).toThrow(/MQTT_WS must be true or false/);
    expect(loadConfig({}).MQTT_TLS_PORT).toBeUndefined();
  });
});
