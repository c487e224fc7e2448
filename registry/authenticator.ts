import type { VehicleRegistry } from './vehicles.ts';
import type { ServiceAccounts, ServiceScope } from './service-accounts.ts';
import { isServiceAccountId } from './service-accounts.ts';
import { createSecretVerifier } from './credentials.ts';

type Principal =
  { kind: 'vehicle'; id: string; customerId: string } | { kind: 'service'; id: string; scope: ServiceScope };
type Result =
  | { ok: true; principal: Principal }
  | { ok: false; reason: 'unknown_account' | 'bad_secret' | 'throttled' | 'unknown_certificate' };

/**
 * Checks MQTT credentials against the registry: vehicles by id, service accounts by their `svc-`
 * id. Reads the stored hash at every CONNECT, so a vehicle added, rotated or removed from another
 * process takes effect at its next CONNECT. With `cachedOnly` (the broker throttles the source)
 * only a secret verified before is accepted; anything else, an unknown id included, is answered
 * `throttled` without computing scrypt.
 */
export function createRegistryAuthenticator(deps: { vehicles: VehicleRegistry; serviceAccounts: ServiceAccounts }) {
  const verify = createSecretVerifier();
  return {
    async authenticate(attempt: {
      clientId: string;
      username: string | undefined;
      password: Buffer | undefined;
      cachedOnly?: boolean;
    }): Promise<Result> {
      const id = attempt.clientId;
      const secret = attempt.password?.toString('utf8') ?? '';
      const cachedOnly = attempt.cachedOnly === true;
      const refused = (reason: 'unknown_account' | 'bad_secret'): Result => ({
        ok: false,
        reason: cachedOnly ? 'throttled' : reason,
      });
      if (isServiceAccountId(id)) {
        const account = await deps.serviceAccounts.credentials(id);
        if (!account) return refused('unknown_account');
        return (await verify(id, secret, account.secretHash, { cachedOnly }))
          ? { ok: true, principal: { kind: 'service', id, scope: account.scope } }
          : refused('bad_secret');
      }
      const creds = await deps.vehicles.credentials(id);
      if (!creds) return refused('unknown_account');
      if (!(await verify(id, secret, creds.secretHash, { cachedOnly }))) return refused('bad_secret');
      return { ok: true, principal: { kind: 'vehicle', id, customerId: creds.customerId } };
    },
    /**
     * Mutual TLS: a client certificate verified against the CA names a vehicle by its CN. Only a
     * registered vehicle is let in (a removed vehicle's certificate no longer works); service accounts
     * log in with their secret only.
     */
    async authenticateCertificate(vehicleId: string): Promise<Result> {
      if (isServiceAccountId(vehicleId)) return { ok: false, reason: 'unknown_certificate' };
      const creds = await deps.vehicles.credentials(vehicleId);
      if (!creds) return { ok: false, reason: 'unknown_certificate' };
      return { ok: true, principal: { kind: 'vehicle', id: vehicleId, customerId: creds.customerId } };
    },
  };
}
