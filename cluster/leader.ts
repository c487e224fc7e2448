import { sql } from 'kysely';
import type pg from 'pg';
import { lazyModule } from '../core/lazy-module.ts';
import type { RecordsDb } from '../records/db.ts';
import type { Logger } from '../core/logger.ts';

/** `pg`, loaded when PostgreSQL is first used (core/lazy-module.ts). */
const pgLib = lazyModule<typeof pg>('pg');

/**
 * Which node runs the jobs that must happen once across the cluster (deadline breaches, paging
 * escalations, session rings and abandons, notification delivery, retention, reminders):
 * docs/architecture.md, "Timers that fire once".
 */
export interface Leadership {
  /** Whether this node may act as leader right now (checked by the gated jobs at each fire). */
  isLeader(): boolean;
  /** Called with the new state at each change (gained, lost). Returns the unsubscribe. */
  onChange(listener: (leader: boolean) => void): () => void;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** One process (the embedded default): always the leader, no lock. */
export function alwaysLeader(): Leadership {
  return {
    isLeader: () => true,
    onChange: () => () => undefined,
    async start() {},
    async stop() {},
  };
}

/** The advisory lock's key (the two-int4 form: pg_locks shows it as classid/objid, objsubid 2). */
export const LEADER_LOCK_KEY: readonly [number, number] = [0x70770, 1];

export interface LeaderLeaseOptions {
  /** The records database (PostgreSQL). */
  url: string;
  node: string;
  /** A node without the lock asks again after this long; also how stale a verification may be. */
  retryMs: number;
  /** How often the leader checks (on its dedicated connection) that it still holds the lock. */
  verifyMs?: number;
  key?: readonly [number, number];
}

export interface LeaderLease extends Leadership {
  /** The server process id of the dedicated connection (tests terminate it), while connected. */
  backendPid(): number | undefined;
  /**
   * The fence of a once-job's transaction (`tx` on the records pool, not the dedicated connection):
   * takes the transaction-scoped advisory lock `FENCE_LOCK_KEY` (so such transactions of all nodes run
   * one after another), then answers whether the leader lock is still held by this node's dedicated
   * session. False: do nothing in this transaction. See docs/architecture.md, "Timers that fire once".
   */
  fence(tx: RecordsDb): Promise<boolean>;
}

/** The second key of the fence's transaction lock (the first is the leader lock's). */
export const FENCE_LOCK_KEY = 2;

/**
 * A leader lease on PostgreSQL: `pg_try_advisory_lock` held by a DEDICATED connection (not one of
 * the pool's: a pooled connection goes back to the pool and its session lock with it). The server
 * releases a session lock when the session ends, so a dead node, or one whose connection the server
 * dropped, is no longer leader for PostgreSQL; another node's next try (every `retryMs`) takes it.
 *
 * This node stops acting as leader at once when its connection reports 'error' or 'end', and
 * checks every `verifyMs` with a cheap query on that connection that the lock is still its own
 * (pg_locks, by its backend pid). `isLeader()` is also false when the last successful check is older
 * than `retryMs`: a process paused (GC, SIGSTOP, a stalled event loop) longer than that does not act
 * on its old belief when it wakes — it first checks again.
 */
export function createLeaderLease(deps: { log: Logger; now?: () => number }, options: LeaderLeaseOptions): LeaderLease {
  const log = deps.log;
  const now = deps.now ?? Date.now;
  const [k1, k2] = options.key ?? LEADER_LOCK_KEY;
  const verifyMs = options.verifyMs ?? Math.max(50, Math.floor(options.retryMs / 2));
  const listeners = new Set<(leader: boolean) => void>();
  let client: pg.Client | undefined;
  let pid: number | undefined;
  let leader = false;
  let verifiedAt = Number.NEGATIVE_INFINITY;
  let running = false;
  let timer: NodeJS.Timeout | undefined;
  let busy: Promise<void> | undefined;

  function set(value: boolean, why: string): void {
    if (leader === value) return;
    leader = value;
    if (value) log.info({ node: options.node }, 'this node is the leader');
    else log.warn({ node: options.node, why }, 'this node is no longer the leader');
    for (const l of listeners) {
      try {
        l(value);
      } catch (err) {
        log.error({ err }, 'a leadership listener failed');
      }
    }
  }

  function schedule(ms: number): void {
    if (!running) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => void step(), ms);
    timer.unref();
  }

