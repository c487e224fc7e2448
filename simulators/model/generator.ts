import type { Random } from './random.ts';

/**
 * The generator set (发电机组) and its controller: start sequence with crank attempts, warm-up,
 * load, cool-down run and stop; fuel use proportional to load; coolant temperature and oil
 * pressure dynamics; voltage and frequency regulation with noise; protective shutdowns that latch
 * until a reset.
 */
export type GeneratorPhase = 'stopped' | 'cranking' | 'resting' | 'warmup' | 'running' | 'cooldown' | 'tripped';

/** Latched controller faults; a reset clears them once their cause is gone. */
export type GeneratorTrip =
  | 'GEN_START_FAIL'
  | 'GEN_OVERHEAT_SHUTDOWN'
  | 'GEN_LOW_OIL_SHUTDOWN'
  | 'GEN_OVERSPEED_SHUTDOWN'
  | 'GEN_VOLTAGE_SHUTDOWN';

export interface GeneratorOptions {
  ratedKw: number;
  nominalV: number;
  frequencyHz: 50 | 60;
  tankL: number;
  initialFuelPct: number;
  ambientC: number;
  cooldownS: number;
  warmupS?: number;
  crankS?: number;
  restS?: number;
  crankAttempts?: number;
}

/** Fault inputs the controller cannot see directly. */
export interface GeneratorFaultInputs {
  startFails: boolean;
  /** Extra °C on the coolant's regulated temperature (failing cooling). */
  coolingLossC: number;
  /** Multiplier on oil pressure (1 = healthy). */
  oilFactor: number;
  voltageOffsetV: number;
  frequencyOffsetHz: number;
  fuelLeakPctPerH: number;
}

export interface GeneratorEvent {
  code: string;
  severity: 'info' | 'minor' | 'major' | 'critical';
  message: string;
}

export const COOLANT_WARN_C = 105;
export const COOLANT_TRIP_C = 110;
export const OIL_TRIP_KPA = 100;
export const OIL_WARN_KPA = 150;

