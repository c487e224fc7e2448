import { createHash, randomBytes } from 'node:crypto';

/**
 * The second step of a login with a second factor: the password step hands out a challenge (256
 * random bits, 5 minutes, kept in memory as its SHA-256), the code step redeems it. No session and
 * no cookie exist before the code is proven, so nothing can act half logged in. A challenge takes
 * at most `maxAttempts` codes; the login throttle counts each wrong code like a wrong password.
 */
export function createLoginChallenges(
  now: () => number,
  options: { ttlMs?: number; maxAttempts?: number; maxEntries?: number } = {},
) {
  const ttlMs = options.ttlMs ?? 5 * 60_000;
  const maxAttempts = options.maxAttempts ?? 5;
  const maxEntries = options.maxEntries ?? 10_000;
  const open = new Map<string, { accountId: string; expiresAt: number; attempts: number }>();
  const key = (challenge: string) => createHash('sha256').update(challenge).digest('hex');

  function prune(): void {
    const at = now();
    for (const [k, c] of open) if (c.expiresAt <= at) open.delete(k);
    while (open.size >= maxEntries) open.delete(open.keys().next().value!);
  }

  return {
    issue(accountId: string): { challenge: string; expiresAt: number } {
      prune();
      const challenge = randomBytes(32).toString('base64url');
      const expiresAt = now() + ttlMs;
      open.set(key(challenge), { accountId, expiresAt, attempts: 0 });
      return { challenge, expiresAt };
    },
    /** The account a live challenge belongs to, without counting an attempt. */
    peek(challenge: string): string | undefined {
      const c = open.get(key(challenge));
      return c && c.expiresAt > now() ? c.accountId : undefined;
    },
    /** The account a live challenge belongs to (counting this attempt), or undefined. */
    attempt(challenge: string): string | undefined {
      const k = key(challenge);
      const c = open.get(k);
      if (!c || c.expiresAt <= now()) {
        open.delete(k);
        return undefined;
      }
      c.attempts += 1;
      if (c.attempts > maxAttempts) {
        open.delete(k);
        return undefined;
      }
      return c.accountId;
    },
    /** The challenge is used up (the login succeeded). */
    redeem(challenge: string): void {
      open.delete(key(challenge));
    },
    size: () => open.size,
  };
}

export type LoginChallenges = ReturnType<typeof createLoginChallenges>;
