import { z } from 'zod';
import { NUMERIC_FIELD_PATHS, type NumericFieldPath, type PowerProfile } from '../../protocol/index.ts';
import { ramp, type FaultControls, type FaultEffects } from '../model/faults.ts';

/**
 * The named fault scenarios. Each has parameters (validated, with defaults), a default duration,
 * the telemetry signature it produces, the fault a maintainer should expect the platform to find,
 * and the simulated time within which the signature shows (the tests hold each scenario to it).
 * docs/simulators.md is the reader's version of this table.
 */
export const SCENARIO_NAMES = [
  'mains-outage',
  'generator-start-failure',
  'generator-overheat',
  'generator-low-fuel',
  'generator-drift',
  'low-oil-pressure',
  'battery-ageing',
  'battery-over-temperature',
  'alternator-failure',
  'regulator-over-voltage',
  'stuck-sensor',
  'link-loss',
  'gateway-reboot',
] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

export interface VehicleEffect {
  apply(fx: FaultEffects, elapsedS: number): void;
  onStart?(controls: FaultControls): void;
}

export interface ScenarioDefinition<P = Record<string, unknown>> {
  name: ScenarioName;
  title: string;
  /** `vehicle` faults act on the power system; `gateway` faults on the telematics link. */
  target: 'vehicle' | 'gateway';
  params: z.ZodType<P>;
  /** Seconds; null runs to the end of the simulation. */
  defaultDurationS: number | null;
  signature: string;
  finding: string;
  /** Simulated seconds after the start within which the signature shows. */
  withinS(params: P): number;
  effect?(params: P, profile: PowerProfile): VehicleEffect;
}

const withOutage = z.boolean({ error: 'must be true or false' }).default(true);
const positive = (what: string) =>
  z.number({ error: `must be a number (${what})` }).positive({ error: `must be > 0 (${what})` });

function def<P>(d: ScenarioDefinition<P>): ScenarioDefinition<P> {
  return d;
}

const mainsOutage = def({
  name: 'mains-outage',
  title: 'Mains outage (市电中断)',
  target: 'vehicle',
  params: z.object({}).strict(),
  defaultDurationS: 1800,
  signature:
    'mains.present=false and mains voltage/current 0 from the start; source goes mains→battery at once (battery current negative, inverter carrying the load), then →generator once the set has started and warmed up (start delay 10 s + crank 4 s + warm-up 15 s ≈ 30 s) with generator.running=true, rpm ≈ 1500 (50 Hz), voltage ≈ nominal and generator current carrying loadKw. When mains returns: back to mains after 30 s stable, generator runs its 180 s cool-down unloaded and stops. Events MAINS_LOST, SOURCE_CHANGED, MAINS_RESTORED.',
  finding: 'Mains loss on the vehicle; automatic transfer to generator worked (no fault unless the transfer fails).',
  withinS: () => 60,
  effect: () => ({ apply: (fx) => void (fx.mainsCut = true) }),
});

const startFailure = def({
  name: 'generator-start-failure',
  title: 'Generator fails to start (发电机组无法启动)',
  target: 'vehicle',
  params: z.object({ withOutage }).strict(),
  defaultDurationS: 3600,
  signature:
    'With mains absent (withOutage, default true): the controller cranks 3 times (rpm ≈ 180 while cranking, generator.running stays false), then latches GEN_START_FAIL ≈ 40 s after the start request; source stays battery, battery current negative, SOC falling; below 35 % SOC the crew starts the chassis engine (engineRunning=true, alternator charging). Event GEN_START_FAIL (critical).',
  finding:
    'Generator start failure: mains absent, generator not running after the start delay, vehicle on battery — battery endurance is now the deadline (extra-urgent task).',
  withinS: () => 90,
  effect: (p) => ({
    apply(fx) {
      fx.generatorStartFails = true;
      if (p.withOutage) fx.mainsCut = true;
    },
  }),
});

