/** Distances and delivery times from a store to a site (great-circle distance, a road factor, per transport). */
export interface Point {
  lat: number;
  lon: number;
}

export const TRANSPORTS = ['service_vehicle', 'courier', 'air'] as const;
export type Transport = (typeof TRANSPORTS)[number];

/** Average speed (km/h) and fixed handling time (h) per transport; roads are taken as 1.3 × the straight line. */
const ROAD_FACTOR = 1.3;
const PROFILE: Record<Transport, { kmh: number; handlingH: number; minKm: number }> = {
  service_vehicle: { kmh: 60, handlingH: 0.5, minKm: 0 },
  courier: { kmh: 45, handlingH: 4, minKm: 0 },
  // air freight only pays off far away: to the airport and from it, plus the flight
  air: { kmh: 600, handlingH: 8, minKm: 800 },
};

export function distanceKm(a: Point, b: Point): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371 * Math.asin(Math.min(1, Math.sqrt(h)));
}

export interface Eta {
  transport: Transport;
  hours: number;
}

/** The delivery options from a store of `storeKind` over `km` (straight line), fastest first. */
export function etas(storeKind: string, km: number): Eta[] {
  const modes: Transport[] = storeKind === 'service_vehicle' ? ['service_vehicle'] : ['courier', 'air'];
  return modes
    .filter((t) => km >= PROFILE[t].minKm)
    .map((t) => {
      const p = PROFILE[t];
      const road = t === 'air' ? km : km * ROAD_FACTOR;
      return { transport: t, hours: Math.round((p.handlingH + road / p.kmh) * 10) / 10 };
    })
    .sort((x, y) => x.hours - y.hours);
}
