/**
 * A lead-acid battery bank (12 V or 24 V from 12 V blocks): state of charge by coulomb counting
 * against capacity, terminal voltage from an open-circuit-voltage curve plus current × internal
 * resistance, charge acceptance that tapers near full, and a lumped thermal model.
 */

/** Rest voltage of one 12 V block against SOC (%), 25 °C. */
const OCV_12V: readonly [number, number][] = [
  [0, 11.8],
  [10, 11.95],
  [20, 12.05],
  [30, 12.15],
  [40, 12.25],
  [50, 12.35],
  [60, 12.45],
  [70, 12.55],
  [80, 12.65],
  [90, 12.75],
  [100, 12.85],
];

export function ocvPer12V(socPct: number, tempC: number): number {
  const s = Math.min(100, Math.max(0, socPct));
  const i = Math.min(OCV_12V.length - 2, Math.floor(s / 10));
  const [s0, v0] = OCV_12V[i]!;
  const [s1, v1] = OCV_12V[i + 1]!;
  const v = v0 + ((v1 - v0) * (s - s0)) / (s1 - s0);
  return v + 0.003 * (tempC - 25);
}

export interface BatteryOptions {
  nominalV: 12 | 24;
  capacityAh: number;
  initialSocPct: number;
  initialTempC: number;
  /** Thermal mass, J/K (lead-acid ≈ 25 kJ/K per 100 Ah at 24 V). */
  heatCapacityJK?: number;
  /** Heat transfer to ambient, W/K. */
  coolingWK?: number;
}

export interface BatteryState {
  socPct: number;
  tempC: number;
  /** Terminal voltage at the last step. */
  voltageV: number;
  /** Positive while charging. */
  currentA: number;
}

export interface BatteryConditions {
  /** 1 for a new battery; capacity fade lowers it. */
  capacityFactor: number;
  resistanceFactor: number;
  /** Extra internal heat (a failing cell), as the steady rise above ambient it causes, °C. */
  heatRiseC: number;
  ambientC: number;
}

/** Volts per 12 V block per e-fold of charge current (how sharply voltage rises with current). */
const TAFEL_V = 0.4;

export function createBattery(options: BatteryOptions) {
  const blocks = options.nominalV / 12;
  const heatCapacity = options.heatCapacityJK ?? 250 * options.capacityAh * blocks;
  const cooling = options.coolingWK ?? 0.1 * options.capacityAh * blocks;
  const state: BatteryState = { socPct: options.initialSocPct, tempC: options.initialTempC, voltageV: 0, currentA: 0 };
  state.voltageV = ocv(state.socPct, state.tempC);

  function ocv(soc: number, temp: number) {
    return ocvPer12V(soc, temp) * blocks;
  }

  /** Internal resistance, Ω: 0.6/Ah per 12 V block, higher when cold and when aged. */
  function resistance(c: BatteryConditions) {
    const cold = 1 + 0.02 * Math.max(0, 25 - state.tempC);
    return (0.6 / options.capacityAh) * blocks * cold * c.resistanceFactor;
  }

  /** Acceptance (A at 14.4 V/block) and gassing scale (A at 13.6 V/block) at this SOC. */
  function chargeTerms(c: BatteryConditions) {
    const cap = options.capacityAh * c.capacityFactor;
    return { acc: cap * Math.pow(Math.max(0, 1 - state.socPct / 100), 1.5), gas: 0.002 * cap };
  }

  return {
    state,
    blocks,
    coolingWK: cooling,
    nominalV: options.nominalV,
    capacityAh: options.capacityAh,
    ocv: () => ocv(state.socPct, state.tempC),
    resistance,
    /** Usable capacity now, Ah. */
    capacity: (c: BatteryConditions) => options.capacityAh * c.capacityFactor,
    /**
     * Charge current the battery takes with `volts` held at its terminals: an acceptance term that
     * tapers to zero at full charge (absorption at 14.4 V per 12 V block) plus a gassing term that
     * grows steeply with voltage (what a full battery still takes; over-charge heats it).
     */
    chargeCurrentAt(volts: number, c: BatteryConditions): { totalA: number; gasA: number } {
      const v = volts / blocks;
      const { acc, gas } = chargeTerms(c);
      const accA = acc * Math.exp((v - 14.4) / TAFEL_V);
      const gasA = gas * Math.exp((v - 13.6) / TAFEL_V);
      return { totalA: accA + gasA, gasA };
    },
    /** Terminal voltage while `currentA` (> 0) flows in, never above `maxV`; and the share lost to gassing. */
    chargeVoltage(currentA: number, maxV: number, c: BatteryConditions): { volts: number; gasA: number } {
      const { acc, gas } = chargeTerms(c);
      const k = acc * Math.exp(-14.4 / TAFEL_V) + gas * Math.exp(-13.6 / TAFEL_V);
      const vTafel = blocks * TAFEL_V * Math.log(currentA / k);
      const volts = Math.min(maxV, Math.max(ocv(state.socPct, state.tempC) + currentA * resistance(c), vTafel));
      const v = volts / blocks;
      const accA = acc * Math.exp((v - 14.4) / TAFEL_V);
      const gasA = gas * Math.exp((v - 13.6) / TAFEL_V);
      return { volts, gasA: currentA * (gasA / (accA + gasA)) };
    },
    /**
     * Discharge current that delivers `powerW` at the terminals: P = (OCV − I·R)·I solved for I.
     * Returns null when the battery cannot deliver that power at all.
     */
    currentForPower(powerW: number, c: BatteryConditions): number | null {
      const e = ocv(state.socPct, state.tempC);
      const r = resistance(c);
      const disc = e * e - 4 * r * powerW;
      if (disc < 0) return null;
      return (e - Math.sqrt(disc)) / (2 * r);
    },
    /**
     * Integrates one step. `currentA` is positive into the battery, `gasA` the part of it that
     * gasses instead of charging. Returns the energy split for
     * the ledger: terminal energy in, chemical energy stored, resistive loss and the charge that
     * could not be stored (gassing at full charge), all over the step.
     */
    step(dtS: number, currentA: number, gasA: number, c: BatteryConditions, terminalV: number | null) {
      const cap = this.capacity(c);
      const r = resistance(c);
      const e = ocv(state.socPct, state.tempC);
      const v = terminalV ?? e + currentA * r;
      let gassedAh = (gasA * dtS) / 3600;
      let dSoc = (((currentA - gasA) * dtS) / 3600 / cap) * 100;
      if (state.socPct + dSoc > 100) {
        gassedAh += ((state.socPct + dSoc - 100) / 100) * cap;
        dSoc = 100 - state.socPct;
      }
      if (state.socPct + dSoc < 0) dSoc = -state.socPct; // callers cut the load before this
      state.socPct += dSoc;
      const terminalWh = (v * currentA * dtS) / 3600;
      const storedWh = (dSoc / 100) * cap * e;
      const lossWh = terminalWh - storedWh;
      // Heat: the loss (I²R, gassing, over-voltage) plus any fault heat, against cooling to ambient.
      const heatW = Math.max(0, (lossWh * 3600) / dtS) + c.heatRiseC * cooling;
      state.tempC += ((heatW - cooling * (state.tempC - c.ambientC)) * dtS) / heatCapacity;
      state.currentA = currentA;
      state.voltageV = v;
      return { terminalWh, storedWh, lossWh, gassedAh };
    },
  };
}

export type Battery = ReturnType<typeof createBattery>;
