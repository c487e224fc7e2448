import type { NumericFieldPath } from '../../protocol/index.ts';

/**
 * What active faults do to a vehicle, folded into one record each step. Scenarios (simulators/scenarios)
 * translate their parameters into these effects; the model only knows the effects.
 */
export interface FaultEffects {
  mainsCut: boolean;
  generatorStartFails: boolean;
  coolingLossC: number;
  oilFactor: number;
  generatorVoltageOffsetV: number;
  generatorFrequencyOffsetHz: number;
  fuelLeakPctPerH: number;
  refuelBlocked: boolean;
  batteryCapacityFactor: number;
  batteryResistanceFactor: number;
  /** Extra internal heat expressed as the steady rise it causes above ambient, °C. */
  batteryHeatRiseC: number;
  /** The crew keeps the chassis engine running (idling to charge). */
  engineForcedOn: boolean;
  alternatorFailed: boolean;
  /** Alternator output voltage when its regulator fails high, V; null when healthy. */
  regulatorV: number | null;
  /** Sensors that keep reporting one value; a number forces that value, null freezes the last reading. */
  stuck: Map<NumericFieldPath, number | null>;
}

export function noFaults(): FaultEffects {
  return {
    mainsCut: false,
    generatorStartFails: false,
    coolingLossC: 0,
    oilFactor: 1,
    generatorVoltageOffsetV: 0,
    generatorFrequencyOffsetHz: 0,
    fuelLeakPctPerH: 0,
    refuelBlocked: false,
    batteryCapacityFactor: 1,
    batteryResistanceFactor: 1,
    batteryHeatRiseC: 0,
    engineForcedOn: false,
    alternatorFailed: false,
    regulatorV: null,
    stuck: new Map(),
  };
}

/** Levers a fault may pull once when it starts. */
export interface FaultControls {
  setFuelPct(pct: number): void;
  fuelPct(): number;
}

/** One fault scheduled on one vehicle. */
export interface ModelFault {
  /** Unique on the vehicle, e.g. `generator-overheat#2`. */
  id: string;
  /** The scenario's name. */
  name: string;
  startTs: number;
  /** Exclusive; null runs until removed. */
  endTs: number | null;
  /** Adds this fault's effect, `elapsedS` after it started. */
  apply(fx: FaultEffects, elapsedS: number): void;
  onStart?(controls: FaultControls): void;
}

/** Linear ramp from 0 to 1 over `rampS` seconds. */
export function ramp(elapsedS: number, rampS: number): number {
  return rampS <= 0 ? 1 : Math.min(1, Math.max(0, elapsedS / rampS));
}
