import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { PlatformError } from '../core/errors.ts';
import type { PlatformConfig } from './config.ts';
import { totpKeyFile } from './data-files.ts';

/**
 * The key TOTP secrets are encrypted with: TOTP_SECRET_KEY when set, else `DATA_DIR/totp-secret.key`
 * (32 random bytes written at first start, mode 0600). Losing the key turns every enrolled second
 * factor off in effect: admins then reset them (DELETE /api/admin/accounts/:id/two-factor).
 */
export function loadTotpKey(config: Pick<PlatformConfig, 'TOTP_SECRET_KEY' | 'dataDir'>): Buffer {
  if (config.TOTP_SECRET_KEY) {
    const v = config.TOTP_SECRET_KEY;
    return /^[0-9a-fA-F]{64}$/.test(v) ? Buffer.from(v, 'hex') : Buffer.from(v, 'base64url');
  }
  const file = totpKeyFile(config.dataDir);
  try {
    const key = readFileSync(file);
    if (key.length !== 32) throw new PlatformError('CONFIG_INVALID', `${file} must hold exactly 32 bytes`);
    return key;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const key = randomBytes(32);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, key, { mode: 0o600, flag: 'wx' });
  return key;
}
