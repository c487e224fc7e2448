import type { RecordsDb } from '../records/db.ts';
import type { Customers } from '../registry/customers.ts';
import { createAccounts, generatePassword, type Role } from '../web/auth/accounts.ts';

/** The demo's customer units (the units that operate the vehicles). */
export const DEMO_CUSTOMERS = [
  { id: 'NORTH-GRID', name: 'Northern Grid Emergency Unit · 北方电网应急分队' },
  { id: 'CITY-COMMS', name: 'City Emergency Communications Unit · 市应急通信保障队' },
  { id: 'FIELD-MED', name: 'Field Medical Support Brigade · 野战医疗保障大队' },
];

export interface DemoAccount {
  id: string;
  name: string;
  role: Role;
  customerId: string | null;
  password: string;
}

const STAFF: { id: string; name: string; role: Role }[] = [
  { id: 'admin', name: 'Zhou Ping 周平', role: 'admin' },
  { id: 'dispatcher', name: 'Li Na 李娜', role: 'dispatcher' },
  { id: 'engineer', name: 'Wang Qiang 王强', role: 'engineer' },
  { id: 'supply', name: 'Chen Jie 陈杰', role: 'supply' },
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
    const existing = await accounts.get(w.id);
    // a data directory of an older demo keeps its units (its vehicles belong to them)
    const customerId = existing?.role === 'customer' && existing.customerId ? existing.customerId : w.customerId;
    if (existing) {
      await accounts.update(w.id, { name: w.name, role: w.role, customerId, disabled: false });
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
    out.push({ ...w, customerId, password });
  }
  return out;
}
