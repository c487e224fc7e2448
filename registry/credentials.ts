import { generateSecret, hashSecret, secretFingerprint, verifySecret } from '../core/secrets.ts';

/** Issues a new secret and the only thing ever stored of it, its scrypt hash. */
export async function issueSecret(): Promise<{ secret: string; hash: string }> {
  const secret = generateSecret();
  return { secret, hash: await hashSecret(secret) };
}

/**
 * Verifies secrets against stored scrypt hashes, remembering a fast fingerprint of each secret
 * that verified so that reconnect storms do not redo scrypt. A rotated secret has a new stored
 * hash, so its old fingerprint no longer matches. With `cachedOnly` (a throttled source) only
 * that fingerprint is checked: a secret not verified before is refused without computing scrypt.
 */
export function createSecretVerifier(maxEntries = 200_000) {
  const verified = new Map<string, string>();
  return async function verify(
    id: string,
    secret: string,
    storedHash: string,
    options: { cachedOnly?: boolean } = {},
  ): Promise<boolean> {
    const fingerprint = secretFingerprint(secret, storedHash);
    if (verified.get(id) === fingerprint) return true;
    if (options.cachedOnly) return false;
    const ok = await verifySecret(secret, storedHash);
    if (ok) {
      if (verified.size >= maxEntries) verified.delete(verified.keys().next().value as string);
      verified.set(id, fingerprint);
    }
    return ok;
  };
}
