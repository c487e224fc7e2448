import { performance } from 'node:perf_hooks';
import type { EventBus } from '../core/bus.ts';
import type { Counters } from '../core/counters.ts';
import type { PlatformEvents } from '../core/events.ts';
import type { Logger } from '../core/logger.ts';
import { inTransaction, type RecordsDb } from '../records/db.ts';
import { retryDelayMs } from './backoff.ts';
import {
  describeError,
  permanent,
  retry,
  type Channel as ChannelAdapter,
  type Delivery,
  type SendResult,
} from './channels/channel.ts';
import { deliveryView, inboxItem } from './deliveries.ts';
import { CHANNELS, type Channel, type NotificationsTable } from './outbox.ts';
import { createDisabledTargets } from './targets.ts';

export interface DispatcherDeps {
  db: RecordsDb;
  /** The configured channels; a row of a channel not here fails ("channel not configured"). */
  channels: Partial<Record<Channel, ChannelAdapter>>;
  bus: Pick<EventBus<PlatformEvents>, 'on' | 'emit'>;
  log: Logger;
  counters: Counters;
  now?: () => number;
  /** [0, 1); the backoff's jitter. */
  random?: () => number;
  /**
   * Cluster mode: whether this node delivers now (the leader, cluster/leader.ts), checked before each
   * read of the outbox; closed, the dispatcher only polls. Default: always.
   */
  gate?: () => boolean;
}

export interface DispatcherOptions {
  /** A delivery fails for good after this many tries (`NOTIFY_MAX_TRIES`). */
  maxTries: number;
  /** Backoff: the wait after try n is random in [0, min(backoffMaxMs, backoffBaseMs × 2^(n−1))). */
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** How often the outbox is read for due rows without a wake-up (`NOTIFY_POLL_MS`). */
  pollMs: number;
  /** Sends at once per channel. */
  concurrency: number;
  /** How long `stop()` waits for sends in flight (default 10 s); what is still in flight stays pending and is sent again after the restart. */
  stopTimeoutMs?: number;
}

/** Channels whose target is a configured endpoint or robot that its receiver can disable (HTTP 410). */
const DISABLEABLE = new Set<Channel>(['webhook', 'dingtalk', 'wecom']);

type Row = Omit<NotificationsTable, 'id'> & { id: number };

/**
 * Delivers the outbox (notifications/outbox.ts). A row is due when it is `pending` or `held` and its
 * `next_at` has passed — a held row (quiet hours, a rate limit) is delivered as it is once its hold
 * ends, unless whoever held it has folded it into a digest (`merged`) or held it longer first. Due
 * rows are sent in id order, at most `concurrency` at once per channel, through the channel's
 * adapter; the outcome is written with a conditional update (still `pending`/`held`), so a row merged
 * meanwhile is not overwritten:
 * - delivered: `delivered`, `delivered_at`; `notification.delivered` on the bus after the commit;
 * - retry: `pending` again at now + backoff (full jitter) or the receiver's own wait if longer;
 * - after `maxTries` tries, or a permanent refusal: `failed` with `last_error` (`notification.failed`);
 * - the receiver is gone (webhook 410): the target is disabled and all its waiting rows fail.
 *
 * A row is sent by one send at a time: one in flight is not started again, nor one whose send
 * settled while the pass was reading (its read may predate the settle's commit).
 *
 * Nothing is marked before the send: a process killed mid-send leaves the row `pending` with the
 * same key, and the next start sends it again (at least once; the key lets the receiver drop the
 * repeat). One dispatcher per outbox: two processes would both send a due row — in cluster mode
 * `gate` lets only the leader's read the outbox.
 */
