import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { silentLogger, type Logger } from '../../core/logger.ts';
import { loadConfig } from '../../platform/config.ts';
import { createPlatform, type Platform } from '../../platform/platform.ts';
import { TOPIC_KINDS } from '../../protocol/index.ts';
import type { ServiceScope } from '../../registry/service-accounts.ts';
import type { RecordsDb } from '../../records/db.ts';
import { createTestDatabase, dropTestDatabaseFor, TEST_RECORDS_DIALECT } from './records.ts';

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
export async function startTestPlatform(
  env: Record<string, string> = {},
  options: { log?: Logger; dataDir?: string; now?: () => number; records?: RecordsDb } = {},
): Promise<TestPlatform> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'pw-test-'));
  // on PostgreSQL (TEST_DATABASE_URL) the records live in a database standing for the data directory,
  // so a platform restarted on the same directory finds them again, as it finds the SQLite file
  const ownRecords = TEST_RECORDS_DIALECT === 'postgres' && !env.DATABASE_URL && !options.records;
  let config: ReturnType<typeof loadConfig>;
  let platform: Platform | undefined;
  let ports: Awaited<ReturnType<Platform['start']>>;
  try {
    const databaseUrl = ownRecords ? { DATABASE_URL: await createTestDatabase({ file: dataDir }) } : {};
    config = loadConfig({
      MQTT_PORT: '0',
      HTTP_PORT: '0',
      MQTT_HOST: '127.0.0.1',
      HTTP_HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      LOG_LEVEL: 'silent',
      REGISTRY_POLL_MS: '100',
      ...databaseUrl,
      ...env,
    });
    platform = await createPlatform(config, {
      log: options.log ?? silentLogger(),
      ...(options.now ? { now: options.now } : {}),
      ...(options.records ? { records: options.records } : {}),
    });
    ports = await platform.start();
  } catch (err) {
    // a platform that did not start (a test of bad configuration) leaves no directory behind; one
    // built but not started (a port refused) is stopped first, as `npm start` does
    if (platform) await platform.stop().catch(() => undefined);
    if (!options.dataDir) {
      rmSync(dataDir, { recursive: true, force: true });
      if (ownRecords) await dropTestDatabaseFor(dataDir).catch(() => undefined);
    }
    throw err;
  }
  // MQTT_PORT=off: no plain port (connect() then fails)
  const mqttUrl = config.MQTT_PORT === null ? 'mqtt://plain-port-off.invalid' : `mqtt://127.0.0.1:${ports.mqtt}`;
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
        const client = mqtt.connect(mqttUrl, {
          clientId: id,
          username: id,
          password: secret,
          reconnectPeriod: 0,
          connectTimeout: 5000,
          ...opts,
        });
        clients.add(client);
        const onError = (err: Error) => {
          client.end(true);
          reject(err);
        };
        client.once('error', onError);
        client.once('connect', () => {
          client.off('error', onError);
          // A socket error after CONNACK (e.g. EPIPE when the broker closes the connection) must
          // not become an unhandled 'error' event; tests watch 'close' instead.
          client.on('error', () => undefined);
          resolve(client);
        });
      });
    },
    async close() {
      try {
        await Promise.all([...clients].map((c) => c.endAsync(true).catch(() => undefined)));
        await platform.stop();
      } finally {
        // a directory the caller passed is the caller's to remove
        if (!options.dataDir) {
          rmSync(dataDir, { recursive: true, force: true });
          if (ownRecords) await dropTestDatabaseFor(dataDir);
        }
      }
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
    generator: {
      running: false,
      voltageV: 0,
      frequencyHz: 0,
      currentA: 0,
      rpm: 0,
      fuelPct: 80,
      coolantC: 25,
      oilKpa: 0,
    },
    battery: { voltageV: 26.4, currentA: 3.2, socPct: 95, tempC: 24 },
    charging: { engineRunning: false, alternatorV: 0, currentA: 0 },
    loadKw: 2.7,
    ...extra,
  };
}

