import type { Insertable, Selectable } from 'kysely';
import type { EventBus } from '../core/bus.ts';
import type { PlatformEvents } from '../core/events.ts';
import type { Logger } from '../core/logger.ts';
import type { CommandAck } from '../protocol/index.ts';
import { insertInChunks, type RecordsDb } from '../records/db.ts';

/** One command as it went over MQTT (migration 0020). */
export interface MqttCommandsTable {
  seq: import('kysely').Generated<number>;
  vehicle_id: string;
  /** The payload's `id`, when it has one. */
  command_id: string | null;
  /** The payload's `name`, when it has one. */
  name: string | null;
  /** Who published it: a service account's id, or `platform`. */
  publisher: string;
  /** The payload as published (UTF-8, at most MAX_PAYLOAD_CHARS). */
  payload: string;
  published_at: number;
  acked_at: number | null;
  ack_ok: 0 | 1 | null;
  /** JSON: the vehicle's answer. */
  ack: string | null;
}

declare module '../records/schema.ts' {
  interface RecordsSchema {
    mqtt_commands: MqttCommandsTable;
  }
}

/** The publisher name of commands the platform itself publishes (operator commands, backfill requests). */
export const PLATFORM_PUBLISHER = 'platform';
const MAX_PAYLOAD_CHARS = 8192;

export interface PublishedCommand {
  vehicleId: string;
  publisher: string;
  payload: Buffer | string;
}

export interface LoggedCommand {
  seq: number;
  vehicleId: string;
  commandId: string | null;
  name: string | null;
  publisher: string;
  payload: string;
  publishedAt: number;
  ack: { at: number; ok: boolean; answer: CommandAck } | null;
}

function toLogged(r: Selectable<MqttCommandsTable>): LoggedCommand {
  return {
    seq: Number(r.seq),
    vehicleId: r.vehicle_id,
    commandId: r.command_id,
    name: r.name,
    publisher: r.publisher,
    payload: r.payload,
    publishedAt: Number(r.published_at),
    ack:
      r.acked_at === null
        ? null
        : { at: Number(r.acked_at), ok: r.ack_ok === 1, answer: JSON.parse(r.ack ?? 'null') as CommandAck },
  };
}

/**
 * The MQTT command log (issue 16, item 1): every command published on a vehicle's `commands` topic —
 * by a service account (the broker records it before letting it through; a command that cannot be
 * recorded is not delivered) or by the platform (operator commands, backfill requests) — and the
 * vehicle's `commands/ack` answer, matched by vehicle and command id to the oldest unanswered one.
 * Operator commands also keep their own record (commands/records.ts); this log is the wire's.
 */
export function createCommandLog(deps: {
  db: RecordsDb;
  bus: Pick<EventBus<PlatformEvents>, 'on'>;
  log: Logger;
  now?: () => number;
}) {
  const { db, log } = deps;
  const now = deps.now ?? Date.now;
  let off: (() => void) | undefined;
  const work = new Set<Promise<unknown>>();

  /** Commands waiting for the next write (record). */
  let queued: { row: Insertable<MqttCommandsTable>; resolve: () => void; reject: (err: unknown) => void }[] = [];

  function writeQueued(): void {
    const batch = queued;
    queued = [];
    const rows = batch.map((q) => q.row);
    // an async function: a synchronous throw becomes a rejection of the whole batch too
    const write = async () => {
      if (rows.length === 1) await db.insertInto('mqtt_commands').values(rows).execute();
      else
        await db
          .transaction()
          .execute((tx) => insertInChunks(rows, (chunk) => tx.insertInto('mqtt_commands').values(chunk).execute()));
    };
    const p = write().then(
      () => {
        for (const q of batch) q.resolve();
      },
      (err: unknown) => {
        for (const q of batch) q.reject(err);
      },
    );
    work.add(p);
    void p.finally(() => work.delete(p));
  }

  async function matchAck(vehicleId: string, at: number, ack: CommandAck): Promise<void> {
    const open = await db
      .selectFrom('mqtt_commands')
      .select('seq')
      .where('vehicle_id', '=', vehicleId)
      .where('command_id', '=', ack.id)
      .where('acked_at', 'is', null)
      .orderBy('seq')
      .limit(1)
      .executeTakeFirst();
    if (!open) return; // not published over this broker (or answered already)
    await db
      .updateTable('mqtt_commands')
      .set({ acked_at: at, ack_ok: ack.ok ? 1 : 0, ack: JSON.stringify(ack) })
      .where('seq', '=', open.seq)
      .where('acked_at', 'is', null)
      .execute();
  }

  return {
    /**
     * Records a command before it is delivered; resolves once committed, throws when it cannot be
     * recorded. Commands recorded in the same turn of the event loop (a backfill round for every
     * vehicle after an outage: hundreds at once) share one transaction — one commit, one fsync on the
     * main thread, instead of one each — and fail together.
     */
    record(c: PublishedCommand): Promise<void> {
      const text = (typeof c.payload === 'string' ? c.payload : c.payload.toString('utf8')).slice(0, MAX_PAYLOAD_CHARS);
      let id: string | null = null;
      let name: string | null = null;
      try {
        const v = JSON.parse(text) as { id?: unknown; name?: unknown };
        if (typeof v.id === 'string') id = v.id.slice(0, 64);
        if (typeof v.name === 'string') name = v.name.slice(0, 64);
      } catch {
        // not JSON: recorded as it came, the gateway will refuse it
      }
      const row: Insertable<MqttCommandsTable> = {
        vehicle_id: c.vehicleId,
        command_id: id,
        name,
        publisher: c.publisher,
        payload: text,
        published_at: now(),
        acked_at: null,
        ack_ok: null,
        ack: null,
      };
      return new Promise<void>((resolve, reject) => {
        if (queued.length === 0) setImmediate(writeQueued);
        queued.push({ row, resolve, reject });
      });
    },
    /** One vehicle's logged commands, newest first. */
    async ofVehicle(vehicleId: string, limit = 100): Promise<LoggedCommand[]> {
      const rows = await db
        .selectFrom('mqtt_commands')
        .selectAll()
        .where('vehicle_id', '=', vehicleId)
        .orderBy('seq', 'desc')
        .limit(limit)
        .execute();
      return rows.map(toLogged);
    },
    /** Resolves once the acks received so far are matched (for tests and shutdown). */
    async settled(): Promise<void> {
      await Promise.allSettled([...work]);
    },
    start(): void {
      off ??= deps.bus.on('command.ack', (e) => {
        const p = matchAck(e.vehicleId, e.receivedAt, e.ack).catch((err: unknown) =>
          log.error({ err, id: e.ack.id, vehicleId: e.vehicleId }, 'could not match a command ack to the command log'),
        );
        work.add(p);
        void p.finally(() => work.delete(p));
      });
    },
    async stop(): Promise<void> {
      off?.();
      off = undefined;
      if (queued.length) writeQueued();
      await Promise.allSettled([...work]);
    },
  };
}

export type CommandLog = ReturnType<typeof createCommandLog>;
