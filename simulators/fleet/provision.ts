import type { PowerProfile } from '../../protocol/index.ts';
import { createRandom } from '../model/random.ts';
import type { GeoPoint } from '../model/gps.ts';
import type { SimVehicle } from './credentials-file.ts';

/** What provisioning needs of the vehicle registry (registry/vehicles.ts fits). */
export interface ProvisioningRegistry {
  add(input: {
    id: string;
    customerId: string;
    name?: string;
    model?: string;
    profile?: Partial<PowerProfile>;
  }): Promise<{ secret: string; vehicle: { profile: PowerProfile } }>;
  get(id: string): Promise<{ id: string; customerId: string; profile: PowerProfile } | undefined>;
  rotateSecret(id: string): Promise<{ secret: string }>;
}

export const MODELS = ['Shelter-PS24', 'Comms-CV24', 'Workshop-WV24', 'Light-LV12'] as const;

/**
 * Where the fleet's vehicles are based: towns around the demo's stores (simulators/demo-stock.ts:
 * the central store in Yueyang, service points in Beijing and Chengdu) and between them, so that
 * "the nearest store with stock" differs from vehicle to vehicle.
 */
export const HOME_BASES: readonly (GeoPoint & { name: string })[] = [
  { name: 'Yueyang', lat: 29.37, lon: 113.13 },
  { name: 'Changsha', lat: 28.23, lon: 112.94 },
  { name: 'Wuhan', lat: 30.59, lon: 114.31 },
  { name: 'Beijing', lat: 39.9, lon: 116.4 },
  { name: 'Tianjin', lat: 39.13, lon: 117.2 },
  { name: 'Chengdu', lat: 30.66, lon: 104.07 },
  { name: 'Chongqing', lat: 29.56, lon: 106.55 },
];

/** A vehicle's home: one of the bases, round-robin, a seeded few km from the town's centre. */
export function vehicleHome(index: number, seed: number | string): GeoPoint {
  const base = HOME_BASES[index % HOME_BASES.length]!;
  const r = createRandom(`${seed}:home:${index}`);
  const round4 = (x: number) => Math.round(x * 1e4) / 1e4;
  return { lat: round4(base.lat + r.range(-0.08, 0.08)), lon: round4(base.lon + r.range(-0.08, 0.08)) };
}

/** A plausible, seeded mix of power systems: mostly 24 V with generator, some 12 V without. */
export function vehiclePlan(index: number, seed: number | string): { model: string; profile: PowerProfile } {
  const r = createRandom(`${seed}:fleet:${index}`);
  const model = r.next() < 0.8 ? MODELS[r.int(0, 2)]! : MODELS[3];
  const small = model === 'Light-LV12';
  return {
    model,
    profile: {
      hasGenerator: !small || r.chance(0.3),
      battery: small
        ? { nominalV: 12, capacityAh: r.pick([100, 120, 150]) }
        : { nominalV: 24, capacityAh: r.pick([150, 200, 250, 300]) },
      mains: { nominalV: 220, frequencyHz: 50 },
    },
  };
}

/** What people call a vehicle of each model: "Shelter 3", "Comms van 2". */
const MODEL_NAMES: Record<(typeof MODELS)[number], string> = {
  'Shelter-PS24': 'Shelter',
  'Comms-CV24': 'Comms van',
  'Workshop-WV24': 'Workshop',
  'Light-LV12': 'Light truck',
};

/** Names for a fleet's vehicles in order: the model's name and its number among that model's vehicles. */
export function vehicleNames(models: readonly string[]): string[] {
  const seen = new Map<string, number>();
  return models.map((m) => {
    const n = (seen.get(m) ?? 0) + 1;
    seen.set(m, n);
    return `${MODEL_NAMES[m as (typeof MODELS)[number]] ?? m} ${n}`;
  });
}

export function vehicleId(prefix: string, index: number): string {
  return `${prefix}${String(index + 1).padStart(4, '0')}`;
}

/**
 * Makes sure vehicles `prefix0001…` exist for `customers` customers (round-robin), named by model
 * ("Shelter 3"), and returns their
 * credentials. Known secrets are reused; a vehicle that exists without a known secret gets a new
 * one (rotate), so it is idempotent across runs. Runs `concurrency` scrypt hashes at once.
 */
export async function provisionFleet(
  registry: ProvisioningRegistry,
  options: {
    count: number;
    prefix: string;
    customers: number;
    seed: number | string;
    known?: readonly SimVehicle[];
    concurrency?: number;
    customerPrefix?: string;
    /** The customer units' ids, taken round-robin (instead of `customerPrefix` + 1…`customers`). */
    customerIds?: readonly string[];
  },
): Promise<{ vehicles: SimVehicle[]; added: number; rotated: number; reused: number }> {
  const known = new Map((options.known ?? []).map((v) => [v.id, v]));
  const out: SimVehicle[] = new Array(options.count);
  let added = 0,
    rotated = 0,
    reused = 0;
  const plans = Array.from({ length: options.count }, (_, i) => vehiclePlan(i, options.seed));
  const names = vehicleNames(plans.map((p) => p.model));
  const one = async (i: number) => {
    const id = vehicleId(options.prefix, i);
    const customerId =
      options.customerIds?.[i % options.customerIds.length] ??
      `${options.customerPrefix ?? 'C'}${(i % options.customers) + 1}`;
    // its home base, declared with the vehicle (and kept in the credentials file): the gateway's GPS fixes drift around it
    const home = known.get(id)?.home ?? vehicleHome(i, options.seed);
    const existing = await registry.get(id);
    if (existing) {
      const k = known.get(id);
      if (k) {
        reused++;
        out[i] = { id, secret: k.secret, customerId: existing.customerId, profile: existing.profile, home };
      } else {
        const { secret } = await registry.rotateSecret(id);
        rotated++;
        out[i] = { id, secret, customerId: existing.customerId, profile: existing.profile, home };
      }
      return;
    }
    const plan = plans[i]!;
    const { secret, vehicle } = await registry.add({
      id,
      customerId,
      name: names[i]!,
      model: plan.model,
      profile: plan.profile,
    });
    added++;
    out[i] = { id, secret, customerId, profile: vehicle.profile, home };
  };
  const concurrency = options.concurrency ?? 16;
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, options.count) }, async () => {
      while (next < options.count) await one(next++);
    }),
  );
  return { vehicles: out, added, rotated, reused };
}
