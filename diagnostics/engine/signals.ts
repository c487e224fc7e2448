import { readField, type NumericFieldPath, type PowerProfile, type TelemetryFrame } from '../../protocol/index.ts';
import type { FieldRef, ProfileParam, ValueRef } from '../rules/schema.ts';

/** What the engine remembers of one vehicle between frames, to derive signals. */
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

/** A frame in context: the values rules read. */
export interface SignalContext {
  frame: TelemetryFrame;
  profile: PowerProfile;
  derived: Derived;
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

export type SignalValue = number | boolean | string | null;

export function readSignal(ctx: SignalContext, ref: FieldRef): SignalValue {
  switch (ref) {
    case 'source':
      return ctx.frame.source;
    case 'mains.present':
      return ctx.frame.mains?.present ?? null;
    case 'generator.running':
      return ctx.frame.generator?.running ?? null;
    case 'charging.engineRunning':
      return ctx.frame.charging?.engineRunning ?? null;
    case 'derived.timeToEmptyMin':
      return ctx.derived.timeToEmptyMin;
    case 'derived.mainsExpected':
      return ctx.derived.mainsExpected;
    case 'derived.sinceMainsLostS':
      return ctx.derived.sinceMainsLostS;
    case 'derived.batteryCellV':
      return ctx.derived.batteryCellV;
    default:
      return readField(ctx.frame, ref as NumericFieldPath);
  }
}

function profileParam(profile: PowerProfile, p: ProfileParam): number {
  switch (p) {
    case 'battery.nominalV':
      return profile.battery.nominalV;
    case 'battery.capacityAh':
      return profile.battery.capacityAh;
    case 'mains.nominalV':
      return profile.mains.nominalV;
    case 'mains.frequencyHz':
      return profile.mains.frequencyHz;
  }
}

export function resolveValue(ref: ValueRef, profile: PowerProfile): number | boolean | string {
  if (typeof ref === 'object') return profileParam(profile, ref.profile) * ref.times + ref.plus;
  return ref;
}
