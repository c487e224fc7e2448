import { scenario, type ScenarioName } from './scenarios/catalogue.ts';
import type { ScenarioEntry } from './scenarios/scenario-file.ts';

/** The demo's faults (`npm run demo`): one every few minutes, round the catalogue and round the fleet, for a day. */
export const DEMO_FAULT_EVERY_S = 180;
const FAULT_LASTS_S = 600;
/** The first fault's onset: its generator start failure is an extra-urgent ticket ≈ 2 min after start. */
export const FIRST_FAULT_S = 5;
/**
 * The catalogue in the order a newcomer meets it: first an emergency (the generator does not start
 * after a mains outage: 特急 ticket after 90 s without mains + 15 s), then an outage the generator
 * covers (no ticket), a regulator fault (critical within a minute), a slow overheat, …
 */
const ROTATION: ScenarioName[] = [
  'generator-start-failure',
  'mains-outage',
  'regulator-over-voltage',
  'generator-overheat',
  'link-loss',
  'low-oil-pressure',
  'battery-over-temperature',
  'generator-drift',
  'alternator-failure',
  'stuck-sensor',
  'generator-low-fuel',
  'gateway-reboot',
  'battery-ageing',
];
const NEEDS_GENERATOR = new Set<ScenarioName>([
  'generator-overheat',
  'generator-start-failure',
  'low-oil-pressure',
  'generator-drift',
  'generator-low-fuel',
]);

/** The demo's day of faults on these vehicles (those without a generator get no generator fault). */
export function demoSchedule(
  vehicles: { id: string; profile?: { hasGenerator?: boolean } | undefined }[],
): ScenarioEntry[] {
  const withGenerator = vehicles.filter((v) => v.profile?.hasGenerator !== false).map((v) => v.id);
  const entries: ScenarioEntry[] = [];
  for (let i = 0; i < (24 * 3600) / DEMO_FAULT_EVERY_S; i++) {
    const name = ROTATION[i % ROTATION.length]!;
    const pool = NEEDS_GENERATOR.has(name) ? withGenerator : vehicles.map((v) => v.id);
    const vehicle = pool[(i * 7) % pool.length]!;
    const def = scenario(name);
    const params = def.params.parse(name === 'battery-ageing' ? { withOutage: true } : {});
    entries.push({
      name,
      atS: FIRST_FAULT_S + i * DEMO_FAULT_EVERY_S,
      // long enough for the documented signature to show (an overheat trips after ≈ 20 min)
      durationS:
        name === 'link-loss'
          ? 180
          : name === 'gateway-reboot'
            ? null
            : Math.max(FAULT_LASTS_S, def.withinS(params) + 300),
      vehicles: [vehicle],
      params,
    });
  }

  return entries;
}
