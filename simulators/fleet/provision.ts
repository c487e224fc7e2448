import type { PowerProfile } from '../../protocol/index.ts';
import { createRandom } from '../model/random.ts';
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

export function vehicleId(prefix: string, index: number): string {
  return `${prefix}${String(index + 1).padStart(4, '0')}`;
}

/**
 * Makes sure vehicles `prefix0001…` exist for `customers` customers (round-robin) and returns their
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
  },
): Promise<{ vehicles: SimVehicle[]; added: number; rotated: number; reused: number }> {
  const known = new Map((options.known ?? []).map((v) => [v.id, v]));
  const out: SimVehicle[] = new Array(options.count);
  let added = 0,
    rotated = 0,
    reused = 0;
  const one = async (i: number) => {
    const id = vehicleId(options.prefix, i);
    const customerId = `${options.customerPrefix ?? 'C'}${(i % options.customers) + 1}`;
    const existing = await registry.get(id);
    if (existing) {
      const k = known.get(id);
      if (k) {
        reused++;
        out[i] = { id, secret: k.secret, customerId: existing.customerId, profile: existing.profile };
      } else {
        const { secret } = await registry.rotateSecret(id);
        rotated++;
        out[i] = { id, secret, customerId: existing.customerId, profile: existing.profile };
      }
      return;
    }
    const plan = vehiclePlan(i, options.seed);
    const { secret, vehicle } = await registry.add({
      id,
      customerId,
      name: `${plan.model} ${id}`,
      model: plan.model,
      profile: plan.profile,
    });
    added++;
    out[i] = { id, secret, customerId, profile: vehicle.profile };
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
