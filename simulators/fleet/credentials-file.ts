import { readFileSync, writeFileSync, renameSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import { positionSchema, powerProfileSchema, VEHICLE_ID_PATTERN, type PowerProfile } from '../../protocol/index.ts';
import type { GeoPoint } from '../model/gps.ts';

/** A simulated vehicle's identity: what a real gateway is configured with. */
export interface SimVehicle {
  id: string;
  secret: string;
  customerId?: string;
  profile?: PowerProfile;
  /** Where it is based: its gateway sends a GPS position near it (simulators/model/gps.ts). */
  home?: GeoPoint;
}

const fileSchema = z.object({
  vehicles: z.array(
    z.object({
      id: z.string().regex(VEHICLE_ID_PATTERN, { error: 'must be a vehicle id' }),
      secret: z.string().min(1, { error: 'must not be empty' }),
      customerId: z.string().optional(),
      profile: powerProfileSchema.optional(),
      home: positionSchema.optional(),
    }),
  ),
});

/**
 * The credentials file (`--credentials`): `{"vehicles":[{"id","secret","customerId"?,"profile"?,"home"?:{lat,lon}}]}`.
 * It holds secrets: it is written with mode 0600.
 */
export function readCredentialsFile(file: string): SimVehicle[] {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file}: cannot read credentials: ${(err as Error).message}`);
  }
  const parsed = fileSchema.safeParse(Array.isArray(data) ? { vehicles: data } : data);
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    throw new Error(`${file}: ${i.path.join('.')}: ${i.message}`);
  }
  return parsed.data.vehicles.map((v) => ({
    id: v.id,
    secret: v.secret,
    ...(v.customerId ? { customerId: v.customerId } : {}),
    ...(v.profile ? { profile: v.profile } : {}),
    ...(v.home ? { home: v.home } : {}),
  }));
}

export function writeCredentialsFile(file: string, vehicles: readonly SimVehicle[]): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, JSON.stringify({ vehicles }, null, 1) + '\n', { mode: 0o600 });
  renameSync(tmp, file);
}
