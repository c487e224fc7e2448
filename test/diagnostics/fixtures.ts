import { DEFAULT_POWER_PROFILE, type PowerProfile, type TelemetryFrame } from '../../protocol/index.ts';

export const T0 = Date.UTC(2026, 10, 27, 0, 0, 0);
export const PROFILE_24V: PowerProfile = DEFAULT_POWER_PROFILE;
export const PROFILE_12V: PowerProfile = { ...DEFAULT_POWER_PROFILE, battery: { nominalV: 12, capacityAh: 100 } };

type DeepPartial<T> = { [K in keyof T]?: NonNullable<T[K]> extends object ? DeepPartial<NonNullable<T[K]>> : T[K] };

/** A healthy vehicle on mains, with a slight deterministic variation so nothing looks stuck. */
export function healthy(
  seq: number,
  ts: number,
  patch: DeepPartial<TelemetryFrame> = {},
  profile: PowerProfile = PROFILE_24V,
): TelemetryFrame {
  const wiggle = ((seq * 7919) % 13) / 100; // 0 … 0.12
  const nominal = profile.battery.nominalV;
  const base: TelemetryFrame = {
    v: 1,
    seq,
    ts,
    source: 'mains',
    mains: {
      present: true,
      voltageV: profile.mains.nominalV + wiggle,
      frequencyHz: 50 + wiggle / 10,
      currentA: 10 + wiggle,
    },
    generator: {
      running: false,
      voltageV: 0,
      frequencyHz: 0,
      currentA: 0,
      rpm: 0,
      fuelPct: 80,
      coolantC: 25 + wiggle,
      oilKpa: 0,
    },
    battery: { voltageV: nominal * 1.12 + wiggle / 10, currentA: 1 + wiggle, socPct: 95, tempC: 25 + wiggle },
    charging: { engineRunning: false, alternatorV: 0, currentA: 0 },
    loadKw: 2 + wiggle,
  };
  const out = structuredClone(base) as unknown as Record<string, unknown>;
  for (const [k, v] of Object.entries(patch)) {
    if (v && typeof v === 'object') out[k] = { ...(out[k] as object), ...v };
    else out[k] = v;
  }
  return out as unknown as TelemetryFrame;
}

/** Mains gone, generator not running, load on the battery. */
export function onBattery(
  seq: number,
  ts: number,
  socPct: number,
  currentA = -40,
  patch: DeepPartial<TelemetryFrame> = {},
): TelemetryFrame {
  return healthy(seq, ts, {
    source: 'battery',
    mains: { present: false, voltageV: 0, frequencyHz: 0, currentA: 0 },
    battery: { voltageV: 24.6 - (100 - socPct) / 40, currentA, socPct },
    ...patch,
  });
}
