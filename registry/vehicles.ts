import { powerProfileSchema, isValidVehicleId, type PowerProfile } from '../protocol/index.ts';
import { isServiceAccountId, SERVICE_ACCOUNT_PREFIX } from './service-accounts.ts';
import { PlatformError } from '../core/errors.ts';
import type { RecordsDb } from '../records/db.ts';
import { issueSecret } from './credentials.ts';

export interface Vehicle {
  id: string;
  name: string;
  model: string;
  customerId: string;
  profile: PowerProfile;
  createdAt: number;
  updatedAt: number;
  /**
   * When the vehicle came to its current unit (added, or transferred from another): a customer sees
   * its telemetry only from then on (an id reused for another unit does not bring the old history).
   */
  assignedAt: number;
}

export interface NewVehicle {
  id: string;
  customerId: string;
  name?: string;
  model?: string;
  profile?: Partial<PowerProfile>;
}

export interface VehicleCredentials {
  id: string;
  customerId: string;
  secretHash: string;
}

export interface VehicleRegistry {
  add(input: NewVehicle): Promise<{ vehicle: Vehicle; secret: string }>;
  get(id: string): Promise<Vehicle | undefined>;
  list(filter?: { customerId?: string }): Promise<Vehicle[]>;
  /** Every vehicle's id, in `list`'s order (from the list kept in memory if there is one; it does not keep one). */
  ids(): Promise<string[]>;
  credentials(id: string): Promise<VehicleCredentials | undefined>;
  rotateSecret(id: string): Promise<{ secret: string }>;
  remove(id: string): Promise<void>;
  /**
   * Moves the vehicle to another unit from now on. What was recorded before (telemetry, alarms,
   * incidents, tickets, open or not) stays with the old unit; the new unit starts clean.
   */
  transfer(id: string, customerId: string): Promise<{ vehicle: Vehicle; from: string }>;
  /**
   * Drops the registry `list` keeps in memory, so that the next list reads the database again: for a
   * change made by another process (the provisioning CLI, another node of a cluster), which the
   * `registry_changes` watcher reports (registry/changes.ts). This registry's own changes do it
   * themselves when they commit.
   */
  forget(): void;
}

type Row = {
  id: string;
  name: string;
  model: string;
  customer_id: string;
  profile: string;
  created_at: number;
  updated_at: number;
  assigned_at: number | null;
};

/** Distinct stored profiles kept parsed (a fleet has a few; beyond this the oldest is forgotten). */
const PARSED_PROFILES_MAX = 256;
const parsedProfiles = new Map<string, PowerProfile>();

/**
 * A stored power profile, parsed (JSON and zod) once per distinct text: the fleet list read every
 * vehicle's through zod on each request (2,000 parses, the largest part of its registry read). The
 * parsed value is shared by the vehicles with the same text, so it is frozen.
 */
