import { hostname } from 'node:os';
import { describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../platform/config.ts';
import { createInProcessBus } from '../../core/bus.ts';
import { createCounters } from '../../core/counters.ts';
import { silentLogger } from '../../core/logger.ts';
import { hashSecret, verifySecret, generateSecret, PASSWORD_COST } from '../../core/secrets.ts';
import { createConnectThrottle } from '../../broker/throttle.ts';
import { createSecretVerifier } from '../../registry/credentials.ts';

describe('config', () => {
  it('has the documented defaults', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      MQTT_PORT: 1883,
      HTTP_PORT: 8080,
      DATA_DIR: './data',
      LOG_LEVEL: 'info',
      TELEMETRY_SYNC: 'full',
    });
    expect(c.dataDir.endsWith('/data')).toBe(true);
  });
  it('names every bad value in one error with a stable code', () => {
    try {
      loadConfig({ MQTT_PORT: '70000', HTTP_PORT: 'web', LOG_LEVEL: 'loud', TELEMETRY_SYNC: 'off' });
      expect.unreachable();
    } catch (err) {
      expect(err).toMatchObject({ code: 'CONFIG_INVALID' });
      const msg = (err as Error).message;
      expect(msg).toContain('MQTT_PORT="70000": MQTT_PORT must be 0–65535');
      expect(msg).toContain('HTTP_PORT="web"');
      expect(msg).toContain('LOG_LEVEL="loud"');
      expect(msg).toContain('TELEMETRY_SYNC="off"');
    }
  });
  it('treats empty values as unset', () => {
    expect(loadConfig({ MQTT_PORT: '' }).MQTT_PORT).toBe(1883);
  });
  it('DATABASE_URL selects PostgreSQL for the records: a postgres:// URL, never repeated in an error', () => {
    expect(loadConfig({}).DATABASE_URL).toBeUndefined();
    const url = 'postgresql://pw:secret@db.example:5432/powerwatch';
    expect(loadConfig({ DATABASE_URL: url }).DATABASE_URL).toBe(url);
    expect(loadConfig({ DATABASE_URL: 'postgres://127.0.0.1/pw' }).DATABASE_URL).toBe('postgres://127.0.0.1/pw');
    for (const bad of ['mysql://pw:secret@db/pw', 'postgres://', 'records.db']) {
      try {
        loadConfig({ DATABASE_URL: bad });
        expect.unreachable();
      } catch (err) {
        expect(err).toMatchObject({ code: 'CONFIG_INVALID' });
        expect((err as Error).message).toContain('DATABASE_URL=(not shown): DATABASE_URL must be a postgres://');
        expect((err as Error).message).not.toContain('secret');
      }
    }
  });
  it('NODE_ID defaults to the host name; the drain waits must fit in DRAIN_TIMEOUT_MS', () => {
    const c = loadConfig({});
    expect(c.NODE_ID).toBe(hostname().slice(0, 63));
    expect([c.DRAIN_READY_DELAY_MS, c.DRAIN_MOVE_MS, c.DRAIN_TIMEOUT_MS]).toEqual([0, 0, 30_000]);
    expect(loadConfig({ NODE_ID: 'node-2', DRAIN_READY_DELAY_MS: '10000', DRAIN_MOVE_MS: '5000' }).NODE_ID).toBe(
      'node-2',
    );
    expect(() => loadConfig({ NODE_ID: 'node 2' })).toThrow(/NODE_ID="node 2": NODE_ID must be 1–63 letters/);
    expect(() => loadConfig({ DRAIN_READY_DELAY_MS: '20000', DRAIN_MOVE_MS: '10000' })).toThrow(
      /DRAIN_TIMEOUT_MS=30000 must exceed DRAIN_READY_DELAY_MS \+ DRAIN_MOVE_MS \(30000\)/,
    );
  });

  it('TELEMETRY_STORE=postgres needs a URL (its own or DATABASE_URL) and refuses the InfluxDB export', () => {
    expect(loadConfig({}).TELEMETRY_STORE).toBe('sqlite');
    expect(loadConfig({}).telemetryDatabaseUrl).toBeUndefined();
    const records = 'postgres://pw:secret@db/records';
    const own = 'postgres://pw:secret@tsdb/telemetry';
    expect(loadConfig({ TELEMETRY_STORE: 'postgres', DATABASE_URL: records }).telemetryDatabaseUrl).toBe(records);
    expect(
      loadConfig({ TELEMETRY_STORE: 'postgres', DATABASE_URL: records, TELEMETRY_DATABASE_URL: own })
        .telemetryDatabaseUrl,
    ).toBe(own);
    const refused = (env: Record<string, string>) => {
      try {
        loadConfig(env);
      } catch (err) {
        expect(err).toMatchObject({ code: 'CONFIG_INVALID' });
        expect((err as Error).message).not.toContain('secret');
        return (err as Error).message;
      }
      return expect.unreachable();
    };
    expect(refused({ TELEMETRY_STORE: 'postgres' })).toContain(
      'TELEMETRY_DATABASE_URL is missing: TELEMETRY_STORE=postgres needs a PostgreSQL URL',
    );
    // the InfluxDB export reads either store
    expect(
      loadConfig({ TELEMETRY_STORE: 'postgres', TELEMETRY_DATABASE_URL: own, INFLUX_URL: 'http://influx:8086' })
        .INFLUX_URL,
    ).toBe('http://influx:8086');
    expect(refused({ TELEMETRY_DATABASE_URL: own })).toContain(
      'TELEMETRY_DATABASE_URL is used only with TELEMETRY_STORE=postgres',
    );
    expect(refused({ TELEMETRY_STORE: 'timescale' })).toContain('TELEMETRY_STORE must be sqlite or postgres');
    expect(refused({ TELEMETRY_STORE: 'postgres', TELEMETRY_DATABASE_URL: 'mysql://pw:secret@db/t' })).toContain(
      'TELEMETRY_DATABASE_URL=(not shown): TELEMETRY_DATABASE_URL must be a postgres://',
    );
  });

  it('cluster mode (REDIS_URL) needs the records and telemetry on PostgreSQL, and hides the URL', () => {
    const pg = 'postgres://pw:secret@db/pw';
    const refused = (env: Record<string, string>) => {
      try {
        loadConfig(env);
      } catch (err) {
        expect(err).toMatchObject({ code: 'CONFIG_INVALID' });
        expect((err as Error).message).not.toContain('secret');
        return (err as Error).message;
      }
      return expect.unreachable();
    };
    const alone = refused({ REDIS_URL: 'redis://127.0.0.1:6379' });
    expect(alone).toContain('REDIS_URL (cluster mode) needs DATABASE_URL');
    expect(alone).toContain('REDIS_URL (cluster mode) needs TELEMETRY_STORE=postgres');
    expect(refused({ REDIS_URL: 'redis://:secret@127.0.0.1:6379', DATABASE_URL: pg })).not.toContain(
      'needs DATABASE_URL',
    );
    expect(refused({ REDIS_URL: 'http://secret@redis:6379' })).toContain(
      'REDIS_URL=(not shown): REDIS_URL must be a redis:// or rediss:// URL',
    );
    expect(refused({ REDIS_KEY_PREFIX: 'a b' })).toContain('REDIS_KEY_PREFIX must be 1–64 letters');
    const config = loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379', DATABASE_URL: pg, TELEMETRY_STORE: 'postgres' });
    expect(config).toMatchObject({ REDIS_URL: 'redis://127.0.0.1:6379', REDIS_KEY_PREFIX: 'powerwatch:' });
  });
});