const overheat = def({
  name: 'generator-overheat',
  title: 'Generator overheats (发电机组过热)',
  target: 'vehicle',
  params: z
    .object({ riseC: positive('°C').max(100).default(40), rampS: z.number().min(0).default(600), withOutage })
    .strict(),
  defaultDurationS: 3600,
  signature:
    'generator.coolantC climbs past the thermostat band (80–88 °C): > 95 °C, then ≥ 105 °C (event GEN_COOLANT_HIGH), and at 110 °C the controller shuts the set down (GEN_OVERHEAT_SHUTDOWN, latched): generator.running=false, source → battery. With the defaults the shutdown comes 15–20 min after the start (mains is cut so that the set runs).',
  finding: 'Generator overheating (cooling system: coolant, fan belt, radiator) leading to a protective shutdown.',
  withinS: (p) => p.rampS + 1200,
  effect: (p) => ({
    apply(fx, s) {
      fx.coolingLossC += p.riseC * ramp(s, p.rampS);
      if (p.withOutage) fx.mainsCut = true;
    },
  }),
});

const lowFuel = def({
  name: 'generator-low-fuel',
  title: 'Generator low fuel (燃油不足)',
  target: 'vehicle',
  params: z
    .object({
      fuelPct: z.number().min(0).max(100).default(12),
      leakPctPerH: z.number().min(0).max(1000).default(0),
      withOutage,
    })
    .strict(),
  defaultDurationS: 7200,
  signature:
    'generator.fuelPct drops to fuelPct (default 12 %) at the start and keeps falling while the set runs (plus leakPctPerH); event GEN_LOW_FUEL below 15 %; at 0 % the set stops (GEN_OUT_OF_FUEL), source → battery. The crew does not refuel during the scenario.',
  finding: 'Low fuel on the generator (refuel; if it falls while stopped, a leak).',
  withinS: () => 30,
  effect: (p) => ({
    onStart: (c) => c.setFuelPct(p.fuelPct),
    apply(fx) {
      fx.refuelBlocked = true;
      fx.fuelLeakPctPerH += p.leakPctPerH;
      if (p.withOutage) fx.mainsCut = true;
    },
  }),
});

const drift = def({
  name: 'generator-drift',
  title: 'Generator voltage / frequency drift (电压/频率漂移)',
  target: 'vehicle',
  params: z
    .object({
      voltageVPerMin: z.number().min(-100).max(100).default(2),
      frequencyHzPerMin: z.number().min(-10).max(10).default(0.3),
      maxVoltageV: z.number().min(0).max(200).default(30),
      maxFrequencyHz: z.number().min(0).max(20).default(3),
      withOutage,
    })
    .strict(),
  defaultDurationS: 3600,
  signature:
    'While the set runs (from ≈ 30 s after the start with withOutage): generator.voltageV moves away from nominal by voltageVPerMin each minute up to ±maxVoltageV, generator.frequencyHz by frequencyHzPerMin up to ±maxFrequencyHz (rpm follows). With the defaults voltage is > 5 % off nominal and frequency > 1 Hz off after ≈ 7 min. Beyond ±15 % V or ±8 % Hz for 10 s the set trips (GEN_VOLTAGE_SHUTDOWN / GEN_OVERSPEED_SHUTDOWN).',
  finding: 'Generator voltage regulator (AVR) or governor fault: output out of tolerance.',
  withinS: (p) => {
    const tV = p.voltageVPerMin !== 0 ? (11 / Math.abs(p.voltageVPerMin)) * 60 : Infinity;
    const tF = p.frequencyHzPerMin !== 0 ? (1 / Math.abs(p.frequencyHzPerMin)) * 60 : Infinity;
    return Math.min(tV, tF) + 90;
  },
  effect: (p) => ({
    apply(fx, s) {
      const min = s / 60;
      fx.generatorVoltageOffsetV +=
        Math.sign(p.voltageVPerMin) * Math.min(p.maxVoltageV, Math.abs(p.voltageVPerMin) * min);
      fx.generatorFrequencyOffsetHz +=
        Math.sign(p.frequencyHzPerMin) * Math.min(p.maxFrequencyHz, Math.abs(p.frequencyHzPerMin) * min);
      if (p.withOutage) fx.mainsCut = true;
    },
  }),
});