export function createDispatcher(deps: DispatcherDeps, options: DispatcherOptions) {
  const { db, bus, log, counters } = deps;
  const now = deps.now ?? Date.now;
  const random = deps.random ?? Math.random;
  const targets = createDisabledTargets({ db, now });
  const stopTimeoutMs = options.stopTimeoutMs ?? 10_000;
  const gate = deps.gate ?? (() => true);

  const inFlight = new Set<number>();
  /**
   * Rows whose send settled since the current pass began reading: its reads may have been answered
   * from before the settle's commit (a PostgreSQL snapshot taken earlier, an answer still on its way)
   * and show such a row due although it was just delivered. They are skipped for this pass; the next
   * pass, which the settle asks for, reads them as they are now.
   */
  const settledThisPass = new Set<number>();
  const active = new Map<Channel, number>(CHANNELS.map((c) => [c, 0]));
  const sends = new Set<Promise<void>>();
  let running: Promise<void> | undefined;
  let again = false;
  let started = false;
  let stopping = false;
  let timer: NodeJS.Timeout | undefined;
  let off: (() => void) | undefined;
  const depth: Record<'pending' | 'held', Record<Channel, number>> = {
    pending: Object.fromEntries(CHANNELS.map((c) => [c, 0])) as Record<Channel, number>,
    held: Object.fromEntries(CHANNELS.map((c) => [c, 0])) as Record<Channel, number>,
  };

  /** When the next row waiting for its time (a retry, a held row) is due, as of the last read. */
  let nextDueAt = Number.POSITIVE_INFINITY;

  /** The next read: at the next row's time when that comes before the poll interval is over. */
  function arm(): void {
    if (timer) clearTimeout(timer);
    const delay = Math.max(0, Math.min(options.pollMs, nextDueAt - now()));
    timer = setTimeout(() => void tick(), delay);
    timer.unref();
  }

  /** One read of the outbox: starts the due rows each channel has room for. Runs one at a time; a call meanwhile runs it again after. */
  function tick(): Promise<void> {
    if (!started || stopping) return Promise.resolve();
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      try {
        do {
          again = false;
          await pass();
        } while (again && !stopping);
      } catch (err) {
        log.error({ err }, 'reading the notification outbox failed');
      } finally {
        running = undefined;
        if (!stopping) arm();
      }
    })();
    return running;
  }

  async function pass(): Promise<void> {
    // not the leader: nothing read, nothing sent; the next poll looks again
    if (!gate()) return;
    settledThisPass.clear();
    const at = now();
    let startedAny = false;
    for (const channel of CHANNELS) {
      const room = options.concurrency - active.get(channel)!;
      if (room <= 0) continue;
      const rows = await db
        .selectFrom('notifications')
        .selectAll()
        .where('status', 'in', ['pending', 'held'])
        .where('next_at', '<=', at)
        .where('channel', '=', channel)
        .orderBy('id')
        .limit(room + active.get(channel)!)
        .execute();
      let started = 0;
      for (const row of rows) {
        if (started >= room || stopping) break;
        if (inFlight.has(Number(row.id)) || settledThisPass.has(Number(row.id))) continue;
        begin({ ...row, id: Number(row.id) });
        started++;
        startedAny = true;
      }
    }
    await findNextDue();
    // the depth (a count over the waiting rows) at most once a second while sends keep going, so a
    // large backlog is not counted again after every send; always when a pass finds nothing to start
    if (!startedAny || performance.now() - depthCountedAt >= 1000) await measureDepth();
  }

  let depthCountedAt = Number.NEGATIVE_INFINITY;
  async function measureDepth(): Promise<void> {
    depthCountedAt = performance.now();
    const rows = await db
      .selectFrom('notifications')
      .select(['status', 'channel', (eb) => eb.fn.countAll<number>().as('n')])
      .where('status', 'in', ['pending', 'held'])
      .groupBy(['status', 'channel'])
      .execute();
    for (const s of ['pending', 'held'] as const) for (const c of CHANNELS) depth[s][c] = 0;
    for (const r of rows) depth[r.status as 'pending' | 'held'][r.channel] = Number(r.n);
  }

  async function findNextDue(): Promise<void> {
    const next = await db
      .selectFrom('notifications')
      .select((eb) => eb.fn.min('next_at').as('at'))
      .where('status', 'in', ['pending', 'held'])
      .where('next_at', '>', now())
      .executeTakeFirst();
    nextDueAt = next?.at === null || next?.at === undefined ? Number.POSITIVE_INFINITY : Number(next.at);
  }

  function begin(row: Row): void {
    inFlight.add(row.id);
    active.set(row.channel, active.get(row.channel)! + 1);
    const p: Promise<void> = deliver(row)
      .catch((err: unknown) => log.error({ err, id: row.id }, 'recording a delivery failed'))
      .finally(() => {
        settledThisPass.add(row.id);
        inFlight.delete(row.id);
        active.set(row.channel, active.get(row.channel)! - 1);
        sends.delete(p);
        if (!stopping) void tick();
      });
    sends.add(p);
  }

  async function deliver(row: Row): Promise<void> {
    const attempt = row.tries + 1;
    const adapter = deps.channels[row.channel];
    let result: SendResult;
    if (!adapter) result = permanent(`channel not configured: ${row.channel}`);
    else if (DISABLEABLE.has(row.channel) && (await isDisabled(row.target)))
      result = permanent(`target disabled: ${row.target} (enable it again first)`);
    else {
      const delivery: Delivery = { ...row, attempt };
      try {
        result = await adapter.send(delivery);
      } catch (err) {
        result = retry(describeError(err));
      }
    }
    await settle(row, attempt, result);
  }

  async function isDisabled(id: string): Promise<boolean> {
    const row = await db
      .selectFrom('notification_targets_disabled')
      .select('id')
      .where('id', '=', id)
      .executeTakeFirst();
    return row !== undefined;
  }

  async function settle(row: Row, attempt: number, result: SendResult): Promise<void> {
    const at = now();
    const still = (q: ReturnType<typeof update>) =>
      q.where('id', '=', row.id).where('status', 'in', ['pending', 'held']);
    const update = () => db.updateTable('notifications');
    const fields = { channel: row.channel, id: row.id, target: row.target, attempt };
    if ('ok' in result) {
      const done = await still(
        update().set({ status: 'delivered', tries: attempt, delivered_at: at, updated_at: at }),
      ).executeTakeFirst();
      if (Number(done.numUpdatedRows) === 0) return log.debug(fields, 'delivered, but the row changed meanwhile');
      counters.inc('notify.delivered', row.channel);
      log.debug(fields, 'notification delivered');
      const fresh: Row = { ...row, status: 'delivered', tries: attempt, delivered_at: at, updated_at: at };
      bus.emit('notification.delivered', {
        delivery: deliveryView(fresh),
        ...(row.channel === 'inbox' ? { inboxItem: inboxItem(fresh) } : {}),
      });
      return;
    }
    if ('disableTarget' in result) {
      const failed = await inTransaction(db, async (tx) => {
        await tx
          .updateTable('notifications')
          .set({ status: 'failed', tries: attempt, last_error: result.error, updated_at: at })
          .where('id', '=', row.id)
          .execute();
        return targets.disable(tx, row.channel, row.target, result.error);
      });
      counters.inc('notify.failed', row.channel, 1 + failed);
      counters.inc('notify.targets_disabled', row.channel);
      log.warn({ ...fields, alsoFailed: failed }, 'the receiver asked to stop: target disabled');
      bus.emit('notification.failed', {
        delivery: deliveryView({ ...row, status: 'failed', tries: attempt, last_error: result.error }),
      });
      return;
    }
    if ('retry' in result && attempt < options.maxTries) {
      const wait = Math.max(
        result.afterMs ?? 0,
        retryDelayMs(attempt, options.backoffBaseMs, options.backoffMaxMs, random),
      );
      const done = await still(
        update().set({
          status: 'pending',
          tries: attempt,
          next_at: at + wait,
          last_error: result.error,
          updated_at: at,
        }),
      ).executeTakeFirst();
      if (Number(done.numUpdatedRows) === 0) return;
      counters.inc('notify.retried', row.channel);
      log.info({ ...fields, error: result.error, retryInMs: wait }, 'notification not delivered; will try again');
      return;
    }
    const error = result.error;
    const done = await still(
      update().set({ status: 'failed', tries: attempt, last_error: error, updated_at: at }),
    ).executeTakeFirst();
    if (Number(done.numUpdatedRows) === 0) return;
    counters.inc('notify.failed', row.channel);
    log.warn({ ...fields, error }, 'notification failed');
    bus.emit('notification.failed', {
      delivery: deliveryView({ ...row, status: 'failed', tries: attempt, last_error: error, updated_at: at }),
    });
  }

  return {
    /** Starts polling and listening for `notification.enqueued`; rows left pending by a previous run are due at once. */
    async start(): Promise<void> {
      if (started) return;
      started = true;
      off = bus.on('notification.enqueued', () => void tick());
      await tick();
    },
    /** Reads the outbox now (after an enqueue commits). */
    wake(): void {
      void tick();
    },
    /** Reads the outbox and waits until nothing is in flight (tests, tools). */
    async drain(): Promise<void> {
      for (;;) {
        await tick();
        if (sends.size === 0 && !running) return;
        await Promise.allSettled([...sends]);
        if (running) await running;
      }
    },
    stats() {
      return { inFlight: inFlight.size, pending: { ...depth.pending }, held: { ...depth.held } };
    },
    /** Takes no more rows, waits up to `stopTimeoutMs` for the sends in flight, then closes the channels. */
    async stop(): Promise<void> {
      if (stopping) return;
      stopping = true;
      off?.();
      if (timer) clearTimeout(timer);
      if (running) await running;
      let waited: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...sends]),
        new Promise<void>((resolve) => (waited = setTimeout(resolve, stopTimeoutMs))),
      ]);
      clearTimeout(waited);
      if (sends.size)
        log.warn(
          { inFlight: sends.size },
          'stopped with sends in flight: they stay pending and go again after the restart',
        );
      await Promise.all(Object.values(deps.channels).map((c) => c?.close?.()));
    },
  };
}

export type Dispatcher = ReturnType<typeof createDispatcher>;
