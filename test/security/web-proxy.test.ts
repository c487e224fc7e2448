import { afterEach, describe, expect, it } from 'vitest';
import { PlatformError } from '../../core/errors.ts';
import { loadConfig } from '../../platform/config.ts';
import { createAccounts } from '../../web/auth/accounts.ts';
import { createAuditLog } from '../../web/auth/audit.ts';
import { startTestPlatform, type TestPlatform } from '../helpers/platform.ts';
import { PASSWORD, TEST_COST } from '../web/helpers.ts';

/**
 * Forged X-Forwarded-For (ASVS V14.5 / V7.1 — the address in the log must be the real one). The
 * console believes X-Forwarded-* only from the reverse proxies named in HTTP_TRUSTED_PROXIES
 * (HTTP_TRUST_PROXY=true, the older switch, means a proxy on the same host: loopback only). From
 * any other peer the header is ignored: the login throttle and the audit log see the peer's address.
 * The whole platform, configured from the environment as in production; requests come from
 * chosen peer addresses (Fastify's inject).
 */
describe('forged X-Forwarded-For from a peer that is not a trusted proxy', () => {
  let tp: TestPlatform | undefined;
  afterEach(async () => {
    await tp?.close();
    tp = undefined;
  });

  async function start(env: Record<string, string>) {
    tp = await startTestPlatform(env);
    await createAccounts({ db: tp.platform.records }, { passwordCost: TEST_COST }).add({
      id: 'engineer',
      name: 'Engineer on duty',
      role: 'engineer',
      password: PASSWORD,
    });
    const app = tp.platform.web.app!;
    const audit = createAuditLog({ db: tp.platform.records });
    const login = (password: string, peer: string, xff?: string, username = 'engineer') =>
      app.inject({
        method: 'POST',
        url: '/api/auth/login',
        payload: { username, password },
        remoteAddress: peer,
        headers: xff ? { 'x-forwarded-for': xff, 'x-real-ip': xff.split(',')[0]! } : {},
      });
    const loggedIps = async (action: string) => (await audit.list({ action, limit: 1000 })).map((e) => e.ip);
    return { login, loggedIps };
  }

  for (const [label, env] of [
    ['HTTP_TRUST_PROXY=true (loopback only)', { HTTP_TRUST_PROXY: 'true' }],
    ['HTTP_TRUSTED_PROXIES=10.0.0.0/8', { HTTP_TRUSTED_PROXIES: '10.0.0.0/8' }],
    ['no proxy configured', {}],
  ] as const) {
    it(`${label}: a fresh forged address per attempt does not dodge the limit; the audit log has the real peer`, async () => {
      const { login, loggedIps } = await start(env);
      const attacker = '192.0.2.66';
      for (let i = 0; i < 20; i++) {
        const res = await login(`guess ${i} wrong`, attacker, `198.51.100.${i + 1}`, `user${i}`);
        expect(res.statusCode, `attempt ${i + 1}`).toBe(401);
      }
      // the address limit (20) is reached: refused whatever the header says
      expect((await login(PASSWORD, attacker, '198.51.100.200')).statusCode).toBe(429);
      expect((await login(PASSWORD, attacker, '127.0.0.1')).statusCode).toBe(429);
      expect(new Set(await loggedIps('login.failed'))).toEqual(new Set([attacker]));
    });

    it(`${label}: a forged victim address does not lock the victim out`, async () => {
      const { login, loggedIps } = await start(env);
      const victim = '203.0.113.9';
      for (let i = 0; i < 30; i++) await login(`guess ${i} wrong`, '192.0.2.66', victim);
      const res = await login(PASSWORD, victim);
      expect(res.statusCode).toBe(200);
      expect(await loggedIps('login.succeeded')).toEqual([victim]);
      expect(await loggedIps('login.failed')).not.toContain(victim);
    });
  }

  it('HTTP_TRUSTED_PROXIES: behind the named proxies the client address is the first one no trusted proxy vouches for', async () => {
    const { login, loggedIps } = await start({ HTTP_TRUSTED_PROXIES: '192.0.2.10, 10.0.0.0/8' });
    // one proxy: the address it adds; what the client put in front is ignored
    expect((await login('wrong one wrong', '192.0.2.10', '6.6.6.6, 198.51.100.5')).statusCode).toBe(401);
    // two proxies (10.1.2.3 in front of 10.0.0.7): both trusted, the client is before them
    expect((await login('wrong two wrong', '10.1.2.3', '198.51.100.6, 10.0.0.7')).statusCode).toBe(401);
    // the trusted proxy without a header: the proxy itself
    expect((await login('wrong three wrong', '192.0.2.10')).statusCode).toBe(401);
    expect(new Set(await loggedIps('login.failed'))).toEqual(new Set(['198.51.100.5', '198.51.100.6', '192.0.2.10']));
    // the throttle counts the client behind the proxy, not the proxy: another client is unaffected
    for (let i = 0; i < 25; i++) await login(`guess ${i} wrong`, '192.0.2.10', '198.51.100.50');
    expect((await login(PASSWORD, '192.0.2.10', '198.51.100.50')).statusCode).toBe(429);
    expect((await login(PASSWORD, '192.0.2.10', '198.51.100.51')).statusCode).toBe(200);
  });
});

describe('HTTP_TRUSTED_PROXIES is validated at start', () => {
  const problem = (value: string) => {
    try {
      loadConfig({ HTTP_TRUSTED_PROXIES: value });
    } catch (err) {
      expect(err).toBeInstanceOf(PlatformError);
      return (err as Error).message;
    }
    return null;
  };

  it('addresses, CIDR ranges and named ranges are accepted; HTTP_TRUST_PROXY=true means loopback; nothing is trusted by default', () => {
    expect(
      loadConfig({ HTTP_TRUSTED_PROXIES: ' 10.0.0.1, 10.0.0.0/8 ,fd00::/8,::1, loopback' }).trustedProxies,
    ).toEqual(['10.0.0.1', '10.0.0.0/8', 'fd00::/8', '::1', 'loopback']);
    expect(loadConfig({ HTTP_TRUST_PROXY: 'true' }).trustedProxies).toEqual(['loopback']);
    expect(loadConfig({}).trustedProxies).toEqual([]);
    expect(loadConfig({ HTTP_TRUST_PROXY: 'true', HTTP_TRUSTED_PROXIES: '192.0.2.10' }).trustedProxies).toEqual([
      '192.0.2.10',
    ]);
  });

  it('anything else is refused with a message naming the variable and the entry', () => {
    expect(problem('proxy.example')).toMatch(
      /HTTP_TRUSTED_PROXIES.*"proxy\.example" is not an IP address, a CIDR range/s,
    );
    expect(problem('10.0.0.0/33')).toMatch(/HTTP_TRUSTED_PROXIES.*"10\.0\.0\.0\/33": the prefix length must be 0–32/s);
    expect(problem('10.0.0.1, *')).toMatch(/"\*" is not an IP address/);
    expect(problem(' , ')).toMatch(/HTTP_TRUSTED_PROXIES must list at least one address/);
    expect(problem('true')).toMatch(/"true" is not an IP address/);
  });
});