const lowOil = def({
  name: 'low-oil-pressure',
  title: 'Low oil pressure (机油压力低)',
  target: 'vehicle',
  params: z
    .object({ targetKpa: z.number().min(0).max(1000).default(80), rampS: z.number().min(0).default(300), withOutage })
    .strict(),
  defaultDurationS: 3600,
  signature:
    'With the set running, generator.oilKpa falls from ≈ 400 kPa towards targetKpa over rampS; under 150 kPa it is a warning, under 100 kPa for 5 s the controller shuts the set down (GEN_LOW_OIL_SHUTDOWN, latched): running=false, source → battery. With the defaults the shutdown comes ≈ 5 min after the start.',
  finding: 'Generator low oil pressure (oil level, pump, leak) and protective shutdown.',
  withinS: (p) => p.rampS + 120,
  effect: (p) => ({
    apply(fx, s) {
      const healthy = 400;
      const factor = 1 - (1 - p.targetKpa / healthy) * ramp(s, p.rampS);
      fx.oilFactor = Math.min(fx.oilFactor, factor);
      if (p.withOutage) fx.mainsCut = true;
    },
  }),
});

const ageing = def({
  name: 'battery-ageing',
  title: 'Battery ageing / capacity fade (电池老化)',
  target: 'vehicle',
  params: z
    .object({ remainingPct: z.number().gt(0).max(100).default(40), withOutage: z.boolean().default(false) })
    .strict(),
  defaultDurationS: null,
  signature:
    'Usable capacity falls to remainingPct of nominal and internal resistance rises: whenever the battery discharges, socPct falls 100/remainingPct times faster than ∫battery.currentA dt / nominal Ah explains (effective capacity ≈ remainingPct % of nominal), and the voltage sags more under load. It shows on the first discharge (combine with mains-outage and generator-start-failure, or use a vehicle without generator) within 10 min.',
  finding: 'Battery capacity degraded (ageing): replace the battery bank.',
  withinS: () => 600,
  effect: (p) => ({
    apply(fx) {
      fx.batteryCapacityFactor = Math.min(fx.batteryCapacityFactor, p.remainingPct / 100);
      fx.batteryResistanceFactor = Math.max(fx.batteryResistanceFactor, 1 + 2 * (1 - p.remainingPct / 100));
      if (p.withOutage) fx.mainsCut = true;
    },
  }),
});

const overTemp = def({
  name: 'battery-over-temperature',
  title: 'Battery over-temperature (电池过温)',
  target: 'vehicle',
  params: z.object({ riseC: positive('°C').max(100).default(40) }).strict(),
  defaultDurationS: 7200,
  signature:
    'battery.tempC rises towards ambient + riseC (time constant ≈ 40 min for 200 Ah): more than 15 °C above its start within 30 min with the defaults, past 45 °C on a temperate day; above 50 °C the charger stops charging (battery.currentA ≤ 0 on mains).',
  finding: 'Battery over-temperature (failing cell, ventilation): risk of thermal runaway — inspect at once.',
  withinS: () => 1800,
  effect: (p) => ({ apply: (fx) => void (fx.batteryHeatRiseC += p.riseC) }),
});

const alternator = def({
  name: 'alternator-failure',
  title: 'Alternator / belt failure (发电机皮带/充电机故障)',
  target: 'vehicle',
  params: z.object({ withEngine: z.boolean().default(true) }).strict(),
  defaultDurationS: 3600,
  signature:
    'charging.engineRunning=true (the crew idles the engine to charge, withEngine) but charging.alternatorV=0 and charging.currentA=0 from the start; the battery gets no charge from the engine (battery current ≤ 0 unless mains/generator charges it).',
  finding: 'Chassis alternator or drive belt failure: no emergency charging from the chassis engine.',
  withinS: () => 5,
  effect: (p) => ({
    apply(fx) {
      fx.alternatorFailed = true;
      if (p.withEngine) fx.engineForcedOn = true;
    },
  }),
});

