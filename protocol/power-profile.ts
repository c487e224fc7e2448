import { z } from 'zod';

/** A vehicle's power system as built: what the platform, the rules and the simulators expect of it. */
export const powerProfileSchema = z.object({
  hasGenerator: z.boolean().default(true),
  battery: z
    .object({
      nominalV: z.union([z.literal(12), z.literal(24)], { error: 'battery nominal voltage must be 12 or 24' }),
      capacityAh: z.number().positive({ error: 'battery capacity must be > 0 Ah' }).max(10_000),
    })
    .default({ nominalV: 24, capacityAh: 200 }),
  mains: z
    .object({
      nominalV: z.number().min(100, { error: 'mains nominal voltage must be 100–480 V' }).max(480),
      frequencyHz: z.union([z.literal(50), z.literal(60)], { error: 'mains frequency must be 50 or 60 Hz' }),
    })
    .default({ nominalV: 220, frequencyHz: 50 }),
});

export type PowerProfile = z.infer<typeof powerProfileSchema>;
export const DEFAULT_POWER_PROFILE: PowerProfile = powerProfileSchema.parse({});
