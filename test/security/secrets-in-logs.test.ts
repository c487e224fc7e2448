import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../core/logger.ts';
import { vehicleTopic } from '../../protocol/index.ts';
import { frame, refusalCode, startTestPlatform, type TestPlatform } from '../helpers/platform.ts';
import { connected, httpLogin, openLive } from '../helpers/live-client.ts';
import { generateSync } from 'otplib';
import { expectNoSecrets, MOSQUITTO_PUB, runTool } from './helpers.ts';
import { DATA_FILES } from '../../platform/data-files.ts';

/**
 * Secrets never reach the log (ASVS V7.1.1, V2.10): the whole platform with the production logger
 * (core/logger.ts, its redaction) at trace level writing to a buffer, through a scenario that handles
 * every kind of secret — vehicle secrets (issued, rotated, guessed wrong), a service account's
 * secret, passwords (set, wrong, changed, reset, one-time), session tokens and CSRF tokens, over
 * MQTT (MQTT.js and mosquitto_pub), the API and socket.io. None of them may appear in the log, in
 * any encoding, nor in the audit log or the records store's files. The one documented exception is
 * the first-start setup password, printed exactly once (docs/api.md).
 */
describe('secrets and passwords never reach the log', () => {
  let tp: TestPlatform;
  const chunks: string[] = [];
  const secrets: Record<string, string> = {};
  let setupPassword = '';
  const logText = () => chunks.join('');

  beforeAll(async () => {
    const stream = new Writable({
      write(chunk: Buffer, _enc, cb) {
        chunks.push(chunk.toString('utf8'));
        cb();
      },
    });
    tp = await startTestPlatform({}, { log: createLogger({ level: 'trace' }, stream) });
  });
  afterAll(async () => {
    await tp?.close();
  });

  it('runs the scenario: provisioning, MQTT with wrong and right secrets, logins, password changes and resets, live connections', async () => {
    const base = `http://127.0.0.1:${tp.platform.ports.http}`;
    const call = async (login: { cookie: string; csrf: string }, method: string, path: string, body?: unknown) => {
      const headers = {
        cookie: login.cookie,
        'x-csrf-token': login.csrf,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      };
      const res = await fetch(`${base}${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: res.status, body: (await res.json().catch(() => null)) as Record<string, unknown> | null };
    };
    const keep = (label: string, value: string) => (secrets[label] = value);
    const keepLogin = (label: string, login: { token: string; csrf: string }) => {
      keep(`${label} session token`, login.token);
      keep(`${label} CSRF token`, login.csrf);
    };

    // first start: the setup password, printed once on purpose
    const setupLine = logText()
      .split('\n')
      .find((l) => l.includes('setup password'));
    setupPassword = /setup password (\S+)/.exec(setupLine ?? '')?.[1] ?? '';
    expect(setupPassword.length).toBeGreaterThanOrEqual(16);

    // the admin: a wrong password, the setup password, then its own
    expect(
      (
        await fetch(`${base}/api/auth/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            username: 'admin',
            password: keep('a wrong admin password', 'Tr0ub4dor&3-wrong-admin'),
          }),
        })
      ).status,
    ).toBe(401);
    const setup = await httpLogin(base, 'admin', setupPassword);
    keepLogin('setup', setup);
    expect(
      (
        await call(setup, 'POST', '/api/auth/password', {
          currentPassword: setupPassword,
          newPassword: keep('the admin password', 'admin-own-passphrase-91'),
        })
      ).status,
    ).toBe(200);
    const admin = await httpLogin(base, 'admin', secrets['the admin password']!);
    keepLogin('admin', admin);

    // a customer unit, a vehicle provisioned through the API (its secret is shown once)
    expect((await call(admin, 'POST', '/api/customers', { id: 'CA', name: 'Unit A' })).status).toBe(201);
    const provisioned = await call(admin, 'POST', '/api/vehicles', { id: 'LOG-V1', customerId: 'CA' });
    expect(provisioned.status).toBe(201);
    keep('the vehicle secret', provisioned.body!.secret as string);

    // MQTT: wrong secrets (MQTT.js, mosquitto_pub), the right one, a frame
    expect(
      await refusalCode(tp, 'LOG-V1', keep('a wrong vehicle secret', 'wrong-vehicle-secret-0123456789abcdef')),
    ).toBe(4);
    const port = String(tp.platform.ports.mqtt);
    const mosq = await runTool(MOSQUITTO_PUB, [
      '-h',
      '127.0.0.1',
      '-p',
      port,
      '-i',
      'LOG-V1',
      '-u',
      'LOG-V1',
      '-P',
      keep('a wrong secret from mosquitto_pub', 'mosquitto-wrong-secret-9876543210'),
      '-q',
      '1',
      '-t',
      vehicleTopic('LOG-V1', 'telemetry'),
      '-m',
      '{}',
    ]);
    expect(mosq.code).not.toBe(0);
    const gw = await tp.connect('LOG-V1', secrets['the vehicle secret']!);
    await gw.publishAsync(vehicleTopic('LOG-V1', 'telemetry'), JSON.stringify(frame(1)), { qos: 1 });
    // the secret in a payload where it does not belong is refused; the refusal is logged without it
    await gw.publishAsync(
      vehicleTopic('LOG-V1', 'telemetry'),
      `{"password":"${keep('a secret inside a refused payload', 'payload-secret-5550123-abcdef')}"`,
      { qos: 1 },
    );
    await gw.endAsync();

    // rotation: the new secret works, the old one no longer
    const rotated = await call(admin, 'POST', '/api/vehicles/LOG-V1/rotate-secret');
    expect(rotated.status).toBe(200);
    keep('the rotated vehicle secret', rotated.body!.secret as string);
    expect(await refusalCode(tp, 'LOG-V1', secrets['the vehicle secret']!)).toBe(4);
    const gw2 = await tp.connect('LOG-V1', secrets['the rotated vehicle secret']!);
    await gw2.endAsync();

    // a service account (as `npm run vehicles -- service-add` makes it)
    const svc = await tp.platform.serviceAccounts.add('svc-log-test', 'log test');
    keep('the service account secret', svc.secret);
    expect(
      await refusalCode(tp, 'svc-log-test', keep('a wrong service secret', 'wrong-service-secret-abcdefghijkl')),
    ).toBe(4);
    await (await tp.connect('svc-log-test', svc.secret)).endAsync();

    // accounts: one with a password set by the admin, one with a generated one-time password; a reset
    expect(
      (
        await call(admin, 'POST', '/api/accounts', {
          id: 'li.wei',
          name: 'Li Wei',
          role: 'dispatcher',
          password: keep('a password set by the admin', 'li-wei-initial-pass-42'),
        })
      ).status,
    ).toBe(201);
    const created = await call(admin, 'POST', '/api/accounts', {
      id: 'zhang.min',
      name: 'Zhang Min',
      role: 'customer',
      customerId: 'CA',
    });
    keep('a generated one-time password', created.body!.password as string);
    const reset = await call(admin, 'POST', '/api/accounts/li.wei/reset-password');
    keep('a one-time password from a reset', reset.body!.password as string);

    // the users: a wrong current password, then the change
    const zhang = await httpLogin(base, 'zhang.min', secrets['a generated one-time password']!);
    keepLogin('zhang', zhang);
    expect(
      (
        await call(zhang, 'POST', '/api/auth/password', {
          currentPassword: keep('a wrong current password', 'not-my-current-pass-77'),
          newPassword: 'irrelevant-new-pass-1',
        })
      ).status,
    ).toBe(401);
    expect(
      (
        await call(zhang, 'POST', '/api/auth/password', {
          currentPassword: secrets['a generated one-time password']!,
          newPassword: keep('zhang’s own password', 'lanterns-on-the-east-dock-2026'),
        })
      ).status,
    ).toBe(200);
    const li = await httpLogin(base, 'li.wei', secrets['a one-time password from a reset']!);
    keepLogin('li', li);
    expect(
      (
        await call(li, 'POST', '/api/auth/password', {
          currentPassword: secrets['a one-time password from a reset']!,
          newPassword: keep('li’s own password', 'harbour kites fly at noon!'),
        })
      ).status,
    ).toBe(200);
    expect(
      (
        await fetch(`${base}/api/auth/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            username: 'li.wei',
            password: keep('an old password tried again', 'li-wei-initial-pass-42'),
          }),
        })
      ).status,
    ).toBe(401);
    const zhang2 = await httpLogin(base, 'zhang.min', secrets['zhang’s own password']!);
    keepLogin('zhang again', zhang2);

    // requests that fail to parse or validate, with a password inside
    await fetch(`${base}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: `{"username":"admin","password":"${keep('a password in broken JSON', 'broken-json-pass-31337')}"`,
    });
    await fetch(`${base}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        username: 5,
        password: keep('a password in an invalid body', 'invalid-body-pass-4242'),
        extra: true,
      }),
    });
    await fetch(`${base}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: `username=admin&password=${keep('a password in a form body', 'form-body-pass-9999')}`,
    });

    // account security: a TOTP secret and recovery codes, the second login step, a reset link, an API token
    const enrolment = await call(admin, 'POST', '/api/auth/two-factor/enrol');
    expect(enrolment.status).toBe(200);
    const totpSecret = keep('a TOTP secret', new URL(enrolment.body!.otpauthUri as string).searchParams.get('secret')!);
    const confirmed = await call(admin, 'POST', '/api/auth/two-factor/confirm', {
      code: generateSync({ secret: totpSecret }),
    });
    expect(confirmed.status).toBe(200);
    (confirmed.body!.recoveryCodes as string[]).forEach((c, i) => keep(`recovery code ${i + 1}`, c));
    const step1 = await fetch(`${base}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: secrets['the admin password'] }),
    });
    const challenge = keep('a login challenge', ((await step1.json()) as { challenge: string }).challenge);
    const step2 = await fetch(`${base}/api/auth/login/second-factor`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ challenge, recoveryCode: secrets['recovery code 1'] }),
    });
    expect(step2.status).toBe(200);
    keep('a session token after the second step', step2.headers.getSetCookie()[0]!.split(';')[0]!.split('=')[1]!);
    const link = await call(admin, 'POST', '/api/accounts/li.wei/reset-link');
    const resetToken = keep('a reset link token', link.body!.token as string);
    const used = await fetch(`${base}/api/auth/reset`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        token: resetToken,
        newPassword: keep('a password set by a reset link', 'quiet rivers 4 reset'),
      }),
    });
    expect(used.status).toBe(204);
    const tokenMade = await call(admin, 'POST', '/api/admin/api-tokens', {
      accountId: 'li.wei',
      name: 'ERP',
      scopes: ['vehicles:read'],
    });
    const apiToken = keep('an API token', tokenMade.body!.token as string);
    expect((await fetch(`${base}/api/vehicles`, { headers: { authorization: `Bearer ${apiToken}` } })).status).toBe(
      200,
    );
    const wrongToken = keep('a wrong API token', `pwt_${'Q'.repeat(43)}`);
    expect((await fetch(`${base}/api/vehicles`, { headers: { authorization: `Bearer ${wrongToken}` } })).status).toBe(
      401,
    );

    // live connections with the session cookies (WebSocket and long-polling), then logouts
    for (const [login, transport] of [
      [zhang2, 'websocket'],
      [admin, 'polling'],
    ] as const) {
      const s = openLive(base, { cookie: login.cookie }, { transport });
      await connected(s);
      await s.timeout(5000).emitWithAck('subscribe', { vehicleId: 'LOG-V1' });
      s.disconnect();
    }
    const refusedLive = openLive(base, {
      cookie: `__Host-pw_session=${keep('a forged session token', 'forged-session-token-0123456789abcdefghijkl')}`,
    });
    await new Promise<void>((resolve) => refusedLive.once('connect_error', () => resolve()));
    refusedLive.disconnect();
    expect((await call(zhang2, 'POST', '/api/auth/logout')).status).toBe(204);
    expect((await call(admin, 'POST', '/api/auth/logout')).status).toBe(204);
    expect(Object.keys(secrets).length).toBeGreaterThan(25);
  });

  it('the log (trace level) holds none of them, in any encoding; the setup password exactly once', () => {
    const text = logText();
    // the log did see every step: refused connections, failed logins, each request (debug)
    expect(text).toContain('MQTT connection refused');
    expect(text).toContain('login failed');
    expect(text.split('\n').filter((l) => l.includes('"msg":"request"')).length).toBeGreaterThan(20);
    expectNoSecrets(text, secrets, 'the log');
    expect(text.split(setupPassword).length - 1).toBe(1);
  });

  it('neither do the audit log nor the records store on disk', async () => {
    expectNoSecrets(
      JSON.stringify(await tp.platform.records.selectFrom('audit_log').selectAll().execute()),
      { ...secrets, 'the setup password': setupPassword },
      'the audit log',
    );
    const files = readdirSync(tp.dataDir).filter((f) => f.startsWith(DATA_FILES.records));
    expect(files).toContain(DATA_FILES.records);
    const bytes = files.map((f) => readFileSync(join(tp.dataDir, f)).toString('latin1')).join('\n');
    const stored = Object.fromEntries(
      Object.entries(secrets).filter(([k]) => k !== 'a secret inside a refused payload'),
    ); // the dead-letter log keeps the head of a refused payload, by design
    expectNoSecrets(bytes, { ...stored, 'the setup password': setupPassword }, 'the records store files');
  });
});