function parseProfile(text: string): PowerProfile {
  let profile = parsedProfiles.get(text);
  if (!profile) {
    profile = deepFreeze(powerProfileSchema.parse(JSON.parse(text)));
    if (parsedProfiles.size >= PARSED_PROFILES_MAX) parsedProfiles.delete(parsedProfiles.keys().next().value!);
    parsedProfiles.set(text, profile);
  }
  return profile;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

function toVehicle(row: Row): Vehicle {
  return {
    id: row.id,
    name: row.name,
    model: row.model,
    customerId: row.customer_id,
    profile: parseProfile(row.profile),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
    assignedAt: Number(row.assigned_at ?? row.created_at),
  };
}

const COLUMNS = ['id', 'name', 'model', 'customer_id', 'profile', 'created_at', 'updated_at', 'assigned_at'] as const;

export function createVehicleRegistry(deps: { db: RecordsDb; now?: () => number }): VehicleRegistry {
  const { db } = deps;
  const now = deps.now ?? Date.now;

  const requireCustomerId = (customerId: string) => {
    if (!isValidVehicleId(customerId)) {
      throw new PlatformError(
        'INVALID_ARGUMENT',
        `customer id "${customerId}" must be 1–64 characters of A-Z a-z 0-9 _ -`,
      );
    }
  };

  const requireId = (id: string) => {
    if (!isValidVehicleId(id)) {
      throw new PlatformError('VEHICLE_ID_INVALID', `vehicle id "${id}" must be 1–64 characters of A-Z a-z 0-9 _ -`);
    }
  };

  // The whole registry, read once and kept (frozen, in the database's id order) until a change: the
  // fleet list (GET /api/vehicles, each console on each load) read and converted every row on each
  // request, ≈ a quarter of its server time at 2,000 vehicles (docs/benchmarks.md). `get` and
  // `credentials` still read the row: a vehicle just provisioned elsewhere can log in at once.
  let all: Promise<readonly Vehicle[]> | undefined;
  function readAll(): Promise<readonly Vehicle[]> {
    const reading = db
      .selectFrom('vehicles')
      .select(COLUMNS)
      .orderBy('id')
      .execute()
      .then((rows) => rows.map((row) => Object.freeze(toVehicle(row))));
    all = reading;
    // a failed read is not kept: the next list tries again
    reading.catch(() => {
      if (all === reading) all = undefined;
    });
    return reading;
  }
  /** After a committed change: a list from now on reads it (one already reading keeps what it read). */
  const forget = () => {
    all = undefined;
  };

  return {
    forget,

    async add(input) {
      requireId(input.id);
      if (isServiceAccountId(input.id)) {
        // the MQTT login reads an svc- id as a service account: such a vehicle could never connect,
        // and topics under its id would look like a service's
        throw new PlatformError(
          'VEHICLE_ID_RESERVED',
          `vehicle id "${input.id}" starts with ${SERVICE_ACCOUNT_PREFIX}, which is reserved for service accounts`,
        );
      }
      requireCustomerId(input.customerId);
      const parsed = powerProfileSchema.safeParse(input.profile ?? {});
      if (!parsed.success) {
        throw new PlatformError(
          'INVALID_ARGUMENT',
          `power profile: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
        );
      }
      const { secret, hash } = await issueSecret();
      const at = now();
      const row = {
        id: input.id,
        name: input.name ?? input.id,
        model: input.model ?? 'unspecified',
        customer_id: input.customerId,
        profile: JSON.stringify(parsed.data),
        secret_hash: hash,
        created_at: at,
        updated_at: at,
        assigned_at: at,
      };
      await db.transaction().execute(async (tx) => {
        const existing = await tx.selectFrom('vehicles').select('id').where('id', '=', input.id).executeTakeFirst();
        if (existing) throw new PlatformError('VEHICLE_EXISTS', `vehicle ${input.id} already exists`);
        await tx
          .insertInto('customers')
          .values({ id: input.customerId, name: input.customerId, created_at: at })
          .onConflict((oc) => oc.column('id').doNothing())
          .execute();
        await tx.insertInto('vehicles').values(row).execute();
        await tx
          .insertInto('registry_changes')
          .values({ subject: 'vehicle', subject_id: input.id, change: 'added', at })
          .execute();
      });
      forget();
      return { vehicle: toVehicle(row), secret };
    },

    async get(id) {
      const row = await db.selectFrom('vehicles').select(COLUMNS).where('id', '=', id).executeTakeFirst();
      return row ? toVehicle(row) : undefined;
    },

    async list(filter) {
      const vehicles = await (all ?? readAll());
      const unit = filter?.customerId;
      return unit ? vehicles.filter((v) => v.customerId === unit) : vehicles.slice();
    },

    async ids() {
      if (all) return (await all).map((v) => v.id);
      return (await db.selectFrom('vehicles').select('id').orderBy('id').execute()).map((r) => r.id);
    },

    async credentials(id) {
      const row = await db
        .selectFrom('vehicles')
        .select(['id', 'customer_id', 'secret_hash'])
        .where('id', '=', id)
        .executeTakeFirst();
      return row ? { id: row.id, customerId: row.customer_id, secretHash: row.secret_hash } : undefined;
    },

    async rotateSecret(id) {
      const { secret, hash } = await issueSecret();
      const at = now();
      await db.transaction().execute(async (tx) => {
        const res = await tx
          .updateTable('vehicles')
          .set({ secret_hash: hash, updated_at: at })
          .where('id', '=', id)
          .executeTakeFirst();
        if (Number(res.numUpdatedRows) === 0) throw new PlatformError('VEHICLE_NOT_FOUND', `vehicle ${id} not found`);
        await tx
          .insertInto('registry_changes')
          .values({ subject: 'vehicle', subject_id: id, change: 'rotated', at })
          .execute();
      });
      forget(); // updatedAt
      return { secret };
    },

    async transfer(id, customerId) {
      requireCustomerId(customerId);
      const at = now();
      const moved = await db.transaction().execute(async (tx) => {
        const before = await tx.selectFrom('vehicles').select(COLUMNS).where('id', '=', id).executeTakeFirst();
        if (!before) throw new PlatformError('VEHICLE_NOT_FOUND', `vehicle ${id} not found`);
        if (before.customer_id === customerId)
          throw new PlatformError('INVALID_ARGUMENT', `vehicle ${id} already belongs to ${customerId}`);
        await tx
          .insertInto('customers')
          .values({ id: customerId, name: customerId, created_at: at })
          .onConflict((oc) => oc.column('id').doNothing())
          .execute();
        // a transfer within the same millisecond as the last assignment still starts strictly after it
        const assignedAt = Math.max(at, Number(before.assigned_at ?? before.created_at) + 1);
        await tx
          .updateTable('vehicles')
          .set({ customer_id: customerId, assigned_at: assignedAt, updated_at: at })
          .where('id', '=', id)
          .execute();
        await tx
          .insertInto('registry_changes')
          .values({ subject: 'vehicle', subject_id: id, change: 'updated', at })
          .execute();
        return {
          vehicle: toVehicle({ ...before, customer_id: customerId, assigned_at: assignedAt, updated_at: at }),
          from: before.customer_id,
        };
      });
      forget();
      return moved;
    },

    async remove(id) {
      const at = now();
      await db.transaction().execute(async (tx) => {
        const res = await tx.deleteFrom('vehicles').where('id', '=', id).executeTakeFirst();
        if (Number(res.numDeletedRows) === 0) throw new PlatformError('VEHICLE_NOT_FOUND', `vehicle ${id} not found`);
        await tx.deleteFrom('vehicle_presence').where('vehicle_id', '=', id).execute();
        await tx
          .insertInto('registry_changes')
          .values({ subject: 'vehicle', subject_id: id, change: 'removed', at })
          .execute();
      });
      forget();
    },
  };
}