export function createGenerator(options: GeneratorOptions, rng: Random) {
  const warmupS = options.warmupS ?? 15;
  const crankS = options.crankS ?? 4;
  const restS = options.restS ?? 6;
  const attempts = options.crankAttempts ?? 3;
  const nominalRpm = options.frequencyHz * 30; // 4-pole alternator
  const s = {
    phase: 'stopped' as GeneratorPhase,
    phaseS: 0,
    attempt: 0,
    trip: null as GeneratorTrip | null,
    fuelPct: options.initialFuelPct,
    coolantC: options.ambientC,
    oilKpa: 0,
    rpm: 0,
    voltageV: 0,
    frequencyHz: 0,
    /** A start has been asked for (auto or manual) and not withdrawn. */
    wanted: false,
    lowOilS: 0,
    offBandS: 0,
    coolantWarned: false,
    fuelWarned: false,
    avrNoise: 0,
    govNoise: 0,
  };
  const events: GeneratorEvent[] = [];

  const isRunning = () => s.phase === 'warmup' || s.phase === 'running' || s.phase === 'cooldown';

  function setPhase(p: GeneratorPhase) {
    s.phase = p;
    s.phaseS = 0;
  }

  function trip(code: GeneratorTrip, message: string) {
    s.trip = code;
    s.wanted = false;
    setPhase('tripped');
    events.push({ code, severity: 'critical', message });
  }

  return {
    state: s,
    ratedKw: options.ratedKw,
    nominalV: options.nominalV,
    nominalHz: options.frequencyHz,
    isRunning,
    /** Running, warmed up and able to take the load. */
    isReady: () => s.phase === 'running',
    available: () => s.trip === null && s.fuelPct > 0,
    drainEvents(): GeneratorEvent[] {
      return events.splice(0, events.length);
    },
    requestStart(): void {
      if (s.trip || s.fuelPct <= 0) return;
      s.wanted = true;
      if (s.phase === 'stopped') {
        s.attempt = 1;
        setPhase('cranking');
      } else if (s.phase === 'cooldown') setPhase('running');
    },
    requestStop(): void {
      s.wanted = false;
      if (s.phase === 'running' || s.phase === 'warmup') setPhase('cooldown');
      else if (s.phase === 'cranking' || s.phase === 'resting') setPhase('stopped');
    },
    /** Clears a latched trip; returns why it cannot when its cause persists. */
    reset(): { ok: true; cleared: GeneratorTrip | null } | { ok: false; reason: string } {
      if (!s.trip) return { ok: true, cleared: null };
      if (s.trip === 'GEN_OVERHEAT_SHUTDOWN' && s.coolantC > 90) {
        return {
          ok: false,
          reason: `coolant is still ${s.coolantC.toFixed(0)} °C; let it cool below 90 °C before resetting`,
        };
      }
      const cleared = s.trip;
      s.trip = null;
      s.coolantWarned = false;
      setPhase('stopped');
      return { ok: true, cleared };
    },
    refuel(): void {
      s.fuelPct = 100;
      s.fuelWarned = false;
    },
    setFuelPct(p: number): void {
      s.fuelPct = Math.max(0, Math.min(100, p));
    },
    /**
     * Advances the controller and the engine by one step. `loadKw` is what the set delivered in the
     * previous step (the vehicle solves this step's electrical flows after the phases moved on).
     */
    step(dtS: number, loadKw: number, ambientC: number, f: GeneratorFaultInputs) {
      s.phaseS += dtS;
      const load = isRunning() ? loadKw : 0;
      const loadFrac = load / options.ratedKw;

      // Start sequence.
      if (s.phase === 'cranking' && s.phaseS >= crankS) {
        if (f.startFails || s.fuelPct <= 0) {
          if (s.attempt >= attempts) trip('GEN_START_FAIL', `generator failed to start after ${attempts} attempts`);
          else setPhase('resting');
        } else setPhase('warmup');
      } else if (s.phase === 'resting' && s.phaseS >= restS) {
        s.attempt++;
        setPhase('cranking');
      } else if (s.phase === 'warmup' && s.phaseS >= warmupS) {
        setPhase('running');
      } else if (s.phase === 'cooldown' && s.phaseS >= options.cooldownS) {
        setPhase('stopped');
      }

      // Fuel: idle share plus a part proportional to load (≈0.25 L/kWh for diesel sets).
      if (isRunning()) {
        const lph = 0.08 * options.ratedKw + 0.25 * load;
        s.fuelPct -= ((lph * dtS) / 3600 / options.tankL) * 100;
      }
      s.fuelPct -= (f.fuelLeakPctPerH * dtS) / 3600;
      if (s.fuelPct <= 0) {
        s.fuelPct = 0;
        if (isRunning()) {
          setPhase('stopped');
          s.wanted = false;
          events.push({ code: 'GEN_OUT_OF_FUEL', severity: 'critical', message: 'generator stopped: out of fuel' });
        }
      } else if (s.fuelPct < 15 && !s.fuelWarned) {
        s.fuelWarned = true;
        events.push({ code: 'GEN_LOW_FUEL', severity: 'major', message: `fuel low (${s.fuelPct.toFixed(0)} %)` });
      }

      // Coolant: thermostat regulates ≈80–88 °C when running; cools to ambient when stopped.
      const run = isRunning();
      const target = run ? 80 + 8 * loadFrac + f.coolingLossC : ambientC;
      const tau = run ? (s.coolantC < target ? 240 : 120) : 1800;
      s.coolantC += (target - s.coolantC) * (1 - Math.exp(-dtS / tau));

      // Speed, voltage and frequency.
      if (run) {
        const spinUp = s.phase === 'warmup' ? Math.min(1, s.phaseS / 3) : 1;
        s.govNoise = 0.9 * s.govNoise + 0.3 * rng.normal();
        s.avrNoise = 0.9 * s.avrNoise + 0.3 * rng.normal();
        s.rpm = spinUp * nominalRpm * (1 - 0.004 * loadFrac) + s.govNoise * 2;
        s.frequencyHz = s.rpm / 30 + spinUp * f.frequencyOffsetHz;
        s.rpm = s.frequencyHz * 30;
        s.voltageV = spinUp * (options.nominalV * (1 - 0.01 * loadFrac) + f.voltageOffsetV) + s.avrNoise * 0.6;
      } else if (s.phase === 'cranking') {
        s.rpm = 180 + rng.normal() * 10;
        s.frequencyHz = 0;
        s.voltageV = 0;
      } else {
        s.rpm = 0;
        s.frequencyHz = 0;
        s.voltageV = 0;
      }
      s.rpm = Math.max(0, s.rpm);
      s.frequencyHz = Math.max(0, s.frequencyHz);
      s.voltageV = Math.max(0, s.voltageV);

      // Oil pressure: rises with speed, higher when the oil is cold.
      const rpmFrac = s.rpm / nominalRpm;
      const cold = Math.min(1, Math.max(0, (85 - s.coolantC) / 60));
      const oilTarget = s.phase === 'cranking' ? 60 : run ? (250 + 150 * rpmFrac + 100 * cold) * f.oilFactor : 0;
      s.oilKpa += (oilTarget - s.oilKpa) * (1 - Math.exp(-dtS / (run ? 3 : 2)));

      // Protections (only while running).
      if (run && s.phase !== 'warmup') {
        if (s.coolantC >= COOLANT_TRIP_C)
          trip('GEN_OVERHEAT_SHUTDOWN', `coolant ${s.coolantC.toFixed(0)} °C ≥ ${COOLANT_TRIP_C} °C`);
        else if (s.coolantC >= COOLANT_WARN_C && !s.coolantWarned) {
          s.coolantWarned = true;
          events.push({ code: 'GEN_COOLANT_HIGH', severity: 'major', message: `coolant ${s.coolantC.toFixed(0)} °C` });
        }
        s.lowOilS = s.oilKpa < OIL_TRIP_KPA ? s.lowOilS + dtS : 0;
        if (s.phase !== 'tripped' && s.lowOilS >= 5)
          trip('GEN_LOW_OIL_SHUTDOWN', `oil pressure ${s.oilKpa.toFixed(0)} kPa < ${OIL_TRIP_KPA} kPa`);
        const vDev = Math.abs(s.voltageV - options.nominalV) / options.nominalV;
        const fDev = Math.abs(s.frequencyHz - options.frequencyHz) / options.frequencyHz;
        s.offBandS = vDev > 0.15 || fDev > 0.08 ? s.offBandS + dtS : 0;
        if (s.phase !== 'tripped' && s.offBandS >= 10) {
          if (fDev > 0.08) trip('GEN_OVERSPEED_SHUTDOWN', `frequency ${s.frequencyHz.toFixed(1)} Hz out of band`);
          else trip('GEN_VOLTAGE_SHUTDOWN', `voltage ${s.voltageV.toFixed(0)} V out of band`);
        }
      } else {
        s.lowOilS = 0;
        s.offBandS = 0;
      }
      if (!isRunning()) {
        if (s.phase !== 'cranking') s.rpm = 0;
        s.voltageV = 0;
        s.frequencyHz = 0;
      }
    },
  };
}

export type Generator = ReturnType<typeof createGenerator>;
