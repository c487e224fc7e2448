import type { Random } from './random.ts';

/** A point in WGS-84 degrees (the protocol's `position`). */
export interface GeoPoint {
  lat: number;
  lon: number;
}

export interface GpsOptions {
  /** Where the vehicle is based (its service site): every fix is near it. */
  home: GeoPoint;
  /** How far it wanders from home, km (standard deviation of the slow drift). Default 0.2. */
  driftKm?: number;
  /** Never farther from home than this, km. Default 1. */
  maxKm?: number;
  /** How slowly the drift forgets, s (a mean-reverting walk). Default 6 h. */
  driftTimeS?: number;
  /** Receiver noise of each fix, km. Default 0.005 (5 m). */
  jitterKm?: number;
}

const KM_PER_DEG_LAT = 111.32;
const round5 = (x: number) => Math.round(x * 1e5) / 1e5;

/**
 * The gateway's GPS receiver: a fixed home with a small drift around it — a mean-reverting random
 * walk over time (how far the vehicle stands from its usual spot, re-parked, moved on site) plus
 * receiver noise per fix, never farther than `maxKm`. Its own random stream: the fixes do not
 * disturb the power system's physics or noise.
 */
export function createGps(options: GpsOptions, random: Random) {
  const sd = options.driftKm ?? 0.2;
  const maxKm = options.maxKm ?? 1;
  const tau = options.driftTimeS ?? 6 * 3600;
  const jitter = options.jitterKm ?? 0.005;
  const home = options.home;
  const kmPerDegLon = KM_PER_DEG_LAT * Math.cos((home.lat * Math.PI) / 180);
  // start somewhere in the stationary spread
  let north = random.normal() * sd;
  let east = random.normal() * sd;
  let lastTs: number | null = null;

  const clamp = () => {
    const d = Math.hypot(north, east);
    const limit = maxKm - jitter * 4;
    if (d > limit) {
      north *= limit / d;
      east *= limit / d;
    }
  };
  clamp();

  return {
    home,
    /** The fix at `ts` (epoch ms), rounded to 5 decimals (about 1 m). */
    fix(ts: number): GeoPoint {
      if (lastTs !== null && ts > lastTs) {
        const decay = Math.exp(-(ts - lastTs) / 1000 / tau);
        const step = sd * Math.sqrt(1 - decay * decay);
        north = north * decay + step * random.normal();
        east = east * decay + step * random.normal();
        clamp();
      }
      if (lastTs === null || ts > lastTs) lastTs = ts;
      const n = north + Math.max(-4, Math.min(4, random.normal())) * jitter;
      const e = east + Math.max(-4, Math.min(4, random.normal())) * jitter;
      return { lat: round5(home.lat + n / KM_PER_DEG_LAT), lon: round5(home.lon + e / kmPerDegLon) };
    },
  };
}
