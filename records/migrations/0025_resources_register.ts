import type { Kysely, Migration } from 'kysely';
import { idColumn, type RecordsDialect } from '../migrations.ts';

/**
 * The resource register behind a response (issue 14 items 6–9; docs/resources-register.md): the
 * tools and equipment register (工具设备台账) with check-outs to a ticket's team; suppliers
 * (供应商管理) with evaluations, quality records of faults attributed to a supplier's part and
 * quality feedback (质量信息反馈) with its answer; partner repair shops and towing companies
 * (修理厂/拖车公司) and their dispatches onto tickets; people with skills, qualifications and
 * availability. Lists (regions, capabilities, contacts) are JSON text. The stock ledger
 * (resources/stock/) refers to a supplier by its text id (`suppliers.id`).
 */
export function resourcesRegisterMigration(dialect: RecordsDialect): Migration {
  const id = (t: ReturnType<Kysely<unknown>['schema']['createTable']>) =>
    t.addColumn('id', idColumn(dialect), (c) =>
      c.primaryKey().$call((b) => (dialect === 'sqlite' ? b.autoIncrement() : b)),
    );
  return {
    async up(db: Kysely<unknown>) {
      await id(db.schema.createTable('tools'))
        .addColumn('code', 'varchar(64)', (c) => c.notNull().unique())
        .addColumn('name', 'varchar(200)', (c) => c.notNull())
        .addColumn('name_zh', 'varchar(200)')
        .addColumn('kind', 'varchar(32)', (c) => c.notNull())
        .addColumn('location', 'varchar(200)', (c) => c.notNull())
        .addColumn('keeper', 'varchar(100)')
        .addColumn('status', 'varchar(16)', (c) => c.notNull())
        .addColumn('calibration_due_at', 'bigint')
        .addColumn('maintenance_due_at', 'bigint')
        .addColumn('notes', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await id(db.schema.createTable('tool_checkouts'))
        .addColumn('tool_id', 'bigint', (c) => c.notNull())
        .addColumn('ticket_id', 'bigint')
        .addColumn('team', 'text', (c) => c.notNull())
        .addColumn('out_at', 'bigint', (c) => c.notNull())
        .addColumn('out_by', 'varchar(100)', (c) => c.notNull())
        .addColumn('due_back_at', 'bigint')
        .addColumn('returned_at', 'bigint')
        .addColumn('returned_by', 'varchar(100)')
        .addColumn('return_note', 'text')
        .execute();
      await db.schema.createIndex('tool_checkouts_tool').on('tool_checkouts').columns(['tool_id', 'id']).execute();
      await db.schema.createIndex('tool_checkouts_ticket').on('tool_checkouts').column('ticket_id').execute();

      await db.schema
        .createTable('suppliers')
        .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('name', 'varchar(200)', (c) => c.notNull())
        .addColumn('name_zh', 'varchar(200)')
        .addColumn('contact', 'text', (c) => c.notNull())
        .addColumn('certification', 'varchar(200)')
        .addColumn('certified_until', 'bigint')
        .addColumn('last_audit_at', 'bigint')
        .addColumn('next_audit_at', 'bigint')
        .addColumn('status', 'varchar(16)', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await id(db.schema.createTable('supplier_evaluations'))
        .addColumn('supplier_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('by', 'varchar(100)', (c) => c.notNull())
        .addColumn('quality', 'integer', (c) => c.notNull())
        .addColumn('delivery', 'integer', (c) => c.notNull())
        .addColumn('service', 'integer', (c) => c.notNull())
        .addColumn('note', 'text')
        .execute();
      await db.schema
        .createIndex('supplier_evaluations_supplier')
        .on('supplier_evaluations')
        .columns(['supplier_id', 'at'])
        .execute();
      await id(db.schema.createTable('quality_records'))
        .addColumn('ticket_id', 'bigint', (c) => c.notNull())
        .addColumn('vehicle_id', 'varchar(64)')
        .addColumn('fault_code', 'varchar(32)')
        .addColumn('part_number', 'varchar(64)', (c) => c.notNull())
        .addColumn('supplier_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('failed_at', 'bigint', (c) => c.notNull())
        .addColumn('note', 'text')
        .addColumn('recorded_by', 'varchar(100)', (c) => c.notNull())
        .addColumn('recorded_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('quality_records_supplier')
        .on('quality_records')
        .columns(['supplier_id', 'part_number', 'failed_at'])
        .execute();
      await db.schema
        .createIndex('quality_records_ticket_part')
        .on('quality_records')
        .columns(['ticket_id', 'part_number'])
        .unique()
        .execute();
      await id(db.schema.createTable('quality_feedback'))
        .addColumn('supplier_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('part_number', 'varchar(64)')
        .addColumn('record_ids', 'text', (c) => c.notNull())
        .addColumn('subject', 'varchar(200)', (c) => c.notNull())
        .addColumn('body', 'text', (c) => c.notNull())
        .addColumn('sent_at', 'bigint', (c) => c.notNull())
        .addColumn('sent_by', 'varchar(100)', (c) => c.notNull())
        .addColumn('answer_due_at', 'bigint')
        .addColumn('answer', 'text')
        .addColumn('answered_at', 'bigint')
        .addColumn('recorded_by', 'varchar(100)')
        .execute();
      await db.schema
        .createIndex('quality_feedback_supplier')
        .on('quality_feedback')
        .columns(['supplier_id', 'sent_at'])
        .execute();

      await id(db.schema.createTable('partners'))
        .addColumn('kind', 'varchar(16)', (c) => c.notNull())
        .addColumn('name', 'varchar(200)', (c) => c.notNull())
        .addColumn('name_zh', 'varchar(200)')
        .addColumn('regions', 'text', (c) => c.notNull())
        .addColumn('capabilities', 'text', (c) => c.notNull())
        .addColumn('reputation', 'integer', (c) => c.notNull())
        .addColumn('technical_strength', 'integer', (c) => c.notNull())
        .addColumn('contacts', 'text', (c) => c.notNull())
        .addColumn('contract_terms', 'text')
        .addColumn('contract_until', 'bigint')
        .addColumn('active', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await id(db.schema.createTable('partner_dispatches'))
        .addColumn('partner_id', 'bigint', (c) => c.notNull())
        .addColumn('ticket_id', 'bigint', (c) => c.notNull())
        .addColumn('task', 'text', (c) => c.notNull())
        .addColumn('dispatched_at', 'bigint', (c) => c.notNull())
        .addColumn('dispatched_by', 'varchar(100)', (c) => c.notNull())
        .addColumn('eta', 'bigint', (c) => c.notNull())
        .addColumn('arrived_at', 'bigint')
        .addColumn('outcome', 'varchar(16)', (c) => c.notNull())
        .addColumn('rework', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('note', 'text')
        .addColumn('closed_at', 'bigint')
        .addColumn('closed_by', 'varchar(100)')
        .execute();
      await db.schema
        .createIndex('partner_dispatches_partner')
        .on('partner_dispatches')
        .columns(['partner_id', 'dispatched_at'])
        .execute();
      await db.schema.createIndex('partner_dispatches_ticket').on('partner_dispatches').column('ticket_id').execute();

      await db.schema
        .createTable('people')
        .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('name', 'varchar(200)', (c) => c.notNull())
        .addColumn('department', 'varchar(32)', (c) => c.notNull())
        .addColumn('account_id', 'varchar(64)')
        .addColumn('phone', 'varchar(40)')
        .addColumn('available', 'integer', (c) => c.notNull())
        .addColumn('availability_note', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await id(db.schema.createTable('person_qualifications'))
        .addColumn('person_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('skill', 'varchar(32)', (c) => c.notNull())
        .addColumn('certificate', 'varchar(200)')
        .addColumn('expires_at', 'bigint')
        .execute();
      await db.schema
        .createIndex('person_qualifications_person')
        .on('person_qualifications')
        .columns(['person_id', 'skill'])
        .execute();
    },
    async down(db: Kysely<unknown>) {
      for (const t of [
        'person_qualifications',
        'people',
        'partner_dispatches',
        'partners',
        'quality_feedback',
        'quality_records',
        'supplier_evaluations',
        'suppliers',
        'tool_checkouts',
        'tools',
      ])
        await db.schema.dropTable(t).execute();
    },
  };
}
