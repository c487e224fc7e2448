import type { Random } from './random.ts';

const DAY_MS = 86_400_000;

/** Local hour of day (0–24) at `ts` for a UTC offset in hours. */
export function localHour(ts: number, utcOffsetH: number): number {
  const h = ((ts + utcOffsetH * 3_600_000) % DAY_MS) / 3_600_000;
  return h < 0 ? h + 24 : h;
}

/**
 * The vehicle's AC load over the day: a base load shaped by the hour (night ≈ 60 %, afternoon peak),
 * a slow random wander, and a cooling compressor that cycles more often when it is hot.
 */
export function createLoadProfile(
  options: { baseKw: number; maxKw: number; compressorKw: number; utcOffsetH: number },
  rng: Random,
) {
  let wander = 0;
  let compressorOn = false;
  let compressorS = rng.range(0, 600);
  return {
    /** kW demanded at `ts` after stepping `dtS`; `ambientC` drives the compressor's duty. */
    step(ts: number, dtS: number, ambientC: number): number {
      const h = localHour(ts, options.utcOffsetH);
      const shape = 0.8 + 0.25 * Math.cos((2 * Math.PI * (h - 14)) / 24) + (h > 8 && h < 18 ? 0.1 : 0);
      wander += (-wander / 7200) * dtS + 0.01 * Math.sqrt(dtS) * rng.normal();
      wander = Math.max(-0.3, Math.min(0.3, wander));
      compressorS -= dtS;
      if (compressorS <= 0) {
        const duty = Math.max(0.1, Math.min(0.9, (ambientC - 10) / 25));
        compressorOn = !compressorOn;
        compressorS = (compressorOn ? duty : 1 - duty) * rng.range(900, 1500);
      }
      const kw = options.baseKw * shape * (1 + wander) + (compressorOn ? options.compressorKw : 0);
      return Math.max(0.05, Math.min(options.maxKw, kw));
    },
  };
}

/** Outdoor temperature: a daily swing around a seasonal mean with slow weather changes. */
export function createClimate(options: { meanC: number; swingC: number; utcOffsetH: number }, rng: Random) {
  let weather = 0;
  return {
    step(ts: number, dtS: number): number {
      weather += (-weather / 86_400) * dtS + 0.02 * Math.sqrt(dtS) * rng.normal();
      weather = Math.max(-8, Math.min(8, weather));
      const h = localHour(ts, options.utcOffsetH);
      return options.meanC + weather + options.swingC * Math.cos((2 * Math.PI * (h - 15)) / 24);
    },
  };
}
