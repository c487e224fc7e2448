import type { RecordsDb } from '../records/db.ts';
import type { Customers } from '../registry/customers.ts';
import { createAccounts, generatePassword, type Role } from '../web/auth/accounts.ts';

/** The demo's customer units (the units that operate the vehicles). */
export const DEMO_CUSTOMERS = [
  { id: 'CUST1', name: 'City Emergency Communications Unit' },
  { id: 'CUST2', name: 'Provincial Power Rescue Team' },
  { id: 'CUST3', name: 'Field Medical Support Brigade' },
];

export interface DemoAccount {
  id: string;
  name: string;
  role: Role;
  customerId: string | null;
  password: string;
}

const STAFF: { id: string; name: string; role: Role }[] = [
  { id: 'admin', name: 'Administrator', role: 'admin' },
  { id: 'dispatcher', name: 'Duty desk (market department)', role: 'dispatcher' },
  { id: 'engineer', name: 'Support engineer (technical centre)', role: 'engineer' },
  { id: 'supply', name: 'Supply chain (spare-parts store)', role: 'supply' },
];

/**
 * Demo only: the customer units and one console account per role (a customer account per unit),
 * each with a fresh random password on every start, returned for printing. Runs before the
 * platform starts, so the first-start admin bootstrap finds an admin and stays quiet.
 */
export async function seedDemoAccounts(deps: { records: RecordsDb; customers: Customers }): Promise<DemoAccount[]> {
  for (const c of DEMO_CUSTOMERS) if (!(await deps.customers.get(c.id))) await deps.customers.add(c);
  const accounts = createAccounts({ db: deps.records });
  const wanted = [
    ...STAFF.map((s) => ({ ...s, customerId: null as string | null })),
    ...DEMO_CUSTOMERS.map((c, i) => ({
      id: `customer${i + 1}`,
      name: c.name,
      role: 'customer' as Role,
      customerId: c.id as string | null,
    })),
  ];
  const out: DemoAccount[] = [];
  for (const w of wanted) {
    const password = generatePassword();
    if (await accounts.get(w.id)) {
      await accounts.update(w.id, { name: w.name, role: w.role, customerId: w.customerId, disabled: false });
      await accounts.setPassword(w.id, password, false);
    } else {
      await accounts.add({
        id: w.id,
        name: w.name,
        role: w.role,
        customerId: w.customerId,
        password,
        mustChangePassword: false,
      });
    }
    out.push({ ...w, password });
  }
  return out;
}
