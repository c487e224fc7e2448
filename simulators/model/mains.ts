import type { Random } from './random.ts';

/**
 * The mains (市电) connection: present unless the grid fails, the vehicle is unplugged, or a fault
 * scenario cuts it. Voltage and frequency wander a little around nominal.
 */
export function createMains(options: { nominalV: number; frequencyHz: number; outagesPerDay: number }, rng: Random) {
  const s = {
    gridUp: true,
    present: true,
    voltageV: options.nominalV,
    frequencyHz: options.frequencyHz,
    nextChangeS: 0,
    drift: 0,
  };
  const scheduleNext = () => {
    if (options.outagesPerDay <= 0) return Infinity;
    // outages: Poisson arrivals; durations 5 min – 3 h (log-uniform)
    return s.gridUp
      ? rng.exponential(86_400 / options.outagesPerDay)
      : Math.exp(rng.range(Math.log(300), Math.log(10_800)));
  };
  s.nextChangeS = scheduleNext();
  return {
    state: s,
    /** `cut` is true while something outside the grid keeps mains away (fault, vehicle unplugged). */
    step(dtS: number, cut: boolean) {
      s.nextChangeS -= dtS;
      if (s.nextChangeS <= 0) {
        s.gridUp = !s.gridUp;
        s.nextChangeS = scheduleNext();
      }
      s.present = s.gridUp && !cut;
      s.drift += (-s.drift / 1800) * dtS + 0.001 * Math.sqrt(dtS) * rng.normal();
      s.drift = Math.max(-0.025, Math.min(0.025, s.drift));
      s.voltageV = s.present ? options.nominalV * (1 + s.drift) : 0;
      s.frequencyHz = s.present ? options.frequencyHz * (1 + s.drift * 0.01) : 0;
    },
  };
}

export type Mains = ReturnType<typeof createMains>;
