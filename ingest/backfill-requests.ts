import { randomBytes } from 'node:crypto';
import { BACKFILL_COMMAND, type Command } from '../protocol/index.ts';
import type { Counters } from '../core/counters.ts';
import type { Logger } from '../core/logger.ts';
import { backfillArgs } from './backfill-rounds.ts';
import type { SeqGap } from './seq-marks.ts';

const BACKFILL_ID_PREFIX = 'bf-';

/** A backfill command sent and not yet answered, for the `owner` (one vehicle's record) and its run of seqs. */
export interface BackfillRequest<Owner> {
  owner: Owner;
  run: number;
  fromSeq: number;
  toSeq: number;
}

/**
 * The backfill commands in flight: sends a round (`bf-…` ids), and hands each answer back once.
 * Ids are unique across platform restarts (a random tag per start, then a counter): a gateway
 * answers an id it has seen from memory, so a restarted platform must never reuse one.
 * A new round for an owner forgets the owner's earlier requests (their answers are ignored).
 */
export function createBackfillRequests<Owner extends { vehicleId: string }>(deps: {
  publish(vehicleId: string, kind: 'commands', payload: Command): Promise<void>;
  log: Logger;
  counters: Counters;
}) {
  const { log, counters } = deps;
  const requests = new Map<string, BackfillRequest<Owner>>();
  const runTag = randomBytes(4).toString('hex');
  let requestNo = 0;
  return {
    /** Is this command id one of ours (`command.ack`)? */
    owns: (id: string) => id.startsWith(BACKFILL_ID_PREFIX),
    /** Sends one request per gap. */
    send(owner: Owner, run: number, gaps: readonly SeqGap[], at: number) {
      const { vehicleId } = owner;
      for (const [id, r] of requests) if (r.owner === owner) requests.delete(id);
      for (const gap of gaps) {
        const id = `${BACKFILL_ID_PREFIX}${runTag}-${(++requestNo).toString(36)}`;
        const args = backfillArgs(gap);
        requests.set(id, { owner, run, fromSeq: gap.from, toSeq: gap.to });
        counters.inc('telemetry.backfill_requests', vehicleId);
        log.info({ vehicleId, ...args }, 'seq gap: backfill requested');
        deps
          .publish(vehicleId, 'commands', { id, ts: at, name: BACKFILL_COMMAND, args: { ...args } })
          .catch((err: unknown) => log.warn({ err, vehicleId }, 'could not send a backfill request'));
      }
    },
    /** The request an answer is for, once (undefined: not ours, answered already, or forgotten). */
    take(id: string): BackfillRequest<Owner> | undefined {
      const req = requests.get(id);
      requests.delete(id);
      return req;
    },
  };
}
