import type { Kysely, Migration } from 'kysely';

/**
 * Cluster mode (docs/architecture.md, "One owner per vehicle"): `vehicle_owners` is the lease of the
 * node that evaluates a vehicle's diagnostics rules — which node (`node`, and `life`: one run of that
 * node, so a restarted node does not mistake its previous run's leases for its own), until when
 * (`expires_at`, renewed by the owner's heartbeat) and the fencing `token`, raised by one on every
 * takeover and compared in the same transaction as each alarm write. `vehicle_presence.node` is the
 * node the vehicle's current connection is on: a node's late disconnect of a vehicle that has since
 * connected to another node changes nothing, and a restarted node marks offline only its own.
 */
export function vehicleOwnersMigration(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('vehicle_owners')
        .addColumn('vehicle_id', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('node', 'varchar(63)', (c) => c.notNull())
        .addColumn('life', 'varchar(32)', (c) => c.notNull())
        .addColumn('token', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('vehicle_owners_node').on('vehicle_owners').columns(['node', 'life']).execute();
      await db.schema.createIndex('vehicle_owners_expiry').on('vehicle_owners').column('expires_at').execute();
      await db.schema.alterTable('vehicle_presence').addColumn('node', 'varchar(63)').execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.alterTable('vehicle_presence').dropColumn('node').execute();
      await db.schema.dropTable('vehicle_owners').execute();
    },
  };
}
