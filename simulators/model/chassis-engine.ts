import type { Random } from './random.ts';
import { localHour } from './load-profile.ts';

/**
 * The chassis engine and its alternator. The engine runs when the vehicle drives (a trip on some
 * days; mains is unplugged meanwhile) and when the crew starts it to charge the battery in an
 * emergency (底盘发动机对电池的应急充电): on battery alone below 35 % SOC, until 70 % or until an AC
 * source returns. The alternator regulates to 14.2 V per 12 V and is current-limited.
 */
export function createChassisEngine(
  options: { nominalV: 12 | 24; drivesPerDay: number; utcOffsetH: number; emergencyStartDelayS: number },
  rng: Random,
) {
  const blocks = options.nominalV / 12;
  const s = {
    running: false,
    driving: false,
    emergency: false,
    /** Seconds until the next drive starts (or, while driving, until it ends). */
    driveS: Infinity,
    lowSocS: 0,
    lastDay: -1,
    regulatorV: 14.2 * blocks,
    maxCurrentA: options.nominalV === 24 ? 80 : 120,
  };
  return {
    state: s,
    regulatedV: 14.2 * blocks,
    step(ts: number, dtS: number, inputs: { socPct: number; acSourceAvailable: boolean; forcedOn?: boolean }) {
      // Driving: at most one trip a day, started in working hours.
      const day = Math.floor((ts + options.utcOffsetH * 3_600_000) / 86_400_000);
      if (day !== s.lastDay) {
        s.lastDay = day;
        if (!s.driving && options.drivesPerDay > 0 && rng.chance(Math.min(1, options.drivesPerDay))) {
          const startH = rng.range(8, 16);
          const h = localHour(ts, options.utcOffsetH);
          s.driveS = startH > h ? (startH - h) * 3600 : Infinity;
        }
      }
      s.driveS -= dtS;
      if (s.driveS <= 0) {
        s.driving = !s.driving;
        s.driveS = s.driving ? rng.range(1800, 7200) : Infinity;
      }
      // Emergency charging by the crew.
      if (!s.emergency && !inputs.acSourceAvailable && inputs.socPct < 35) {
        s.lowSocS += dtS;
        if (s.lowSocS >= options.emergencyStartDelayS) s.emergency = true;
      } else if (s.emergency && (inputs.socPct >= 70 || inputs.acSourceAvailable)) {
        s.emergency = false;
        s.lowSocS = 0;
      } else if (!s.emergency) s.lowSocS = 0;
      s.running = s.driving || s.emergency || !!inputs.forcedOn;
    },
  };
}

export type ChassisEngine = ReturnType<typeof createChassisEngine>;