  /** Drops the dedicated connection (the server releases the lock with it). */
  function drop(why: string): void {
    const c = client;
    client = undefined;
    pid = undefined;
    set(false, why);
    if (c) {
      c.removeAllListeners('end');
      c.end().catch(() => undefined);
    }
  }

  async function connect(): Promise<pg.Client> {
    const c = new (pgLib().Client)({
      connectionString: options.url,
      application_name: `powerwatch:${options.node}:leader`,
    });
    // attached before connect: a connection error is an event, not only a rejected promise
    c.on('error', (err: Error) => {
      if (client !== c) return;
      log.warn({ err }, 'the leader lease connection failed');
      drop('connection error');
      schedule(options.retryMs);
    });
    c.on('end', () => {
      if (client !== c) return;
      drop('connection ended');
      schedule(options.retryMs);
    });
    client = c;
    try {
      await c.connect();
    } catch (err) {
      if (client === c) client = undefined;
      c.removeAllListeners();
      c.on('error', () => undefined);
      await c.end().catch(() => undefined);
      throw err;
    }
    const r = await c.query<{ pid: number }>('select pg_backend_pid() as pid');
    pid = r.rows[0]!.pid;
    return c;
  }

  async function attempt(): Promise<void> {
    const c = client ?? (await connect());
    if (!leader) {
      const r = await c.query<{ got: boolean }>('select pg_try_advisory_lock($1::int4, $2::int4) as got', [k1, k2]);
      if (!running || client !== c) {
        if (r.rows[0]!.got) drop('stopped');
        return;
      }
      if (r.rows[0]!.got) {
        verifiedAt = now();
        set(true, 'lock taken');
      }
      return;
    }
    // the leader: is the lock still this session's?
    const r = await c.query(
      `select 1 from pg_locks where locktype = 'advisory' and classid = $1::int4::oid and objid = $2::int4::oid
         and objsubid = 2 and pid = pg_backend_pid() and granted`,
      [k1, k2],
    );
    if (client !== c) return;
    if (r.rowCount === 1) verifiedAt = now();
    else drop('lock no longer held');
  }

  function step(): Promise<void> {
    busy ??= (async () => {
      try {
        await attempt();
      } catch (err) {
        log.warn({ err }, 'leader lease check failed');
        drop('check failed');
      } finally {
        busy = undefined;
        schedule(leader ? verifyMs : options.retryMs);
      }
    })();
    return busy;
  }

  return {
    isLeader: () => leader && client !== undefined && now() - verifiedAt <= options.retryMs,
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    backendPid: () => pid,
    async fence(tx) {
      const mine = pid;
      if (!leader || mine === undefined) return false;
      // the once-job transactions of every node in turn: one that starts after a takeover waits for
      // the old leader's to commit, and then reads what it wrote
      await sql`select pg_advisory_xact_lock(${k1}::int4, ${FENCE_LOCK_KEY}::int4)`.execute(tx);
      const held = await sql`
        select 1 from pg_locks where locktype = 'advisory' and classid = ${k1}::int4::oid
          and objid = ${k2}::int4::oid and objsubid = 2 and pid = ${mine} and granted`.execute(tx);
      if (held.rows.length === 1) return true;
      log.warn({ node: options.node }, 'fenced off: the leader lock is no longer this node’s');
      drop('fenced off');
      schedule(options.retryMs);
      return false;
    },
    async start() {
      running = true;
      await step();
    },
    async stop() {
      running = false;
      if (timer) clearTimeout(timer);
      timer = undefined;
      await busy;
      // ending the session releases the lock: another node takes it at its next try
      const c = client;
      client = undefined;
      pid = undefined;
      set(false, 'stopped');
      if (c) {
        c.removeAllListeners('end');
        await c.end().catch(() => undefined);
      }
    },
  };
}
