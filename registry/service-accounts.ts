import { isValidVehicleId, TOPIC_KINDS, type TopicKind } from '../protocol/index.ts';
import { PlatformError } from '../core/errors.ts';
import type { RecordsDb } from '../records/db.ts';
import { issueSecret } from './credentials.ts';

/**
 * Service accounts are the platform's own MQTT clients (diagnostics or console workers running in
 * other processes, bridges). Each has a scope (ServiceScope): the topic kinds it may use and the
 * customer units whose vehicles it may reach, enforced by the broker (broker/acl.ts).
 * Their ids share the vehicle id alphabet and are prefixed `svc-` to keep the namespaces apart.
 */
export const SERVICE_ACCOUNT_PREFIX = 'svc-';

/**
 * What a service account may do over MQTT (issue 16). `topics`: the vehicle topic kinds it may use —
 * it subscribes to any of them and publishes only to those the platform publishes (`commands`,
 * `errors`, `telemetry/confirmed`; never a gateway's kind, which would speak for a vehicle).
 * `units`: the customer units whose vehicles it may reach; absent, every unit. A unit-limited
 * account subscribes by exact vehicle topics (no `+`/`#` across vehicles).
 */
export interface ServiceScope {
  units?: string[];
  topics: TopicKind[];
}

/** The scope of an account created without one (and of those created before scopes): read-only, no commands. */
export const DEFAULT_SERVICE_SCOPE: ServiceScope = Object.freeze({
  topics: ['telemetry', 'status', 'events', 'commands/ack'] as TopicKind[],
});

/** Checks a scope as given (CLI, configuration): known topic kinds, unit ids of the id alphabet. */
export function parseServiceScope(value: unknown): ServiceScope {
  const bad = (why: string) => new PlatformError('INVALID_ARGUMENT', `service account scope: ${why}`);
  if (!value || typeof value !== 'object') throw bad('must be an object {units?, topics}');
  const v = value as { units?: unknown; topics?: unknown };
  if (!Array.isArray(v.topics) || v.topics.some((t) => !TOPIC_KINDS.includes(t as TopicKind)))
    throw bad(`topics must be a list of ${TOPIC_KINDS.join(', ')}`);
  const scope: ServiceScope = { topics: [...new Set(v.topics as TopicKind[])] };
  if (v.units !== undefined) {
    if (!Array.isArray(v.units) || v.units.some((u) => typeof u !== 'string' || !isValidVehicleId(u)))
      throw bad('units must be a list of customer unit ids');
    scope.units = [...new Set(v.units as string[])];
  }
  return scope;
}

export interface ServiceAccount {
  id: string;
  description: string;
  scope: ServiceScope;
  createdAt: number;
}

export interface ServiceAccounts {
  add(id: string, description?: string, scope?: ServiceScope): Promise<{ account: ServiceAccount; secret: string }>;
  list(): Promise<ServiceAccount[]>;
  secretHash(id: string): Promise<string | undefined>;
  /** The hash and the scope, read together at CONNECT. */
  credentials(id: string): Promise<{ secretHash: string; scope: ServiceScope } | undefined>;
  rotateSecret(id: string): Promise<{ secret: string }>;
  /** Replaces the account's scope; its live MQTT session is closed (the new scope applies at its next CONNECT). */
  setScope(id: string, scope: ServiceScope): Promise<ServiceScope>;
  remove(id: string): Promise<void>;
}

export function isServiceAccountId(id: string): boolean {
  return id.startsWith(SERVICE_ACCOUNT_PREFIX);
}

const scopeOf = (json: string | null): ServiceScope =>
  json === null ? DEFAULT_SERVICE_SCOPE : parseServiceScope(JSON.parse(json));

export function createServiceAccounts(deps: { db: RecordsDb; now?: () => number }): ServiceAccounts {
  const { db } = deps;
  const now = deps.now ?? Date.now;
  const change = (id: string, kind: 'added' | 'rotated' | 'updated' | 'removed', at: number) =>
    db.insertInto('registry_changes').values({ subject: 'service', subject_id: id, change: kind, at });

  return {
    async add(id, description = '', scope = DEFAULT_SERVICE_SCOPE) {
      const checked = parseServiceScope(scope);
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
          .values({
            id,
            description,
            secret_hash: hash,
            scope: JSON.stringify(checked),
            created_at: at,
            updated_at: at,
          })
          .execute();
        await tx.executeQuery(change(id, 'added', at).compile());
      });
      return { account: { id, description, scope: checked, createdAt: at }, secret };
    },
    async list() {
      const rows = await db
        .selectFrom('service_accounts')
        .select(['id', 'description', 'scope', 'created_at'])
        .orderBy('id')
        .execute();
      return rows.map((r) => ({
        id: r.id,
        description: r.description,
        scope: scopeOf(r.scope),
        createdAt: Number(r.created_at),
      }));
    },
    async secretHash(id) {
      const row = await db.selectFrom('service_accounts').select('secret_hash').where('id', '=', id).executeTakeFirst();
      return row?.secret_hash;
    },
    async credentials(id) {
      const row = await db
        .selectFrom('service_accounts')
        .select(['secret_hash', 'scope'])
        .where('id', '=', id)
        .executeTakeFirst();
      return row && { secretHash: row.secret_hash, scope: scopeOf(row.scope) };
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
    async setScope(id, scope) {
      const checked = parseServiceScope(scope);
      const at = now();
      await db.transaction().execute(async (tx) => {
        const res = await tx
          .updateTable('service_accounts')
          .set({ scope: JSON.stringify(checked), updated_at: at })
          .where('id', '=', id)
          .executeTakeFirst();
        if (Number(res.numUpdatedRows) === 0)
          throw new PlatformError('ACCOUNT_NOT_FOUND', `service account ${id} not found`);
        await tx.executeQuery(change(id, 'updated', at).compile());
      });
      return checked;
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