describe('event bus', () => {
  it('delivers typed events and logs a failing listener without stopping the others', async () => {
    const log = silentLogger();
    const error = vi.spyOn(log, 'error');
    const bus = createInProcessBus<{ ping: { n: number } }>(log);
    const seen: number[] = [];
    bus.on('ping', () => {
      throw new Error('boom');
    });
    bus.on('ping', async () => Promise.reject(new Error('async boom')));
    const off = bus.on('ping', (e) => void seen.push(e.n));
    bus.emit('ping', { n: 1 });
    off();
    bus.emit('ping', { n: 2 });
    await new Promise((r) => setImmediate(r));
    expect(seen).toEqual([1]);
    expect(error).toHaveBeenCalledTimes(4); // two failing listeners, two emits
    expect(bus.listenerCount('ping')).toBe(2);
  });
});

describe('counters', () => {
  it('counts totals and per key, bounded in keys', () => {
    const c = createCounters(2);
    c.inc('rejected', 'V1');
    c.inc('rejected', 'V2', 2);
    c.inc('rejected', 'V3');
    expect(c.get('rejected')).toBe(4);
    expect(c.get('rejected', 'V2')).toBe(2);
    expect(c.snapshot().byKey.rejected).toEqual({ V1: 1, V2: 2, '(other)': 1 });
  });
});

