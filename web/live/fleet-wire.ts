/**
 * Reading a `fleet` message (docs/api.md "Live updates") as one list of entries: the changed
 * vehicles' entries as sent, then each `seen` vehicle as `{id, latest: {receivedAt, ts}}`. Import-free
 * besides types, so the browser app, the benches and the tests read the message the same way.
 */
import type { FleetEntry, FleetSeen, FleetSummary, FleetSummaryValues, FleetUpdate } from './events.ts';

/** A `seen` tuple as the entry it stands for. */
export function seenEntry(at: number, [id, receivedAtOffset, tsOffset]: FleetSeen): FleetEntry {
  const receivedAt = at + receivedAtOffset;
  return { id, latest: { receivedAt, ts: receivedAt + tsOffset } };
}

/** Every vehicle of a `fleet` message as an entry (`vehicles`, then `seen`). */
export function fleetEntries(update: FleetUpdate): FleetEntry[] {
  if (!update.seen?.length) return update.vehicles;
  return [...update.vehicles, ...update.seen.map((s) => seenEntry(update.at, s))];
}

type FullSummary = { receivedAt: number; ts: number } & FleetSummaryValues;

/**
 * An entry's summary merged into the one a view holds. Without one held, only a summary that carries
 * all the values stands on its own (a vehicle's first does); otherwise null, and the next read fills it.
 */
export function mergeSummary<T extends FullSummary>(
  held: T | null | undefined,
  s: FleetSummary,
): T | FullSummary | null {
  if (held) return { ...held, ...s };
  const { source, batterySocPct, timeToEmptyMin } = s;
  if (source === undefined || batterySocPct === undefined || timeToEmptyMin === undefined) return null;
  return { receivedAt: s.receivedAt, ts: s.ts, source, batterySocPct, timeToEmptyMin };
}
