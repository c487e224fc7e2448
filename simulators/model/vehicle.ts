import {
  DEFAULT_POWER_PROFILE,
  NUMERIC_FIELDS,
  type NumericFieldPath,
  type PowerProfile,
  type PowerSource,
  type TelemetryFrame,
  type VehicleEvent,
} from '../../protocol/index.ts';
import { createBattery, type BatteryConditions } from './battery.ts';
import { createChassisEngine } from './chassis-engine.ts';
import { emptyLedger, type EnergyLedger } from './energy-ledger.ts';
import { noFaults, type FaultControls, type FaultEffects, type ModelFault } from './faults.ts';
import { createGenerator, type GeneratorTrip } from './generator.ts';
import { createGps, type GeoPoint } from './gps.ts';
import { createClimate, createLoadProfile } from './load-profile.ts';
import { createMains } from './mains.ts';
import { createRandom, type Random } from './random.ts';
import { createTransferSwitch, type SourceMode } from './transfer-switch.ts';

export interface VehicleModelOptions {
  vehicleId: string;
  profile?: PowerProfile;
  /** Same seed, same vehicle id and same calls: same frames. */
  seed: number | string;
  /** Simulated start time, epoch ms. */
  startTs: number;
  /** Physics step, seconds (fixed grid; sampling never changes the physics). Default 1. */
  stepS?: number;
  /** Mains loss → generator start request. Default 10 s. */
  generatorStartDelayS?: number;
  /** Mains back and stable → load returns to mains. Default 30 s. */
  mainsReturnDelayS?: number;
  /** Unloaded run before the generator stops. Default 180 s. */
  cooldownS?: number;
  /** Grid outages that happen by themselves (not fault scenarios). Default 0.3 a day; 0 for none. */
  mainsOutagesPerDay?: number;
  /** Chance of a drive (engine on, mains unplugged) per day. Default 0.2; 0 for none. */
  drivesPerDay?: number;
  /** Local time zone of the vehicle, hours from UTC. Default 8. */
  utcOffsetH?: number;
  /** Refuel the generator this long after fuel fell below 25 % with the set stopped. Default 4 h; 0 never. */
  refuelAfterS?: number;
  initialSocPct?: number;
  /** First seq of the frames. Default 0. */
  firstSeq?: number;
  faults?: ModelFault[];
  /**
   * Where the vehicle is based: its frames then carry the gateway's GPS `position`, near home with a
   * small drift (gps.ts). Without it the frames have no position (a gateway without a fix).
   */
  home?: GeoPoint;
}

/** Everything a gateway controller can see and do, plus internals for tests. */
export interface VehicleState {
  ts: number;
  source: PowerSource;
  mode: SourceMode;
  mainsPresent: boolean;
  hasGenerator: boolean;
  generatorPhase: string;
  generatorRunning: boolean;
  generatorReady: boolean;
  generatorTrip: GeneratorTrip | null;
  fuelPct: number;
  coolantC: number;
  socPct: number;
  batteryV: number;
  batteryA: number;
  batteryTempC: number;
  engineRunning: boolean;
  loadKw: number;
  demandKw: number;
  inverterCutoff: boolean;
  activeFaults: string[];
}

const PF = 0.95;
const CHARGER_EFF = 0.9;
const INVERTER_EFF = 0.92;

const RANGES = new Map<string, { min: number; max: number }>(
  NUMERIC_FIELDS.map((f) => [f.path, { min: f.min, max: f.max }]),
);

function clampField(path: NumericFieldPath, v: number, decimals: number): number {
  const r = RANGES.get(path)!;
  const m = 10 ** decimals;
  return Math.round(Math.min(r.max, Math.max(r.min, v)) * m) / m;
}

/**
 * One vehicle's power system (供配电系统): mains, generator set, battery with inverter and charger,
 * chassis engine with alternator, a daily load. It steps on a fixed grid of simulated time and is
 * fully deterministic from its seed.
 */
