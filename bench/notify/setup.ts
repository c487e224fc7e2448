import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createContacts } from '../../notifications/contacts.ts';
import { recordsFile } from '../../platform/data-files.ts';
import { openSqliteRecords } from '../../records/db.ts';
import { createCustomers } from '../../registry/customers.ts';
import { createAccounts, generatePassword } from '../../web/auth/accounts.ts';
import { SMTP_PASSWORD, SMTP_USER } from './receivers.ts';

export const unitId = (u: number) => `U${u + 1}`;
export const hookId = (u: number) => `hook-${unitId(u)}`;
/** At least 16 characters, as the channels file asks; the bench does not verify signatures (it measures time). */
const HOOK_SECRET = 'bench-notify-hook-secret-2026';

/**
 * The customer units and their contacts, written into a fresh data dir's records.db before the
 * platform starts through the real modules: `units` units, each with `contacts` contacts on email
 * (their own address) and on the unit's webhook endpoint, no subscriptions (everything of the unit)
 * and no quiet hours; plus a dispatcher account that opens the tickets through the API.
 */
export async function seedUnits(dataDir: string, units: number, contacts: number) {
  const db = await openSqliteRecords({ file: recordsFile(dataDir) });
  try {
    const customers = createCustomers({ db });
    const book = createContacts({ db, now: Date.now }, { timeZone: 'Asia/Shanghai' });
    for (let u = 0; u < units; u++) {
      if (!(await customers.get(unitId(u)).catch(() => undefined)))
        await customers.add({ id: unitId(u), name: `Bench unit ${u + 1}` });
      for (let c = 0; c < contacts; c++)
        await book.addToCustomer(unitId(u), {
          name: `Contact ${c + 1} of unit ${u + 1}`,
          language: c % 2 ? 'en' : 'zh',
          channels: [
            { channel: 'email', target: `c${c + 1}@${unitId(u).toLowerCase()}.bench.example` },
            { channel: 'webhook', target: hookId(u) },
          ],
        });
    }
    const desk = { username: 'bench-desk', password: generatePassword() };
    const accounts = createAccounts({ db });
    await accounts.add({ id: 'bench-admin', name: 'Bench admin', role: 'admin', password: generatePassword() });
    await accounts.add({ id: desk.username, name: 'Bench desk', role: 'dispatcher', password: desk.password });
    return desk;
  } finally {
    await db.destroy();
  }
}

/** The deployment's channels file: the local SMTP server (STARTTLS, login) and one webhook endpoint per unit. */
export function writeChannelsFile(dir: string, smtpPort: number, hookUrl: string, units: number): string {
  const file = join(dir, 'channels.yaml');
  const lines = [
    'smtp:',
    '  host: 127.0.0.1',
    `  port: ${smtpPort}`,
    '  security: starttls',
    `  user: ${SMTP_USER}`,
    `  password: ${SMTP_PASSWORD}`,
    '  from: "PowerWatch bench <noreply@bench.example>"',
    '  rejectUnauthorized: false # the local server’s self-signed certificate',
    'webhooks:',
  ];
  for (let u = 0; u < units; u++)
    lines.push(
      `  - id: ${hookId(u)}`,
      `    url: ${hookUrl}/${unitId(u)}`,
      `    secret: ${HOOK_SECRET}`,
      `    customerId: ${unitId(u)}`,
    );
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}
