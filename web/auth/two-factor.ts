import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import type * as Otplib from 'otplib';
import type QRCodeModule from 'qrcode';
import { PlatformError } from '../../core/errors.ts';
import { lazyModule } from '../../core/lazy-module.ts';
import { inTransaction, type RecordsDb } from '../../records/db.ts';
import type {} from './errors.ts';

/** otplib and qrcode, loaded at the first two-factor enrolment or check (core/lazy-module.ts). */
const otplib = lazyModule<typeof Otplib>('otplib');
const qrcode = lazyModule<typeof QRCodeModule>('qrcode');

/** A TOTP secret of an account: encrypted (AES-256-GCM); confirmed once the user typed a code from it. */
export interface AccountTotpTable {
  account_id: string;
  secret_enc: string;
  created_at: number;
  confirmed_at: number | null;
  /** The last time step a code was accepted for: a code is never accepted twice. */
  last_step: number | null;
}

/** Recovery codes: SHA-256 of each (they are 50 random bits, not passwords), single use. */
export interface RecoveryCodesTable {
  code_hash: string;
  account_id: string;
  created_at: number;
  used_at: number | null;
}

declare module '../../records/schema.ts' {
  interface RecordsSchema {
    account_totp: AccountTotpTable;
    recovery_codes: RecoveryCodesTable;
  }
}

export const TOTP_ISSUER = 'PowerWatch';
export const RECOVERY_CODE_COUNT = 10;
/** A code of the step before or after the current one is accepted too (clock drift, typing time). */
const TOLERANCE_S = 30;

const RECOVERY_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';
/** "xxxxx-xxxxx": 10 characters of a 31-letter alphabet (~50 bits). */
function recoveryCode(): string {
  const bytes = randomBytes(10);
  const chars = [...bytes].map((b) => RECOVERY_ALPHABET[b % RECOVERY_ALPHABET.length]!).join('');
  return `${chars.slice(0, 5)}-${chars.slice(5)}`;
}
const normalizeRecovery = (code: string) => code.toLowerCase().replace(/[^a-z0-9]/g, '');
const hashRecovery = (code: string) =>
  createHash('sha256')
    .update(`pw-recovery:${normalizeRecovery(code)}`)
    .digest('hex');

/** Encrypts TOTP secrets at rest with one 32-byte key (TOTP_SECRET_KEY or `DATA_DIR/totp-secret.key`). */
function sealer(key: Buffer) {
  if (key.length !== 32) throw new Error('the TOTP secret key must be 32 bytes');
  return {
    seal(plain: string): string {
      const iv = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', key, iv);
      const ct = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
      return ['v1', iv.toString('base64url'), c.getAuthTag().toString('base64url'), ct.toString('base64url')].join(':');
    },
    open(sealed: string): string {
      const [v, iv, tag, ct] = sealed.split(':');
      if (v !== 'v1' || !iv || !tag || ct === undefined) throw new Error('unreadable TOTP secret');
      const d = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
      d.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([d.update(Buffer.from(ct, 'base64url')), d.final()]).toString('utf8');
    },
  };
}

export interface Enrolment {
  /** otpauth://totp/… for authenticator apps; shown once. */
  otpauthUri: string;
  /** The same as a QR code: an SVG image as a data: URL. */
  qrDataUrl: string;
}

/**
 * TOTP second factor (RFC 6238: SHA-1, 6 digits, 30 s, ±1 step) and recovery codes for console
 * accounts. The secret is shown once at enrolment (URI and QR code), stored encrypted, and never
 * returned again; a code is accepted once (the step is remembered). Time comes from `now`, so tests
 * compute valid codes with otplib at a clock they control.
 */