/** Rejects after `ms` with a message naming what was awaited. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Resolves once the client's connection has closed. */
export function closed(client: MqttClient, ms = 5000): Promise<void> {
  if (!client.connected && client.stream?.destroyed) return Promise.resolve();
  return withTimeout(
    new Promise<void>((resolve) => client.once('close', () => resolve())),
    ms,
    `${client.options.clientId} to close`,
  );
}

/** Attempts a connection that must be refused; resolves with the CONNACK return code. */
export async function refusalCode(
  tp: TestPlatform,
  id: string,
  secret: string,
  options: IClientOptions = {},
): Promise<number> {
  try {
    await tp.connect(id, secret, options);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (typeof code !== 'number') throw new Error(`connection failed without a CONNACK code: ${String(err)}`);
    return code;
  }
  throw new Error(`connection as ${id} was accepted`);
}

export interface ReceivedMessage {
  topic: string;
  payload: Buffer;
  retain: boolean;
  /** The payload parsed as JSON (undefined when it is not JSON). */
  json: unknown;
}

/** Everything a client receives, with a way to wait for a particular message. */
export interface Inbox {
  readonly messages: ReceivedMessage[];
  /** Resolves with the first message, received before or after the call, that matches. */
  waitFor(match: (m: ReceivedMessage) => boolean, ms?: number, what?: string): Promise<ReceivedMessage>;
}

export function inbox(client: MqttClient): Inbox {
  const messages: ReceivedMessage[] = [];
  const waiters = new Set<{ match: (m: ReceivedMessage) => boolean; resolve: (m: ReceivedMessage) => void }>();
  client.on('message', (topic, payload, packet) => {
    let json: unknown;
    try {
      json = JSON.parse(payload.toString('utf8'));
    } catch {
      json = undefined;
    }
    const m: ReceivedMessage = { topic, payload, retain: packet.retain, json };
    messages.push(m);
    for (const w of waiters) {
      if (w.match(m)) {
        waiters.delete(w);
        w.resolve(m);
      }
    }
  });
  return {
    messages,
    waitFor(match, ms = 5000, what = 'a matching message') {
      const found = messages.find(match);
      if (found) return Promise.resolve(found);
      let waiter: { match: (m: ReceivedMessage) => boolean; resolve: (m: ReceivedMessage) => void } | undefined;
      const p = new Promise<ReceivedMessage>((resolve) => {
        waiter = { match, resolve };
        waiters.add(waiter);
      });
      return withTimeout(p, ms, `${what} at ${client.options.clientId}`).finally(() => waiters.delete(waiter!));
    },
  };
}

/** Every topic kind of every unit: what these tests' service accounts may do unless they say otherwise. */
export const FULL_SERVICE_SCOPE: ServiceScope = { topics: [...TOPIC_KINDS] };

/** Provisions a platform service account (`svc-…`) with `scope` (default: FULL_SERVICE_SCOPE) and connects it. */
export async function connectService(
  tp: TestPlatform,
  id = 'svc-observer',
  options: IClientOptions = {},
  scope: ServiceScope = FULL_SERVICE_SCOPE,
): Promise<MqttClient> {
  const existing = await tp.platform.serviceAccounts.secretHash(id);
  if (existing) await tp.platform.serviceAccounts.remove(id);
  const { secret } = await tp.platform.serviceAccounts.add(id, 'integration test observer', scope);
  return tp.connect(id, secret, options);
}

/** Subscribes and returns the SUBACK's granted codes as sent (128 = refused), whether or not MQTT.js calls it an error. */
export async function subackCodes(
  client: MqttClient,
  filters: string | string[],
  qos: 0 | 1 | 2 = 1,
): Promise<number[]> {
  try {
    const granted = await client.subscribeAsync(filters, { qos });
    return granted.map((g) => g.qos);
  } catch (err) {
    const packet = (err as { packet?: { cmd?: string; granted?: unknown } }).packet;
    if (packet?.cmd === 'suback' && Array.isArray(packet.granted))
      return packet.granted.map((g) => (typeof g === 'number' ? g : (g as { qos: number }).qos));
    throw err;
  }
}
