import { randomBytes, scrypt as scryptCb, timingSafeEqual, createHash } from 'node:crypto';

/**
 * Secrets are stored only as scrypt hashes in a self-describing string:
 * `scrypt$<log2N>$<r>$<p>$<salt b64url>$<hash b64url>`.
 */
export interface ScryptCost {
  log2N: number;
  r: number;
  p: number;
}

/**
 * Machine secrets (gateways', service accounts') are 256 random bits issued by the platform
 * (`generateSecret`), never chosen by a person: a stolen hash cannot be searched whatever the work
 * factor, so the verifier needs none. A token cost (N = 16: ≈ 50 µs) keeps a platform restart
 * cheap, when every gateway's first login is verified at once; at N = 1024 (until 2026-12-06, ≈ 1.7
 * ms each) 2,000 of them took ≈ 3.5 s of CPU out of a two-core machine's connect storm
 * (docs/benchmarks.md, the simulated fleet). Each hash names its own cost, so secrets stored at
 * another cost verify as before.
 */
export const MACHINE_SECRET_COST: ScryptCost = { log2N: 4, r: 8, p: 1 };
/** Human passwords get the full interactive-login cost. */
export const PASSWORD_COST: ScryptCost = { log2N: 15, r: 8, p: 1 };

const KEY_LEN = 32;

function scrypt(secret: string, salt: Buffer, cost: ScryptCost): Promise<Buffer> {
  const N = 2 ** cost.log2N;
  return new Promise((resolve, reject) => {
    scryptCb(secret, salt, KEY_LEN, { N, r: cost.r, p: cost.p, maxmem: 256 * N * cost.r + 1024 * 1024 }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

export function generateSecret(): string {
  return randomBytes(32).toString('base64url');
}

export async function hashSecret(secret: string, cost: ScryptCost = MACHINE_SECRET_COST): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(secret, salt, cost);
  return ['scrypt', cost.log2N, cost.r, cost.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [, n, r, p, salt, hash] = parts as [string, string, string, string, string, string];
  const cost = { log2N: Number(n), r: Number(r), p: Number(p) };
  if (![cost.log2N, cost.r, cost.p].every((x) => Number.isInteger(x) && x > 0) || cost.log2N > 20) return false;
  const expected = Buffer.from(hash, 'base64url');
  const key = await scrypt(secret, Buffer.from(salt, 'base64url'), cost);
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** A fast fingerprint of a secret already verified against `stored`, for an in-memory verification cache. */
export function secretFingerprint(secret: string, stored: string): string {
  return createHash('sha256').update(stored).update('\0').update(secret).digest('base64url');
}
