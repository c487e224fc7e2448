import { readField, type NumericFieldPath, type PowerProfile, type TelemetryFrame } from '../../protocol/index.ts';
import type { Derived } from '../derived-signals.ts';
import type { FieldRef, ProfileParam, ValueRef } from '../rules/schema.ts';

/** A frame in context: the values rules read. */
export interface SignalContext {
  frame: TelemetryFrame;
  profile: PowerProfile;
  derived: Derived;
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
