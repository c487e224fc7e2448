import type { Logger } from '../../core/logger.ts';
import { generatePassword, type Accounts } from './accounts.ts';
import type { AuditLog } from './audit.ts';

export const SETUP_ACCOUNT = 'admin';

/**
 * First start: when no enabled admin exists, creates (or re-enables) the `admin` account with a
 * one-time setup password and prints it once, at warn level. The password must be changed at the
 * first login; once an admin exists this prints nothing ever again.
 */
export async function bootstrapAdmin(deps: {
  accounts: Accounts;
  audit: AuditLog;
  log: Logger;
}): Promise<{ created: boolean }> {
  if (await deps.accounts.hasEnabledAdmin()) return { created: false };
  const password = generatePassword();
  const existing = await deps.accounts.get(SETUP_ACCOUNT);
  if (existing) {
    await deps.accounts.update(SETUP_ACCOUNT, { role: 'admin', customerId: null, disabled: false });
    await deps.accounts.setPassword(SETUP_ACCOUNT, password, true);
  } else {
    await deps.accounts.add({
      id: SETUP_ACCOUNT,
      name: 'Administrator',
      role: 'admin',
      password,
      mustChangePassword: true,
    });
  }
  await deps.audit.record({ actor: 'system', action: 'account.setup_admin', subject: `account:${SETUP_ACCOUNT}` });
  // The one place a password reaches the log, on purpose: there is no other way to hand it over.
  deps.log.warn(
    `no admin account: created "${SETUP_ACCOUNT}" with the one-time setup password ${password} — log in to the console and set your own password now; this is shown only once`,
  );
  return { created: true };
}
