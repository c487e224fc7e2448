import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { silentLogger, type Logger } from '../../core/logger.ts';
import { loadConfig } from '../../platform/config.ts';
import { createPlatform, type Platform } from '../../platform/platform.ts';

export interface TestPlatform {
  platform: Platform;
  dataDir: string;
  mqttUrl: string;
  /** Provisions a vehicle and returns its credentials. */
  addVehicle(id: string, customerId?: string): Promise<{ id: string; secret: string }>;
  /** Connects an MQTT.js client; resolves on CONNACK success, rejects with the refusal. */
  connect(id: string, secret: string, options?: IClientOptions): Promise<MqttClient>;
  close(): Promise<void>;
}

/** The whole platform in-process on ephemeral ports with a fresh data directory. */
export async function startTestPlatform(env: Record<string, string> = {}, options: { log?: Logger; dataDir?: string } = {}): Promise<TestPlatform> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'pw-test-'));
  const config = loadConfig({ MQTT_PORT: '0', HTTP_PORT: '0', MQTT_HOST: '127.0.0.1', HTTP_HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'silent', REGISTRY_POLL_MS: '100', ...env });
  const platform = await createPlatform(config, { log: options.log ?? silentLogger() });
  const ports = await platform.start();
  const mqttUrl = `mqtt://127.0.0.1:${ports.mqtt}`;
  const clients = new Set<MqttClient>();
  return {
    platform,
    dataDir,
    mqttUrl,
    async addVehicle(id, customerId = 'C1') {
      const { secret } = await platform.vehicles.add({ id, customerId });
      return { id, secret };
    },
    connect(id, secret, opts = {}) {
      return new Promise((resolve, reject) => {
        const client = mqtt.connect(mqttUrl, { clientId: id, username: id, password: secret, reconnectPeriod: 0, connectTimeout: 5000, ...opts });
        clients.add(client);
        client.once('connect', () => resolve(client));
        client.once('error', (err) => {
          client.end(true);
          reject(err);
        });
      });
    },
    async close() {
      await Promise.all([...clients].map((c) => c.endAsync(true).catch(() => undefined)));
      await platform.stop();
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A valid frame for tests. */
export function frame(seq: number, ts = Date.now(), extra: Record<string, unknown> = {}) {
  return {
    v: 1,
    seq,
    ts,
    source: 'mains',
    mains: { present: true, voltageV: 221.3, frequencyHz: 50.01, currentA: 12.5 },
    generator: { running: false, voltageV: 0, frequencyHz: 0, currentA: 0, rpm: 0, fuelPct: 80, coolantC: 25, oilKpa: 0 },
    battery: { voltageV: 26.4, currentA: 3.2, socPct: 95, tempC: 24 },
    charging: { engineRunning: false, alternatorV: 0, currentA: 0 },
    loadKw: 2.7,
    ...extra,
  };
}