export function createVehicleModel(options: VehicleModelOptions) {
  const profile = options.profile ?? DEFAULT_POWER_PROFILE;
  const stepS = options.stepS ?? 1;
  const stepMs = Math.round(stepS * 1000);
  const utcOffsetH = options.utcOffsetH ?? 8;
  const root: Random = createRandom(`${options.seed}:${options.vehicleId}`);
  const build = root.fork('build');
  const noise = root.fork('noise');
  const nominalV = profile.battery.nominalV;
  const blocks = nominalV / 12;

  // The vehicle as built, drawn once from the seed.
  const generatorKw = build.pick([8, 10, 12, 15]);
  const inverterKw = nominalV === 24 ? 5 : 3;
  const maxLoadKw = Math.min(inverterKw * 0.9, profile.hasGenerator ? generatorKw * 0.7 : inverterKw * 0.9);
  const baseKw = maxLoadKw * build.range(0.3, 0.45);
  const dcLoadW = build.range(40, 120) * blocks;
  const chargerMaxA = 0.15 * profile.battery.capacityAh;
  const climate = createClimate(
    { meanC: build.range(5, 28), swingC: build.range(3, 8), utcOffsetH },
    root.fork('climate'),
  );
  const load = createLoadProfile(
    { baseKw, maxKw: maxLoadKw, compressorKw: maxLoadKw * 0.25, utcOffsetH },
    root.fork('load'),
  );
  const mains = createMains(
    {
      nominalV: profile.mains.nominalV,
      frequencyHz: profile.mains.frequencyHz,
      outagesPerDay: options.mainsOutagesPerDay ?? 0.3,
    },
    root.fork('mains'),
  );
  const startAmbient = climate.step(options.startTs, 0);
  const battery = createBattery({
    nominalV,
    capacityAh: profile.battery.capacityAh,
    initialSocPct: options.initialSocPct ?? build.range(85, 100),
    initialTempC: startAmbient,
  });
  const generator = profile.hasGenerator
    ? createGenerator(
        {
          ratedKw: generatorKw,
          nominalV: profile.mains.nominalV,
          frequencyHz: profile.mains.frequencyHz,
          tankL: generatorKw * 8,
          initialFuelPct: build.range(60, 100),
          ambientC: startAmbient,
          cooldownS: options.cooldownS ?? 180,
        },
        root.fork('generator'),
      )
    : null;
  const engine = createChassisEngine(
    { nominalV, drivesPerDay: options.drivesPerDay ?? 0.2, utcOffsetH, emergencyStartDelayS: 300 },
    root.fork('engine'),
  );
  const ats = createTransferSwitch({
    generatorStartDelayS: options.generatorStartDelayS ?? 10,
    mainsReturnDelayS: options.mainsReturnDelayS ?? 30,
  });
  const refuelAfterS = options.refuelAfterS ?? 4 * 3600;

  const faults: ModelFault[] = [...(options.faults ?? [])];
  const started = new Set<string>();
  let fx: FaultEffects = noFaults();
  const ledger: EnergyLedger = emptyLedger();
  const events: VehicleEvent[] = [];
  const stuckValues = new Map<NumericFieldPath, number>();

  let t = options.startTs;
  const gps = options.home ? createGps({ home: options.home }, root.fork('gps')) : null;
  let nextSeq = options.firstSeq ?? 0;
  let ambientC = startAmbient;
  let demandKw = 0;
  let servedKw = 0;
  let generatorKwOut = 0;
  let inverterCutoff = false;
  let manualRun = false;
  let lowFuelS = 0;
  let lastSource: PowerSource = 'mains';
  let lastMainsPresent = true;
  let lowSocWarned = false;
  // electrical solution of the last step, for frames
  const el = { busV: battery.state.voltageV, batteryA: 0, chargerA: 0, alternatorA: 0, sourceA: 0 };

  const controls: FaultControls = {
    setFuelPct: (p) => generator?.setFuelPct(Math.min(generator.state.fuelPct, p)),
    fuelPct: () => generator?.state.fuelPct ?? 0,
  };

  const conditions: BatteryConditions = { capacityFactor: 1, resistanceFactor: 1, heatRiseC: 0, ambientC };

  function event(code: string, severity: VehicleEvent['severity'], message: string) {
    if (events.length < 1000) events.push({ ts: t, code, severity, message });
  }

  function foldFaults() {
    if (faults.length === 0) {
      if (started.size) started.clear();
      return;
    }
    const next = noFaults();
    for (const f of faults) {
      const active = f.startTs <= t && (f.endTs === null || t < f.endTs);
      if (!active) {
        if (started.has(f.id)) {
          started.delete(f.id);
          event('FAULT_CLEARED', 'info', `${f.name} ended`);
        }
        continue;
      }
      if (!started.has(f.id)) {
        started.add(f.id);
        f.onStart?.(controls);
      }
      f.apply(next, (t - f.startTs) / 1000);
    }
    for (const k of fx.stuck.keys()) if (!next.stuck.has(k)) stuckValues.delete(k);
    fx = next;
  }

  function step() {
    t += stepMs;
    const dt = stepS;
    ambientC = climate.step(t, dt);
    demandKw = load.step(t, dt, ambientC);
    foldFaults();
    conditions.capacityFactor = fx.batteryCapacityFactor;
    conditions.resistanceFactor = fx.batteryResistanceFactor;
    conditions.heatRiseC = fx.batteryHeatRiseC;
    conditions.ambientC = ambientC;

    mains.step(dt, fx.mainsCut || engine.state.driving);
    const mainsPresent = mains.state.present;
    if (mainsPresent !== lastMainsPresent) {
      event(
        mainsPresent ? 'MAINS_RESTORED' : 'MAINS_LOST',
        mainsPresent ? 'info' : 'minor',
        mainsPresent ? 'mains power restored' : 'mains power lost',
      );
      lastMainsPresent = mainsPresent;
    }
    engine.step(t, dt, {
      socPct: battery.state.socPct,
      acSourceAvailable: lastSource === 'mains' || lastSource === 'generator',
      forcedOn: fx.engineForcedOn,
    });

    // Inverter low-voltage cut-off with hysteresis.
    if (!inverterCutoff && (battery.state.socPct <= 3 || (el.batteryA < 0 && el.busV < 10.5 * blocks))) {
      inverterCutoff = true;
      event(
        'INVERTER_LOW_VOLTAGE_CUTOFF',
        'critical',
        `battery ${battery.state.socPct.toFixed(0)} %: inverter cut off, load shed`,
      );
    } else if (inverterCutoff && battery.state.socPct >= 20) inverterCutoff = false;

    const inputs = {
      mainsPresent,
      hasGenerator: !!generator,
      generatorAvailable: !!generator && generator.available(),
      generatorReady: !!generator && generator.isReady(),
      batteryAvailable: !inverterCutoff,
    };
    const { wantGenerator } = ats.control(dt, inputs);
    if (generator) {
      const want = wantGenerator || manualRun || ats.state.mode === 'generator';
      if (want && generator.available()) generator.requestStart();
      else if (!want && generator.state.wanted) generator.requestStop();
      generator.step(dt, generatorKwOut, ambientC, {
        startFails: fx.generatorStartFails,
        coolingLossC: fx.coolingLossC,
        oilFactor: fx.oilFactor,
        voltageOffsetV: fx.generatorVoltageOffsetV,
        frequencyOffsetHz: fx.generatorFrequencyOffsetHz,
        fuelLeakPctPerH: fx.fuelLeakPctPerH,
      });
      for (const e of generator.drainEvents()) event(e.code, e.severity, e.message);
      if (!generator.available()) manualRun = false;
      // The crew refuels a stopped set some hours after its fuel ran low.
      if (generator.state.fuelPct < 25 && !generator.isRunning() && refuelAfterS > 0 && !fx.refuelBlocked) {
        lowFuelS += dt;
        if (lowFuelS >= refuelAfterS) {
          generator.refuel();
          lowFuelS = 0;
          event('GEN_REFUELLED', 'info', 'generator refuelled');
        }
      } else lowFuelS = 0;
      inputs.generatorAvailable = generator.available();
      inputs.generatorReady = generator.isReady();
    }
    const before = ats.state.mode;
    const source = ats.select(inputs);
    if (ats.state.overrideCancelled)
      event('ATS_OVERRIDE_CANCELLED', 'minor', `forced source ${before} no longer available; back to automatic`);
    if (source !== lastSource) {
      event(
        'SOURCE_CHANGED',
        source === 'none' ? 'critical' : 'info',
        `load transferred from ${lastSource} to ${source}`,
      );
      lastSource = source;
    }
    solve(dt, source);

    if (!lowSocWarned && battery.state.socPct < 20) {
      lowSocWarned = true;
      event('BATTERY_LOW', 'major', `battery state of charge ${battery.state.socPct.toFixed(0)} %`);
    } else if (lowSocWarned && battery.state.socPct > 40) lowSocWarned = false;
  }

  /** Electrical flows of one step on the AC and DC buses, and the battery integration. */
  function solve(dt: number, source: PowerSource) {
    const acOn = source === 'mains' || source === 'generator';
    servedKw = source === 'none' ? 0 : demandKw;
    const inverterInW = source === 'battery' ? (servedKw * 1000) / INVERTER_EFF : 0;
    const lowVoltageDisconnect =
      battery.state.socPct <= 0.5 && !acOn && !(engine.state.running && !fx.alternatorFailed);
    const dcW = lowVoltageDisconnect ? 0 : dcLoadW;
    const chargerOk = acOn && battery.state.tempC < 50;
    const altOk = engine.state.running && !fx.alternatorFailed;
    const chargerSetV = (battery.state.socPct > 98 ? 13.6 : 14.4) * blocks;
    const altSetV = fx.regulatorV ?? engine.regulatedV;
    const supplyA = (chargerOk ? chargerMaxA : 0) + (altOk ? engine.state.maxCurrentA : 0);
    const setV = Math.max(chargerOk ? chargerSetV : 0, altOk ? altSetV : 0);

    let busV = el.busV > 0 ? el.busV : battery.ocv();
    let batteryA = 0;
    let gasA = 0;
    let terminalV: number | null = null;
    let supplyLimited = false;
    for (let iter = 0; iter < 3; iter++) {
      const demandA = (dcW + inverterInW) / busV;
      if (supplyA > 0) {
        const want = battery.chargeCurrentAt(setV, conditions);
        if (demandA + want.totalA <= supplyA) {
          batteryA = want.totalA;
          gasA = want.gasA;
          busV = setV;
          supplyLimited = false;
        } else {
          supplyLimited = true;
          batteryA = supplyA - demandA;
          if (batteryA > 0) {
            const cv = battery.chargeVoltage(batteryA, setV, conditions);
            busV = cv.volts;
            gasA = cv.gasA;
          } else {
            gasA = 0;
            busV = battery.ocv() + batteryA * battery.resistance(conditions);
          }
        }
      } else {
        const i = battery.currentForPower(dcW + inverterInW, conditions);
        batteryA = i === null ? -battery.ocv() / (2 * battery.resistance(conditions)) : -i;
        gasA = 0;
        busV = battery.ocv() + batteryA * battery.resistance(conditions);
      }
    }
    terminalV = busV;
    // The sources are saturated: what they give beyond the bus demand (at the final bus voltage) is the battery's.
    if (supplyLimited) batteryA = supplyA - (dcW + inverterInW) / busV;
    // Who supplied the DC bus: the alternator first (the engine runs anyway), then the charger.
    const dcDemandA = (dcW + inverterInW) / busV;
    const needA = Math.max(0, dcDemandA + batteryA);
    const alternatorA = altOk ? Math.min(engine.state.maxCurrentA, needA) : 0;
    const chargerA = chargerOk ? Math.max(0, needA - alternatorA) : 0;
    // AC side
    const chargerInW = (chargerA * busV) / CHARGER_EFF;
    const acW = acOn ? servedKw * 1000 + chargerInW : 0;
    const acV =
      source === 'mains' ? mains.state.voltageV : source === 'generator' && generator ? generator.state.voltageV : 0;
    el.sourceA = acOn && acV > 0 ? acW / (acV * PF) : 0;
    generatorKwOut = source === 'generator' ? acW / 1000 : 0;

    const b = battery.step(dt, batteryA, gasA, conditions, terminalV);
    el.busV = busV;
    el.batteryA = batteryA;
    el.chargerA = chargerA;
    el.alternatorA = alternatorA;

    const h = dt / 3600;
    if (source === 'mains') ledger.mainsWh += acW * h;
    if (source === 'generator') ledger.generatorWh += acW * h;
    ledger.loadWh += servedKw * 1000 * h;
    ledger.unservedWh += (demandKw - servedKw) * 1000 * h;
    ledger.chargerInWh += chargerInW * h;
    ledger.chargerOutWh += chargerA * busV * h;
    ledger.alternatorWh += alternatorA * busV * h;
    ledger.dcLoadWh += (dcDemandA * busV - inverterInW) * h;
    ledger.inverterInWh += inverterInW * h;
    ledger.batteryTerminalWh += b.terminalWh;
    ledger.batteryStoredWh += b.storedWh;
    ledger.batteryLossWh += b.lossWh;
    ledger.gassedAh += b.gassedAh;
    ledger.batteryAh += (batteryA * dt) / 3600;
  }

  function reading(path: NumericFieldPath, value: number, decimals: number): number {
    const stuck = fx.stuck.get(path);
    if (stuck !== undefined) {
      if (stuck !== null) return clampField(path, stuck, decimals);
      const held = stuckValues.get(path);
      if (held !== undefined) return held;
      const v = clampField(path, value, decimals);
      stuckValues.set(path, v);
      return v;
    }
    return clampField(path, value, decimals);
  }

  const n = (sd: number) => noise.normal() * sd;

  /** The names of the faults active at the model's time. */
  function activeFaultNames(): string[] {
    const names: string[] = [];
    for (const f of faults) if (f.startTs <= t && (f.endTs === null || t < f.endTs)) names.push(f.name);
    return names;
  }

  return {
    vehicleId: options.vehicleId,
    profile,
    stepMs,
    /** The vehicle as built (drawn from the seed). */
    build: { generatorKw: profile.hasGenerator ? generatorKw : 0, inverterKw, baseKw, maxLoadKw, dcLoadW, chargerMaxA },
    now: () => t,
    /** Steps the physics on its fixed grid up to `ts` (a sample between grid points sees the last one). */
    advanceTo(ts: number): void {
      while (t + stepMs <= ts) step();
    },
    get nextSeq() {
      return nextSeq;
    },
    set nextSeq(v: number) {
      nextSeq = v;
    },
    /** A protocol frame of the current state stamped `ts` (≥ the model time), with the next seq. */
    sample(ts: number = t): TelemetryFrame {
      const source = ats.state.source;
      const g = generator?.state;
      const running = !!generator && generator.isRunning();
      const frame: TelemetryFrame = {
        v: 1,
        seq: nextSeq++,
        ts,
        source,
        mains: {
          present: mains.state.present,
          voltageV: reading('mains.voltageV', mains.state.present ? mains.state.voltageV + n(0.6) : 0, 1),
          frequencyHz: reading('mains.frequencyHz', mains.state.present ? mains.state.frequencyHz + n(0.01) : 0, 2),
          currentA: reading('mains.currentA', source === 'mains' ? el.sourceA * (1 + n(0.005)) : 0, 1),
        },
        battery: {
          voltageV: reading('battery.voltageV', el.busV + n(0.01 * blocks), 2),
          currentA: reading('battery.currentA', el.batteryA + (el.batteryA === 0 ? 0 : n(0.1)), 1),
          socPct: reading('battery.socPct', battery.state.socPct, 1),
          tempC: reading('battery.tempC', battery.state.tempC + n(0.05), 1),
        },
        charging: {
          engineRunning: engine.state.running,
          alternatorV: reading(
            'charging.alternatorV',
            engine.state.running && !fx.alternatorFailed ? el.busV + 0.1 * blocks + n(0.02) : 0,
            2,
          ),
          currentA: reading('charging.currentA', el.alternatorA > 0 ? el.alternatorA * (1 + n(0.01)) : 0, 1),
        },
        loadKw: reading('loadKw', servedKw > 0 ? servedKw * (1 + n(0.005)) : 0, 2),
      };
      if (gps) frame.position = gps.fix(ts);
      if (generator && g) {
        frame.generator = {
          running,
          voltageV: reading('generator.voltageV', running ? g.voltageV + n(0.3) : 0, 1),
          frequencyHz: reading('generator.frequencyHz', running ? g.frequencyHz + n(0.02) : 0, 2),
          currentA: reading('generator.currentA', source === 'generator' ? el.sourceA * (1 + n(0.005)) : 0, 1),
          rpm: reading('generator.rpm', g.rpm > 0 ? g.rpm + n(2) : 0, 0),
          fuelPct: reading('generator.fuelPct', g.fuelPct, 1),
          coolantC: reading('generator.coolantC', g.coolantC + n(0.2), 1),
          oilKpa: reading('generator.oilKpa', g.oilKpa > 1 ? g.oilKpa + n(3) : 0, 0),
        };
      }
      return frame;
    },
    state(): VehicleState {
      return {
        ts: t,
        source: ats.state.source,
        mode: ats.state.mode,
        mainsPresent: mains.state.present,
        hasGenerator: !!generator,
        generatorPhase: generator?.state.phase ?? 'absent',
        generatorRunning: !!generator && generator.isRunning(),
        generatorReady: !!generator && generator.isReady(),
        generatorTrip: generator?.state.trip ?? null,
        fuelPct: generator?.state.fuelPct ?? 0,
        coolantC: generator?.state.coolantC ?? ambientC,
        socPct: battery.state.socPct,
        batteryV: el.busV,
        batteryA: el.batteryA,
        batteryTempC: battery.state.tempC,
        engineRunning: engine.state.running,
        loadKw: servedKw,
        demandKw,
        inverterCutoff,
        activeFaults: activeFaultNames(),
      };
    },
    /** The names of the faults active now (`state().activeFaults`, without building the rest of the state). */
    activeFaults: (): string[] => activeFaultNames(),
    ledger: (): Readonly<EnergyLedger> => ledger,
    /** Controller events (fault codes) since the last call, oldest first. */
    drainEvents(): VehicleEvent[] {
      return events.splice(0, events.length);
    },
    addFault(fault: ModelFault): void {
      faults.push(fault);
    },
    /** Ends a fault now (e.g. a reset); returns whether it was there. */
    endFault(id: string): boolean {
      const f = faults.find((x) => x.id === id);
      if (!f) return false;
      f.endTs = Math.min(f.endTs ?? Infinity, t);
      return true;
    },
    faults: (): readonly ModelFault[] => faults,
    // Operator controls, used by the gateway's command handlers (which check safety first).
    startGenerator(): void {
      manualRun = true;
      generator?.requestStart();
    },
    stopGenerator(): void {
      manualRun = false;
      if (ats.state.mode === 'generator') ats.setMode('auto');
      ats.state.autoStart = false;
      generator?.requestStop();
    },
    setSourceMode(mode: SourceMode): void {
      ats.setMode(mode);
    },
    resetGenerator() {
      return generator ? generator.reset() : ({ ok: false, reason: 'vehicle has no generator' } as const);
    },
  };
}

export type VehicleModel = ReturnType<typeof createVehicleModel>;
