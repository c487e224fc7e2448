import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { expect } from 'vitest';
import {
  createCertificateAuthority,
  issueServerCertificate,
  issueVehicleCertificate,
  type CertificateAuthority,
} from '../../broker/certificate-authority.ts';

/** A CA (made with the platform's own certificate authority), the broker's certificate, files for the platform. */
export interface MtlsPki {
  dir: string;
  ca: CertificateAuthority;
  caFile: string;
  certFile: string;
  keyFile: string;
  /** Writes a vehicle's certificate and key (CN = id) and returns their files and contents. */
  vehicle(
    id: string,
    validity?: { notBefore?: Date; notAfter?: Date },
    ca?: CertificateAuthority,
  ): { certFile: string; keyFile: string; cert: string; key: string };
}

export function makeMtlsPki(): MtlsPki {
  const dir = mkdtempSync(join(tmpdir(), 'pw-mtls-'));
  const ca = createCertificateAuthority({ name: 'mTLS test CA' });
  const server = issueServerCertificate(ca, ['127.0.0.1', 'localhost']);
  const file = (name: string, text: string) => {
    const f = join(dir, name);
    writeFileSync(f, text);
    return f;
  };
  let n = 0;
  return {
    dir,
    ca,
    caFile: file('ca.pem', ca.cert),
    certFile: file('server.pem', server.cert),
    keyFile: file('server.key', server.key),
    vehicle(id, validity = {}, other) {
      const issued = issueVehicleCertificate(other ?? ca, id, validity);
      const base = `${id}-${++n}`;
      return { certFile: file(`${base}.pem`, issued.cert), keyFile: file(`${base}.key`, issued.key), ...issued };
    },
  };
}

/** Connects with MQTT.js; resolves on CONNACK, rejects on the first error or a close before it. */
export function connectMqtt(url: string, options: IClientOptions): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5000, ...options });
    client.once('connect', () => resolve(client));
    client.once('error', (err) => {
      client.end(true);
      reject(err);
    });
    client.once('close', () => {
      client.end(true);
      reject(new Error('connection closed before CONNACK'));
    });
  });
}

/** Runs Debian's mosquitto_pub; resolves with its exit code and stderr. */
/**
 * The certificate names the vehicle, on any listener (TLS port or wss): with `own`'s certificate,
 * another client id, or another user name beside it, is refused with CONNACK 2.
 */
export async function expectCertificateNamesVehicle(url: string, pki: MtlsPki, own: string, other: string) {
  const c = pki.vehicle(own);
  const cert = { ca: pki.ca.cert, cert: c.cert, key: c.key };
  await expect(connectMqtt(url, { clientId: other, ...cert })).rejects.toMatchObject({ code: 2 });
  await expect(connectMqtt(url, { clientId: own, username: other, password: 'x', ...cert })).rejects.toMatchObject({
    code: 2,
  });
}

export function mosquittoPub(args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile('/usr/bin/mosquitto_pub', args, { timeout: 15_000 }, (err, _stdout, stderr) => {
      if (err && typeof err.code !== 'number') return reject(err);
      resolve({ code: err ? (err.code as number) : 0, stderr });
    });
  });
}
