import type { PowerProfile, TelemetryFrame } from '../protocol/index.ts';

/**
 * Signals derived from a vehicle's frames (time to empty, whether mains is expected, …): what the
 * rules read as `derived.*` (docs/rules.md), and what the console shows beside the raw values. The
 * public surface of diagnostics for them (the web imports them from here); the rule engine (engine/)
 * uses the same functions.
 */

/** What is remembered of one vehicle between frames, to derive signals (new per vehicle: `newMemory()`). */
export interface VehicleMemory {
  lastMainsPresentTs: number | null;
  mainsLostAt: number | null;
}

export interface Derived {
  timeToEmptyMin: number | null;
  mainsExpected: boolean;
  sinceMainsLostS: number | null;
  batteryCellV: number | null;
}

/** How long mains counts as expected after it was last present. */
export const MAINS_EXPECTED_WINDOW_MS = 24 * 3_600_000;
/** Below this discharge current the battery counts as idle (no time-to-empty). */
const DISCHARGE_THRESHOLD_A = 0.5;

export function newMemory(): VehicleMemory {
  return { lastMainsPresentTs: null, mainsLostAt: null };
}

/** Updates memory with a frame (in event-time order) and derives the signals for it. */
export function derive(frame: TelemetryFrame, profile: PowerProfile, memory: VehicleMemory): Derived {
  const present = frame.mains?.present;
  if (present === true) {
    memory.lastMainsPresentTs = frame.ts;
    memory.mainsLostAt = null;
  } else if (present === false && memory.lastMainsPresentTs !== null && memory.mainsLostAt === null) {
    memory.mainsLostAt = frame.ts;
  }
  const mainsExpected =
    memory.lastMainsPresentTs !== null && frame.ts - memory.lastMainsPresentTs <= MAINS_EXPECTED_WINDOW_MS;
  const soc = frame.battery?.socPct;
  const current = frame.battery?.currentA;
  let timeToEmptyMin: number | null = null;
  if (soc != null && current != null && current < -DISCHARGE_THRESHOLD_A) {
    timeToEmptyMin = (((soc / 100) * profile.battery.capacityAh) / -current) * 60;
  }
  const v = frame.battery?.voltageV;
  return {
    timeToEmptyMin,
    mainsExpected,
    sinceMainsLostS: memory.mainsLostAt === null || present !== false ? null : (frame.ts - memory.mainsLostAt) / 1000,
    batteryCellV: v == null ? null : v / (profile.battery.nominalV / 2),
  };
}
