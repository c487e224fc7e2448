import { sql, type Kysely, type Migration } from 'kysely';

/**
 * Vehicle ids reused across units (issue 16, item 5): a vehicle id removed from one unit and added
 * again for another showed the new unit the old unit's telemetry, alarms and notes, and the new
 * unit's alarms joined the old unit's open incident. Now every alarm and incident carries the unit
 * it belonged to when it was raised (`customer_id`), and the vehicle carries when it came to its
 * current unit (`assigned_at`: added or transferred); a customer sees the vehicle's telemetry only
 * from then on, and only the alarms and incidents of its own unit.
 *
 * The one-active-alarm index becomes one per (vehicle, unit, rule). Existing rows: alarms and incidents of a registered vehicle are stamped with its current unit;
 * those of vehicles removed before keep null (staff see them, no customer does). A vehicle's
 * `assigned_at` starts as its `created_at`.
 */
export function vehicleUnitsMigration(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('vehicles').addColumn('assigned_at', 'bigint').execute();
      await sql`update vehicles set assigned_at = created_at`.execute(db);
      await db.schema.alterTable('alarms').addColumn('customer_id', 'varchar(64)').execute();
      await db.schema.alterTable('incidents').addColumn('customer_id', 'varchar(64)').execute();
      for (const table of ['alarms', 'incidents'])
        await sql`update ${sql.table(table)} set customer_id = (
            select v.customer_id from vehicles v where v.id = ${sql.ref(`${table}.vehicle_id`)}
          )`.execute(db);
      // one active alarm per (vehicle, unit, rule): the previous unit's alarm left active does not
      // stand in for the new unit's (null units — removed before this migration — are not constrained)
      await db.schema.dropIndex('alarms_one_active').execute();
      await db.schema
        .createIndex('alarms_one_active')
        .on('alarms')
        .columns(['vehicle_id', 'customer_id', 'rule_id'])
        .unique()
        .where(sql.ref('state'), '<>', 'cleared')
        .execute();
      await db.schema
        .createIndex('alarms_customer_raised')
        .on('alarms')
        .columns(['customer_id', 'raised_at'])
        .execute();
      await db.schema
        .createIndex('incidents_vehicle_customer_state')
        .on('incidents')
        .columns(['vehicle_id', 'customer_id', 'state'])
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropIndex('incidents_vehicle_customer_state').execute();
      await db.schema.dropIndex('alarms_customer_raised').execute();
      await db.schema.dropIndex('alarms_one_active').execute();
      await db.schema
        .createIndex('alarms_one_active')
        .on('alarms')
        .columns(['vehicle_id', 'rule_id'])
        .unique()
        .where(sql.ref('state'), '<>', 'cleared')
        .execute();
      await db.schema.alterTable('incidents').dropColumn('customer_id').execute();
      await db.schema.alterTable('alarms').dropColumn('customer_id').execute();
      await db.schema.alterTable('vehicles').dropColumn('assigned_at').execute();
    },
  };
}
