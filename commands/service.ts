import { randomUUID } from 'node:crypto';
import type { EventBus } from '../core/bus.ts';
import type { Counters } from '../core/counters.ts';
import { PlatformError } from '../core/errors.ts';
import type { PlatformEvents } from '../core/events.ts';
import type { Logger } from '../core/logger.ts';
import { MAX_COMMAND_TTL_S, type Command, type CommandAck } from '../protocol/index.ts';
import { inTransaction, type RecordsDb } from '../records/db.ts';
import { checkCommand, COMMAND_ID_PATTERN } from './catalogue.ts';
import { commandRecords, type CommandPage } from './records.ts';
import type { CommandRecord, CommandRequest, CommandSender, CommandState } from './types.ts';
import './errors.ts';

/** How long the platform waits for a gateway's `commands/ack` by default (`COMMAND_ACK_TIMEOUT_MS`). */
export const DEFAULT_COMMAND_ACK_TIMEOUT_MS = 30_000;

/** Ids of this prefix are the platform's backfill requests (ingest), never an operator's. */
const RESERVED_ID_PREFIX = 'bf-';

export interface CommandServiceDeps {
  db: RecordsDb;
  bus: Pick<EventBus<PlatformEvents>, 'on' | 'emit'>;
  /**
   * Cluster mode: the events other nodes relayed (cluster/event-relay.ts). A command published here
   * to a vehicle connected to another node is settled there (its ack arrives there); its
   * `command.settled` answers the caller waiting here.
   */
  elsewhere?: Pick<EventBus<PlatformEvents>, 'on'>;
  /** Publishes on the vehicle's `commands` topic at QoS 1 (the broker's publishToVehicle). */
  publish(vehicleId: string, command: Command): Promise<void>;
  /** Whether the vehicle is connected now (registry presence). */
  isOnline(vehicleId: string): Promise<boolean>;
  /**
   * The audit log over a records handle (web/auth/audit.ts `createAuditLog`): every command, its
   * outcome and late answers are written in the transaction of the change they record.
   */
  audit(db: RecordsDb): AuditSink;
  log: Logger;
  counters: Counters;
  now?: () => number;
}

export interface AuditSink {
  record(e: {
    actor: string;
    action: string;
    subject?: string | null;
    source?: 'console' | 'mqtt' | 'system';
    details?: unknown;
  }): Promise<void>;
}

export interface CommandServiceOptions {
  /** No ack within this → `no_answer` (`COMMAND_ACK_TIMEOUT_MS`). */
  ackTimeoutMs: number;
  /** The validity sent with each command (`ttlS`); default: the ack timeout, rounded up to seconds. */
  ttlS?: number;
  /**
   * Several nodes (cluster mode): a command's ack may arrive at the node its vehicle is connected to,
   * which settles it in the records. Every this many ms, the commands this node waits for are looked up
   * there (settled elsewhere: the waiting caller gets the record), and commands every node has given
   * up on (sent more than the ack timeout ago, still `sent`: the node that sent them stopped) are
   * settled no_answer — instead of all unsettled ones at start, which would cut other nodes' short.
   * Absent: one node, every ack arrives here.
   */
  elsewherePollMs?: number;
}

type Outcome = { state: Exclude<CommandState, 'sent'>; result: unknown; error: string | null };

interface Waiting {
  vehicleId: string;
  timer: NodeJS.Timeout;
  settled: Promise<CommandRecord>;
  resolve(r: CommandRecord): void;
  reject(err: unknown): void;
}

/** What makes two requests with one id the same command. */
const sameKey = (vehicleId: string, name: string, args: Record<string, unknown>) =>
  JSON.stringify([vehicleId, name, sortKeys(args)]);

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object')
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
    );
  return v;
}

/**
 * Operator commands to vehicles: checks them against the catalogue, refuses an offline vehicle
 * (VEHICLE_OFFLINE, never a silent queue), records each in the `commands` table, publishes it at
 * QoS 1 with a `ttlS` (a gateway never executes a stale one), and settles it on the gateway's
 * `commands/ack` (done / refused with the reason) or after `ackTimeoutMs` (no_answer — never done; a
 * later answer is recorded as `lateAck` only). The same id again is the same command: it is not sent
 * twice, the caller gets the first one's record (after its settlement); the same id for another
 * vehicle, name or arguments is COMMAND_CONFLICT. Who may send what is commands/policy.ts, checked by
 * the callers. Announces `command.sent` / `command.settled` on the bus after each write.
 */
