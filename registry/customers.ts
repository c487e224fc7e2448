import { PlatformError } from '../core/errors.ts';
import { isValidVehicleId } from '../protocol/index.ts';
import type { RecordsDb } from '../records/db.ts';

/** A customer unit (用户单位): operates vehicles; its people see only its own vehicles and tickets. */
export interface Customer {
  id: string;
  name: string;
  createdAt: number;
  vehicleCount: number;
}

export function createCustomers(deps: { db: RecordsDb; now?: () => number }) {
  const { db } = deps;
  const now = deps.now ?? Date.now;

  async function list(): Promise<Customer[]> {
    const rows = await db
      .selectFrom('customers')
      .leftJoin('vehicles', 'vehicles.customer_id', 'customers.id')
      .select((eb) => [
        'customers.id',
        'customers.name',
        'customers.created_at',
        eb.fn.count<number>('vehicles.id').as('vehicles'),
      ])
      .groupBy(['customers.id', 'customers.name', 'customers.created_at'])
      .orderBy('customers.id')
      .execute();
    return rows.map((r) => ({
      id: r.id,
      name: r.name,
      createdAt: Number(r.created_at),
      vehicleCount: Number(r.vehicles),
    }));
  }

  async function get(id: string): Promise<Customer | undefined> {
    const row = await db.selectFrom('customers').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) return undefined;
    const count = await db
      .selectFrom('vehicles')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('customer_id', '=', id)
      .executeTakeFirstOrThrow();
    return { id: row.id, name: row.name, createdAt: Number(row.created_at), vehicleCount: Number(count.n) };
  }

  return {
    list,
    get,
    async add(input: { id: string; name: string }): Promise<Customer> {
      if (!isValidVehicleId(input.id))
        throw new PlatformError(
          'INVALID_ARGUMENT',
          `customer id "${input.id}" must be 1–64 characters of A-Z a-z 0-9 _ -`,
        );
      const at = now();
      const res = await db
        .insertInto('customers')
        .values({ id: input.id, name: input.name, created_at: at })
        .onConflict((oc) => oc.column('id').doNothing())
        .executeTakeFirst();
      if (Number(res.numInsertedOrUpdatedRows ?? 0) === 0)
        throw new PlatformError('CUSTOMER_EXISTS', `customer ${input.id} already exists`);
      return { id: input.id, name: input.name, createdAt: at, vehicleCount: 0 };
    },
    async rename(id: string, name: string): Promise<Customer> {
      const res = await db.updateTable('customers').set({ name }).where('id', '=', id).executeTakeFirst();
      if (Number(res.numUpdatedRows) === 0) throw new PlatformError('CUSTOMER_NOT_FOUND', `customer ${id} not found`);
      return (await get(id))!;
    },
  };
}

export type Customers = ReturnType<typeof createCustomers>;
