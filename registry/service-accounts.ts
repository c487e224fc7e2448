import { isValidVehicleId } from '../protocol/index.ts';
import { PlatformError } from '../core/errors.ts';
import type { RecordsDb } from '../records/db.ts';
import { issueSecret } from './credentials.ts';

/**
 * Service accounts are the platform's own MQTT clients (diagnostics or console workers running in
 * other processes, bridges). They may publish commands and subscribe across vehicles.
 * Their ids share the vehicle id alphabet and are prefixed `svc-` to keep the namespaces apart.
 */
export const SERVICE_ACCOUNT_PREFIX = 'svc-';

export interface ServiceAccount {
  id: string;
  description: string;
  createdAt: number;
}

export interface ServiceAccounts {
  add(id: string, description?: string): Promise<{ account: ServiceAccount; secret: string }>;
  list(): Promise<ServiceAccount[]>;
  secretHash(id: string): Promise<string | undefined>;
  rotateSecret(id: string): Promise<{ secret: string }>;
  remove(id: string): Promise<void>;
}

export function isServiceAccountId(id: string): boolean {
  return id.startsWith(SERVICE_ACCOUNT_PREFIX);
}

export function createServiceAccounts(deps: { db: RecordsDb; now?: () => number }): ServiceAccounts {
  const { db } = deps;
  const now = deps.now ?? Date.now;
  const change = (id: string, kind: 'added' | 'rotated' | 'removed', at: number) =>
    db.insertInto('registry_changes').values({ subject: 'service', subject_id: id, change: kind, at });

  return {
    async add(id, description = '') {
      if (!isServiceAccountId(id) || !isValidVehicleId(id)) {
        throw new PlatformError(
          'INVALID_ARGUMENT',
          `service account id "${id}" must start with "${SERVICE_ACCOUNT_PREFIX}" and use A-Z a-z 0-9 _ - (at most 64)`,
        );
      }
      const { secret, hash } = await issueSecret();
      const at = now();
      await db.transaction().execute(async (tx) => {
        const existing = await tx.selectFrom('service_accounts').select('id').where('id', '=', id).executeTakeFirst();
        if (existing) throw new PlatformError('ACCOUNT_EXISTS', `service account ${id} already exists`);
        await tx
          .insertInto('service_accounts')
          .values({ id, description, secret_hash: hash, created_at: at, updated_at: at })
          .execute();
        await tx.executeQuery(change(id, 'added', at).compile());
      });
      return { account: { id, description, createdAt: at }, secret };
    },
    async list() {
      const rows = await db
        .selectFrom('service_accounts')
        .select(['id', 'description', 'created_at'])
        .orderBy('id')
        .execute();
      return rows.map((r) => ({ id: r.id, description: r.description, createdAt: Number(r.created_at) }));
    },
    async secretHash(id) {
      const row = await db.selectFrom('service_accounts').select('secret_hash').where('id', '=', id).executeTakeFirst();
      return row?.secret_hash;
    },
    async rotateSecret(id) {
      const { secret, hash } = await issueSecret();
      const at = now();
      await db.transaction().execute(async (tx) => {
        const res = await tx
          .updateTable('service_accounts')
          .set({ secret_hash: hash, updated_at: at })
          .where('id', '=', id)
          .executeTakeFirst();
        if (Number(res.numUpdatedRows) === 0)
          throw new PlatformError('ACCOUNT_NOT_FOUND', `service account ${id} not found`);
        await tx.executeQuery(change(id, 'rotated', at).compile());
      });
      return { secret };
    },
    async remove(id) {
      const at = now();
      await db.transaction().execute(async (tx) => {
        const res = await tx.deleteFrom('service_accounts').where('id', '=', id).executeTakeFirst();
        if (Number(res.numDeletedRows) === 0)
          throw new PlatformError('ACCOUNT_NOT_FOUND', `service account ${id} not found`);
        await tx.executeQuery(change(id, 'removed', at).compile());
      });
    },
  };
}