export function createCommandService(deps: CommandServiceDeps, options: CommandServiceOptions) {
  const { bus, log, counters } = deps;
  const now = deps.now ?? Date.now;
  const records = commandRecords(deps.db);
  /** Runs `fn` with the commands table and the audit log in one transaction. */
  const atomically = <T>(fn: (tx: ReturnType<typeof commandRecords>, audit: AuditSink) => Promise<T>) =>
    inTransaction(deps.db, (tx) => fn(commandRecords(tx), deps.audit(tx)));
  const ackTimeoutMs = options.ackTimeoutMs;
  const ttlS = Math.min(MAX_COMMAND_TTL_S, Math.max(1, options.ttlS ?? Math.ceil(ackTimeoutMs / 1000)));
  /** Published commands waiting for their ack. */
  const waiting = new Map<string, Waiting>();
  /** Sends in progress by id (so that a retry racing the first send joins it). */
  const starting = new Map<string, { key: string; done: Promise<CommandRecord> }>();
  const work = new Set<Promise<unknown>>();
  let offAck: (() => void) | undefined;
  let offElsewhere: (() => void) | undefined;
  let stopped = false;

  const track = <T>(p: Promise<T>): Promise<T> => {
    work.add(p);
    void p.finally(() => work.delete(p)).catch(() => undefined);
    return p;
  };

  function conflict(id: string): PlatformError {
    return new PlatformError(
      'COMMAND_CONFLICT',
      `command id ${id} was already used for another vehicle, command or arguments; use a new id`,
    );
  }

  /** Waits for the ack of a published command; the timer settles it no_answer. */
  function wait(id: string, vehicleId: string): Promise<CommandRecord> {
    let resolve!: (r: CommandRecord) => void;
    let reject!: (err: unknown) => void;
    const settled = new Promise<CommandRecord>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    settled.catch(() => undefined); // its caller handles it; never an unhandled rejection at stop
    const timer = setTimeout(() => {
      void track(
        settle(id, {
          state: 'no_answer',
          result: null,
          error: `no answer within ${ackTimeoutMs / 1000} s`,
        }).then(async (settledHere) => {
          // settled meanwhile by another node (cluster mode) whose announcement did not come: its record
          if (!settledHere) answerWaiter(id, await records.get(id));
        }),
      ).catch((err: unknown) => log.error({ err, id }, 'could not settle a command'));
    }, ackTimeoutMs);
    waiting.set(id, { vehicleId, timer, settled, resolve, reject });
    return settled;
  }

  /** Resolves the caller waiting for a command settled elsewhere (another node, cluster mode). */
  function answerWaiter(id: string, record: CommandRecord | undefined): void {
    const entry = waiting.get(id);
    if (!entry || !record || record.state === 'sent') return;
    waiting.delete(id);
    clearTimeout(entry.timer);
    entry.resolve(record);
  }

  /** Settles a command still `sent` (false: it was settled already). */
  async function settle(id: string, outcome: Outcome): Promise<boolean> {
    const at = now();
    const record = await atomically(async (tx, audit) => {
      if (!(await tx.settle(id, { ...outcome, at }))) return undefined;
      const r = await tx.get(id);
      if (r)
        await audit.record({
          actor: outcome.state === 'no_answer' ? 'system' : `vehicle:${r.vehicleId}`,
          action: `command.${outcome.state}`,
          subject: `vehicle:${r.vehicleId}`,
          source: outcome.state === 'no_answer' ? 'system' : 'mqtt',
          details: { id, name: r.name, result: r.result, error: r.error, sessionId: r.sessionId },
        });
      return r;
    });
    if (!record) {
      // settled already, maybe by another node: whoever waits here gets that outcome
      const entry = waiting.get(id);
      const stored = entry ? await records.get(id) : undefined;
      if (entry && stored && stored.state !== 'sent') release(id, stored);
      return false;
    }
    const entry = waiting.get(id);
    waiting.delete(id);
    if (entry) clearTimeout(entry.timer);
    counters.inc(`commands.${outcome.state}`, record.vehicleId);
    log.info({ id, vehicleId: record.vehicleId, name: record.name, state: record.state }, 'command settled');
    bus.emit('command.settled', { command: record });
    entry?.resolve(record);
    return true;
  }

  /** Ends the wait for a command another node settled (its settlement was announced there). */
  function release(id: string, record: CommandRecord): void {
    const entry = waiting.get(id);
    if (!entry) return;
    waiting.delete(id);
    clearTimeout(entry.timer);
    entry.resolve(record);
  }

  /**
   * Cluster mode: what other nodes settled (looked up only while callers wait here; the relayed
   * `command.settled` usually answers first), and what nobody will — swept at most once per
   * COMMAND_ACK_TIMEOUT_MS, since nothing can be overdue sooner than that (elsewherePollMs).
   */
  let lastSweep = -Infinity;
  async function pollElsewhere(): Promise<void> {
    if (waiting.size) for (const record of await records.settledAmong([...waiting.keys()])) release(record.id, record);
    if (now() - lastSweep < ackTimeoutMs) return;
    lastSweep = now();
    for (const id of await records.unsettled(now() - ackTimeoutMs))
      if (!waiting.has(id))
        await settle(id, { state: 'no_answer', result: null, error: `no answer within ${ackTimeoutMs / 1000} s` });
  }
  let poller: NodeJS.Timeout | undefined;
  let polling: Promise<void> | undefined;

  async function onAck(vehicleId: string, receivedAt: number, ack: CommandAck): Promise<void> {
    if (ack.id.startsWith(RESERVED_ID_PREFIX)) return; // a backfill answer (ingest's)
    const owner = waiting.get(ack.id)?.vehicleId ?? (await records.get(ack.id))?.vehicleId;
    if (owner === undefined) return; // not an operator command (backfill) or unknown
    if (owner !== vehicleId) {
      log.warn({ id: ack.id, vehicleId, owner }, 'ack for another vehicle’s command ignored');
      return;
    }
    const outcome: Outcome = ack.ok
      ? { state: 'done', result: ack.result ?? null, error: null }
      : { state: 'refused', result: ack.result ?? null, error: ack.error ?? 'refused without a reason' };
    if (await settle(ack.id, outcome)) return;
    const late = { at: receivedAt, ok: ack.ok, result: ack.result ?? null, error: ack.error ?? null };
    const recorded = await atomically(async (tx, audit) => {
      if (!(await tx.lateAck(ack.id, late))) return false; // a repeated answer to a settled command
      await audit.record({
        actor: `vehicle:${vehicleId}`,
        action: 'command.late_ack',
        subject: `vehicle:${vehicleId}`,
        source: 'mqtt',
        details: { id: ack.id, ...late },
      });
      return true;
    });
    if (!recorded) return;
    counters.inc('commands.late_ack', vehicleId);
    log.info({ id: ack.id, vehicleId, ok: ack.ok }, 'late answer to a command already settled no_answer');
  }

  async function first(
    id: string,
    request: CommandRequest,
    name: string,
    args: Record<string, unknown>,
    key: string,
  ): Promise<CommandRecord> {
    const { vehicleId } = request;
    const existing = await records.get(id);
    if (existing) {
      if (sameKey(existing.vehicleId, existing.name, existing.args) !== key) throw conflict(id);
      return existing.state === 'sent' ? (waiting.get(id)?.settled ?? existing) : existing;
    }
    if (!(await deps.isOnline(vehicleId)))
      throw new PlatformError('VEHICLE_OFFLINE', `vehicle ${vehicleId} is not connected; the command was not sent`);
    if (stopped) throw new PlatformError('SHUTTING_DOWN', 'the platform is stopping');
    const at = now();
    const record: CommandRecord = {
      id,
      vehicleId,
      name,
      args,
      actor: request.actor,
      sessionId: request.sessionId ?? null,
      sentAt: at,
      state: 'sent',
      settledAt: null,
      result: null,
      error: null,
      lateAck: null,
    };
    await atomically(async (tx, audit) => {
      await tx.insert({ ...record, ttlS });
      await audit.record({
        actor: request.actor,
        action: 'command.sent',
        subject: `vehicle:${vehicleId}`,
        source: request.actor === 'system' ? 'system' : 'console',
        details: { id, name, args, sessionId: record.sessionId },
      });
    });
    counters.inc('commands.sent', vehicleId);
    log.info({ id, vehicleId, name, actor: request.actor }, 'command sent');
    bus.emit('command.sent', { command: record });
    const settled = wait(id, vehicleId);
    deps.publish(vehicleId, { id, ts: at, ttlS, name, args }).catch((err: unknown) => {
      log.warn({ err, id, vehicleId }, 'could not publish a command');
      void track(
        settle(id, {
          state: 'no_answer',
          result: null,
          error: `not delivered: ${err instanceof Error ? err.message : String(err)}`,
        }),
      ).catch(() => undefined);
    });
    return settled;
  }

  const service = {
    /**
     * Sends a command and resolves with its record once settled (done, refused or no_answer).
     * COMMAND_UNKNOWN / INVALID_ARGUMENT (catalogue), VEHICLE_OFFLINE, COMMAND_CONFLICT, SHUTTING_DOWN.
     */
    async send(request: CommandRequest): Promise<CommandRecord> {
      if (stopped) throw new PlatformError('SHUTTING_DOWN', 'the platform is stopping');
      const checked = checkCommand(request.name, request.args);
      const id = request.id ?? `cmd-${randomUUID()}`;
      if (!COMMAND_ID_PATTERN.test(id) || id.startsWith(RESERVED_ID_PREFIX))
        throw new PlatformError(
          'INVALID_ARGUMENT',
          `id: 1–64 characters of A-Z a-z 0-9 _ . : - starting with a letter or digit, not "${RESERVED_ID_PREFIX}…"`,
        );
      const key = sameKey(request.vehicleId, checked.name, checked.args);
      const running = starting.get(id);
      if (running) {
        if (running.key !== key) throw conflict(id);
        return running.done;
      }
      const done = track(first(id, request, checked.name, checked.args, key));
      starting.set(id, { key, done });
      try {
        return await done;
      } finally {
        if (starting.get(id)?.done === done) starting.delete(id);
      }
    },
    get: (id: string): Promise<CommandRecord | undefined> => records.get(id),
    /** One vehicle's commands, newest first: `{commands, nextCursor}` (INVALID_CURSOR for a foreign cursor). */
    page: (vehicleId: string, limit: number, cursor?: string): Promise<CommandPage> =>
      records.page(vehicleId, limit, cursor),
    /** Listens for acks, then settles no_answer what was left `sent` when the platform last stopped. */
    async start(): Promise<void> {
      stopped = false;
      offElsewhere ??= deps.elsewhere?.on('command.settled', (e) => answerWaiter(e.command.id, e.command));
      offAck ??= bus.on('command.ack', (e) => {
        void track(onAck(e.vehicleId, e.receivedAt, e.ack)).catch((err: unknown) =>
          log.error({ err, id: e.ack.id }, 'could not record a command ack'),
        );
      });
      if (options.elsewherePollMs !== undefined) {
        // other nodes may be waiting for the commands still `sent`: the poll settles the overdue ones
        poller ??= setInterval(() => {
          polling ??= track(pollElsewhere())
            .catch((err: unknown) => log.warn({ err }, 'could not look up commands settled elsewhere'))
            .finally(() => (polling = undefined));
        }, options.elsewherePollMs);
        poller.unref();
        return;
      }
      for (const id of await records.unsettled())
        await settle(id, { state: 'no_answer', result: null, error: 'the platform stopped before an answer came' });
    },
    /** Stops waiting (callers get SHUTTING_DOWN); commands still `sent` are settled no_answer at the next start. */
    async stop(): Promise<void> {
      stopped = true;
      if (poller) clearInterval(poller);
      poller = undefined;
      offAck?.();
      offAck = undefined;
      offElsewhere?.();
      offElsewhere = undefined;
      for (const [id, w] of waiting) {
        clearTimeout(w.timer);
        w.reject(new PlatformError('SHUTTING_DOWN', `the platform stopped before command ${id} was answered`));
      }
      waiting.clear();
      await Promise.allSettled([...work]);
    },
  };
  return service satisfies CommandSender;
}

export type CommandService = ReturnType<typeof createCommandService>;
