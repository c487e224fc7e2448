import type { Generated, Selectable } from 'kysely';
import { cursors } from '../core/cursor.ts';
import type { RecordsDb } from '../records/db.ts';
import type { CommandRecord, CommandState, LateAck } from './types.ts';

/** One operator command and its outcome. `seq` orders the lists (keyset paging); `id` is the command's own id. */
export interface CommandsTable {
  seq: Generated<number>;
  id: string;
  vehicle_id: string;
  name: string;
  /** JSON object. */
  args: string;
  actor: string;
  session_id: number | null;
  sent_at: number;
  /** The validity sent on the wire (`ttlS`). */
  ttl_s: number;
  state: CommandState;
  settled_at: number | null;
  /** JSON: the ack's result when done. */
  result: string | null;
  error: string | null;
  /** JSON `LateAck`: an answer that came after the command was settled no_answer. */
  late_ack: string | null;
}

declare module '../records/schema.ts' {
  interface RecordsSchema {
    commands: CommandsTable;
  }
}

export interface CommandPage {
  commands: CommandRecord[];
  nextCursor: string | null;
}

const parse = (s: string | null): unknown => (s === null ? null : (JSON.parse(s) as unknown));

export function toCommandRecord(r: Selectable<CommandsTable>): CommandRecord {
  return {
    id: r.id,
    vehicleId: r.vehicle_id,
    name: r.name,
    args: parse(r.args) as Record<string, unknown>,
    actor: r.actor,
    sessionId: r.session_id === null ? null : Number(r.session_id),
    sentAt: Number(r.sent_at),
    state: r.state,
    settledAt: r.settled_at === null ? null : Number(r.settled_at),
    result: parse(r.result),
    error: r.error,
    lateAck: parse(r.late_ack) as LateAck | null,
  };
}

/** The commands table's queries. */
export function commandRecords(db: RecordsDb) {
  return {
    async get(id: string): Promise<CommandRecord | undefined> {
      const r = await db.selectFrom('commands').selectAll().where('id', '=', id).executeTakeFirst();
      return r && toCommandRecord(r);
    },
    async insert(c: CommandRecord & { ttlS: number }): Promise<void> {
      await db
        .insertInto('commands')
        .values({
          id: c.id,
          vehicle_id: c.vehicleId,
          name: c.name,
          args: JSON.stringify(c.args),
          actor: c.actor,
          session_id: c.sessionId,
          sent_at: c.sentAt,
          ttl_s: c.ttlS,
          state: c.state,
          settled_at: null,
          result: null,
          error: null,
          late_ack: null,
        })
        .execute();
    },
    /** Settles a command still `sent`; false when it was settled already. */
    async settle(
      id: string,
      s: { state: Exclude<CommandState, 'sent'>; at: number; result: unknown; error: string | null },
    ): Promise<boolean> {
      const r = await db
        .updateTable('commands')
        .set({
          state: s.state,
          settled_at: s.at,
          result: s.result === undefined || s.result === null ? null : JSON.stringify(s.result),
          error: s.error,
        })
        .where('id', '=', id)
        .where('state', '=', 'sent')
        .executeTakeFirst();
      return Number(r.numUpdatedRows) > 0;
    },
    /** Records the first answer to come after a no_answer. False when there already was one (or it was not no_answer). */
    async lateAck(id: string, ack: LateAck): Promise<boolean> {
      const r = await db
        .updateTable('commands')
        .set({ late_ack: JSON.stringify(ack) })
        .where('id', '=', id)
        .where('state', '=', 'no_answer')
        .where('late_ack', 'is', null)
        .executeTakeFirst();
      return Number(r.numUpdatedRows) > 0;
    },
    /** Ids of the commands still `sent` (waiting when the platform stopped); with `sentBefore`, those sent before it. */
    async unsettled(sentBefore?: number): Promise<string[]> {
      let q = db.selectFrom('commands').select('id').where('state', '=', 'sent');
      if (sentBefore !== undefined) q = q.where('sent_at', '<', sentBefore);
      const rows = await q.execute();
      return rows.map((r) => r.id);
    },
    /** Of `ids`, the commands no longer `sent`. */
    async settledAmong(ids: readonly string[]): Promise<CommandRecord[]> {
      if (!ids.length) return [];
      const rows = await db
        .selectFrom('commands')
        .selectAll()
        .where('id', 'in', [...ids])
        .where('state', '!=', 'sent')
        .execute();
      return rows.map(toCommandRecord);
    },
    /** One vehicle's commands, newest first, keyset paged. */
    async page(vehicleId: string, limit: number, cursor?: string): Promise<CommandPage> {
      const list = `commands:${vehicleId}`;
      let q = db.selectFrom('commands').selectAll().where('vehicle_id', '=', vehicleId);
      if (cursor !== undefined) {
        const [seq] = cursors.decode(cursor, list, 1) as [number];
        q = q.where('seq', '<', seq);
      }
      const rows = await q
        .orderBy('seq', 'desc')
        .limit(limit + 1)
        .execute();
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return {
        commands: page.map(toCommandRecord),
        nextCursor: rows.length > limit && last ? cursors.encode([Number(last.seq)], list) : null,
      };
    },
  };
}