describe('secrets', () => {
  it('stores only a self-describing scrypt hash and verifies it', async () => {
    const secret = generateSecret();
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const hash = await hashSecret(secret);
    // a machine secret: 256 random bits, so scrypt at a token cost (core/secrets.ts)
    expect(hash).toMatch(/^scrypt\$4\$8\$1\$/);
    expect(hash).not.toContain(secret);
    expect(await verifySecret(secret, hash)).toBe(true);
    expect(await verifySecret(secret + 'x', hash)).toBe(false);
    expect(await verifySecret(secret, 'plain')).toBe(false);
  });
  it('verifies a secret stored at another cost (the machine cost before 2026-12-06, a password cost) by the cost its hash names', async () => {
    const secret = generateSecret();
    for (const cost of [{ log2N: 10, r: 8, p: 1 }, PASSWORD_COST]) {
      const hash = await hashSecret(secret, cost);
      expect(hash.startsWith(`scrypt$${cost.log2N}$8$1$`)).toBe(true);
      expect(await verifySecret(secret, hash)).toBe(true);
      expect(await verifySecret(secret + 'x', hash)).toBe(false);
    }
  });
  it('caches a verified secret but not a wrong one, and forgets it when the hash changes', async () => {
    const verify = createSecretVerifier();
    const secret = generateSecret();
    const hash = await hashSecret(secret);
    expect(await verify('V1', secret, hash)).toBe(true);
    expect(await verify('V1', 'wrong', hash)).toBe(false);
    expect(await verify('V1', secret, hash)).toBe(true);
    expect(await verify('V1', secret, await hashSecret('other'))).toBe(false);
  });
});

describe('login throttle', () => {
  it('throttles a source after the free attempts with a doubling back-off, and a success clears it', () => {
    let t = 0;
    const th = createConnectThrottle(
      { freePerSource: 2, freePerAddress: 100, windowMs: 60_000, baseBlockMs: 1000, maxBlockMs: 4000 },
      () => t,
    );
    const blocked = (id: string, address = '192.0.2.1') => th.gate(id, address) === 'cached';
    th.failed('V1', '192.0.2.1');
    th.failed('V1', '192.0.2.1');
    expect(blocked('V1')).toBe(false);
    th.failed('V1', '192.0.2.1');
    expect(blocked('V1')).toBe(true);
    expect(blocked('V1', '192.0.2.2')).toBe(false); // another address is not affected
    t += 1001;
    expect(blocked('V1')).toBe(false);
    th.failed('V1', '192.0.2.1');
    t += 1500;
    expect(blocked('V1')).toBe(true); // second block is 2 s
    th.succeeded('V1', '192.0.2.1');
    expect(blocked('V1')).toBe(false);
    expect(blocked('V2')).toBe(false);
  });
});