export function createTwoFactor(deps: { db: RecordsDb; now: () => number }, options: { secretKey: Buffer }) {
  const { db, now } = deps;
  const box = sealer(options.secretKey);
  const epoch = () => Math.floor(now() / 1000);

  async function row(accountId: string, h: RecordsDb = db) {
    return h.selectFrom('account_totp').selectAll().where('account_id', '=', accountId).executeTakeFirst();
  }

  async function newRecoveryCodes(h: RecordsDb, accountId: string): Promise<string[]> {
    await h.deleteFrom('recovery_codes').where('account_id', '=', accountId).execute();
    const codes = Array.from({ length: RECOVERY_CODE_COUNT }, recoveryCode);
    const at = now();
    await h
      .insertInto('recovery_codes')
      .values(codes.map((c) => ({ code_hash: hashRecovery(c), account_id: accountId, created_at: at, used_at: null })))
      .execute();
    return codes;
  }

  /** Checks a code against a secret, refusing steps at or before `lastStep`; the accepted step or null. */
  async function check(secret: string, code: string, lastStep: number | null): Promise<number | null> {
    if (!/^\d{6}$/.test(code)) return null;
    const at = epoch();
    const r = await otplib().verify({
      secret,
      token: code,
      epoch: at,
      epochTolerance: TOLERANCE_S,
      ...(lastStep !== null ? { afterTimeStep: lastStep } : {}),
    });
    return r.valid ? Math.floor(at / 30) + r.delta : null;
  }

  return {
    async status(accountId: string): Promise<{ enabled: boolean; pending: boolean; recoveryCodesLeft: number }> {
      const r = await row(accountId);
      const left = await db
        .selectFrom('recovery_codes')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('account_id', '=', accountId)
        .where('used_at', 'is', null)
        .executeTakeFirstOrThrow();
      return { enabled: !!r?.confirmed_at, pending: !!r && !r.confirmed_at, recoveryCodesLeft: Number(left.n) };
    },
    /** Starts (or restarts) an enrolment: a new secret, not in force until confirmed with a code. */
    async enrol(accountId: string): Promise<Enrolment> {
      const existing = await row(accountId);
      if (existing?.confirmed_at)
        throw new PlatformError('TWO_FACTOR_STATE', 'two-factor authentication is already on; turn it off first');
      const secret = otplib().generateSecret();
      const sealed = box.seal(secret);
      if (existing)
        await db
          .updateTable('account_totp')
          .set({ secret_enc: sealed, created_at: now(), last_step: null })
          .where('account_id', '=', accountId)
          .execute();
      else
        await db
          .insertInto('account_totp')
          .values({ account_id: accountId, secret_enc: sealed, created_at: now(), confirmed_at: null, last_step: null })
          .execute();
      const otpauthUri = otplib().generateURI({ issuer: TOTP_ISSUER, label: accountId, secret });
      const svg = await qrcode().toString(otpauthUri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
      return { otpauthUri, qrDataUrl: `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}` };
    },
    /** Confirms an enrolment with a code from the app: the second factor is on; returns the recovery codes (once). */
    async confirm(accountId: string, code: string): Promise<string[] | null> {
      return inTransaction(db, async (tx) => {
        const r = await row(accountId, tx);
        if (!r || r.confirmed_at)
          throw new PlatformError(
            'TWO_FACTOR_STATE',
            'no enrolment to confirm: start one (POST /api/auth/two-factor/enrol)',
          );
        const step = await check(box.open(r.secret_enc), code, null);
        if (step === null) return null;
        await tx
          .updateTable('account_totp')
          .set({ confirmed_at: now(), last_step: step })
          .where('account_id', '=', accountId)
          .execute();
        await tx.updateTable('accounts').set({ totp_enabled: 1 }).where('id', '=', accountId).execute();
        return newRecoveryCodes(tx, accountId);
      });
    },
    /** Whether a TOTP code (or, with `recovery`, a recovery code) proves the account's second factor now. Each is accepted once. */
    async verify(
      accountId: string,
      input: { code?: string | undefined; recoveryCode?: string | undefined },
    ): Promise<'code' | 'recovery' | null> {
      const r = await row(accountId);
      if (!r?.confirmed_at) return null;
      if (input.code !== undefined) {
        const step = await check(box.open(r.secret_enc), input.code, r.last_step === null ? null : Number(r.last_step));
        if (step === null) return null;
        // the step moves forward only: two requests with the same code cannot both pass
        const res = await db
          .updateTable('account_totp')
          .set({ last_step: step })
          .where('account_id', '=', accountId)
          .where((eb) => eb.or([eb('last_step', 'is', null), eb('last_step', '<', step)]))
          .executeTakeFirst();
        return Number(res.numUpdatedRows) === 1 ? 'code' : null;
      }
      if (input.recoveryCode !== undefined) {
        const res = await db
          .updateTable('recovery_codes')
          .set({ used_at: now() })
          .where('code_hash', '=', hashRecovery(input.recoveryCode))
          .where('account_id', '=', accountId)
          .where('used_at', 'is', null)
          .executeTakeFirst();
        return Number(res.numUpdatedRows) === 1 ? 'recovery' : null;
      }
      return null;
    },
    async regenerateRecoveryCodes(accountId: string): Promise<string[]> {
      return inTransaction(db, async (tx) => {
        const r = await row(accountId, tx);
        if (!r?.confirmed_at) throw new PlatformError('TWO_FACTOR_STATE', 'two-factor authentication is not on');
        return newRecoveryCodes(tx, accountId);
      });
    },
    /** Turns the second factor off (the user, or an admin for a lost device). False when it was not on. */
    async disable(accountId: string): Promise<boolean> {
      return inTransaction(db, async (tx) => {
        const r = await row(accountId, tx);
        await tx.deleteFrom('account_totp').where('account_id', '=', accountId).execute();
        await tx.deleteFrom('recovery_codes').where('account_id', '=', accountId).execute();
        await tx.updateTable('accounts').set({ totp_enabled: 0 }).where('id', '=', accountId).execute();
        return !!r?.confirmed_at;
      });
    },
  };
}

export type TwoFactor = ReturnType<typeof createTwoFactor>;