const overVoltage = def({
  name: 'regulator-over-voltage',
  title: 'Charging regulator over-voltage (充电调节器过压)',
  target: 'vehicle',
  params: z
    .object({ voltsPer12V: z.number().min(14.5).max(20).default(16), withEngine: z.boolean().default(true) })
    .strict(),
  defaultDurationS: 3600,
  signature:
    'With the engine running, charging.alternatorV rises above 15 V per 12 V block (> 30 V on 24 V) and battery.voltageV follows, with charging current into a nearly full battery (gassing): battery.tempC then rises steadily. Shows within a minute of the start.',
  finding:
    'Alternator voltage regulator failed high: over-charging the battery (gassing, heat, damage to 24 V equipment).',
  withinS: () => 60,
  effect: (p, profile) => ({
    apply(fx) {
      fx.regulatorV = p.voltsPer12V * (profile.battery.nominalV / 12);
      if (p.withEngine) fx.engineForcedOn = true;
    },
  }),
});

const stuck = def({
  name: 'stuck-sensor',
  title: 'Stuck sensor (传感器卡滞)',
  target: 'vehicle',
  params: z
    .object({
      field: z
        .enum(NUMERIC_FIELD_PATHS as [NumericFieldPath, ...NumericFieldPath[]], {
          error: `must be one of ${NUMERIC_FIELD_PATHS.join(', ')}`,
        })
        .default('battery.tempC'),
      value: z.number().optional(),
    })
    .strict(),
  defaultDurationS: 3600,
  signature:
    'The chosen field reports exactly the same value (the reading at the start, or `value`) in every frame while related fields keep moving (normally every field carries measurement noise, so no real reading repeats for long); visible after ≈ 60 frames.',
  finding: 'A stuck / failed sensor (data quality), not a power-system fault.',
  withinS: () => 60,
  effect: (p) => ({ apply: (fx) => void fx.stuck.set(p.field, p.value ?? null) }),
});

const linkLoss = def({
  name: 'link-loss',
  title: 'Gateway link loss (通信中断)',
  target: 'gateway',
  params: z.object({}).strict(),
  defaultDurationS: 600,
  signature:
    'The connection drops without DISCONNECT: the broker publishes the last will, status {"online":false} (retained), and no live frames arrive for the duration. On reconnect: status online:true, then the buffered frames arrive as {"frames":[...]} batches (≤ 500, oldest first) with no seq gap and no duplicate, followed by live frames.',
  finding: 'Communication loss with the vehicle (offline for the duration), data backfilled afterwards.',
  withinS: () => 5,
});

const reboot = def({
  name: 'gateway-reboot',
  title: 'Gateway reboot (网关重启)',
  target: 'gateway',
  params: z
    .object({
      downS: z.number().min(1).max(86_400).default(30),
      seq: z.enum(['auto', 'continue', 'restart']).default('auto'),
    })
    .strict(),
  defaultDurationS: null,
  signature:
    'The gateway stops without DISCONNECT (last will: status online:false), samples nothing for downS, then boots: status online:true and event GATEWAY_BOOT. Seq rule: a gateway with a persistent buffer (data dir) continues seq from where it stopped and replays its unacknowledged frames; without one (seq "restart", the default then) its RAM buffer is lost and seq restarts at 0 while ts keeps increasing. The platform sees a ts gap of ≈ downS with no seq gap (continue), or seq falling to 0 with ts moving on (restart) — frames are keyed by (vehicle, seq, ts), so restarted seqs are not duplicates.',
  finding: 'Gateway restarted (power or watchdog reset); telemetry gap of downS.',
  withinS: (p) => p.downS + 10,
});

export const SCENARIOS: Record<ScenarioName, ScenarioDefinition<never>> = Object.fromEntries(
  [
    mainsOutage,
    startFailure,
    overheat,
    lowFuel,
    drift,
    lowOil,
    ageing,
    overTemp,
    alternator,
    overVoltage,
    stuck,
    linkLoss,
    reboot,
  ].map((d) => [d.name, d as unknown as ScenarioDefinition<never>]),
) as Record<ScenarioName, ScenarioDefinition<never>>;

export function scenario(name: ScenarioName): ScenarioDefinition<Record<string, unknown>> {
  return SCENARIOS[name] as unknown as ScenarioDefinition<Record<string, unknown>>;
}
