import type { PowerProfile } from '../../protocol/index.ts';
import type { ModelFault } from '../model/faults.ts';
import { createRandom } from '../model/random.ts';
import { scenario, type ScenarioName } from './catalogue.ts';
import type { ScenarioEntry } from './scenario-file.ts';

/** One scenario entry landed on one vehicle, in absolute simulated time. */
export interface PlannedFault {
  /** `${name}#${entryIndex}` — unique per vehicle. */
  id: string;
  name: ScenarioName;
  entryIndex: number;
  target: 'vehicle' | 'gateway';
  startTs: number;
  endTs: number | null;
  params: Record<string, unknown>;
}

/**
 * Lands scenario entries on vehicles: "all", a list of ids, or a seeded pick of `count` /
 * `fraction` of the fleet (the same seed picks the same vehicles).
 */
export function planScenarios(
  entries: readonly ScenarioEntry[],
  vehicleIds: readonly string[],
  runStartTs: number,
  seed: number | string,
): Map<string, PlannedFault[]> {
  const plan = new Map<string, PlannedFault[]>(vehicleIds.map((id) => [id, []]));
  entries.forEach((e, i) => {
    let ids: readonly string[];
    if (e.vehicles === 'all') ids = vehicleIds;
    else if (Array.isArray(e.vehicles)) ids = e.vehicles.filter((id) => plan.has(id));
    else {
      const n =
        'count' in e.vehicles
          ? Math.min(e.vehicles.count, vehicleIds.length)
          : Math.max(1, Math.round(e.vehicles.fraction * vehicleIds.length));
      const rng = createRandom(`${seed}:scenario:${i}`);
      const pool = [...vehicleIds];
      for (let k = pool.length - 1; k > 0; k--) {
        const j = rng.int(0, k);
        [pool[k], pool[j]] = [pool[j]!, pool[k]!];
      }
      ids = pool.slice(0, n);
    }
    const startTs = runStartTs + Math.round(e.atS * 1000);
    const endTs = e.durationS === null ? null : startTs + Math.round(e.durationS * 1000);
    for (const id of ids) {
      plan.get(id)!.push({
        id: `${e.name}#${i}`,
        name: e.name,
        entryIndex: i,
        target: scenario(e.name).target,
        startTs,
        endTs,
        params: e.params,
      });
    }
  });
  return plan;
}

/** The model side of a planned vehicle fault. */
export function toModelFault(p: PlannedFault, profile: PowerProfile): ModelFault {
  const def = scenario(p.name);
  if (def.target !== 'vehicle' || !def.effect) throw new Error(`${p.name} is not a vehicle fault`);
  const effect = def.effect(p.params, profile);
  return {
    id: p.id,
    name: p.name,
    startTs: p.startTs,
    endTs: p.endTs,
    apply: effect.apply,
    ...(effect.onStart ? { onStart: effect.onStart } : {}),
  };
}

/** Builds a planned fault directly (tests, the demo, commands): params are validated with defaults. */
export function plannedFault(
  name: ScenarioName,
  startTs: number,
  durationS: number | null | undefined,
  params: Record<string, unknown> = {},
  index = 0,
): PlannedFault {
  const def = scenario(name);
  const parsed = def.params.parse(params);
  const d = durationS === undefined ? def.defaultDurationS : durationS;
  return {
    id: `${name}#${index}`,
    name,
    entryIndex: index,
    target: def.target,
    startTs,
    endTs: d === null ? null : startTs + Math.round(d * 1000),
    params: parsed,
  };
}
