/**
 * The soak's fault plan: which scenario from the catalogue (simulators/scenarios) hits which
 * vehicle when, and which ticket it must open. Faults start one after another, spread evenly over
 * the first 80 % of the soak; each faulted vehicle gets exactly one fault, so every ticket can be
 * traced to the fault behind it. The kinds take turns; a kind that cannot fit (a gateway fault that
 * would not be over 20 s before the end, a generator fault with no vehicle with a generator left)
 * gives its turn to the next one.
 */
import { createRandom } from '../../simulators/model/random.ts';
import type { ScenarioName } from '../../simulators/scenarios/index.ts';
import type { SoakFault, SoakVehicle } from './ipc.ts';

export interface FaultKind {
  name: ScenarioName;
  params: Record<string, unknown>;
  /** Seconds; null = until the end of the run. */
  durationS: number | null;
  needsGenerator: boolean;
  /** Gateway faults (link loss, reboot) must be over this long before the end, so the drain finds every gateway online. */
  gateway: boolean;
  /** The ticket's fault code, or null: this fault must open no ticket. */
  ticketCode: string | null;
  /**
   * A ticket is expected only if the fault started at least this long before the end of the soak.
   * Measured on the vehicle model (simulators/model) for a mix of provisioned profiles: the
   * condition completes GEN-START-FAIL 90 s after the start, CHG-OVERVOLT 10 s, GEN-OIL-PRESSURE
   * 59–61 s, BAT-OVERTEMP 9–24 min (it depends on the ambient temperature).
   */
  ticketWithinS: number;
}

export const FAULT_KINDS: readonly FaultKind[] = [
  // mains lost, the generator fails to start: GEN-START-FAIL (critical) once mains has been absent 90 s
  {
    name: 'generator-start-failure',
    params: { withOutage: true },
    durationS: 300,
    needsGenerator: true,
    gateway: false,
    ticketCode: 'GEN-START-FAIL',
    ticketWithinS: 150,
  },
  // alternator regulator fails high: CHG-OVERVOLT (critical) after its 10 s hold
  {
    name: 'regulator-over-voltage',
    params: {},
    durationS: 180,
    needsGenerator: false,
    gateway: false,
    ticketCode: 'CHG-OVERVOLT',
    ticketWithinS: 40,
  },
  // a mains outage the generator covers: a minor alarm, no ticket
  {
    name: 'mains-outage',
    params: {},
    durationS: 120,
    needsGenerator: true,
    gateway: false,
    ticketCode: null,
    ticketWithinS: 0,
  },
  // 60 s offline, then the backlog replayed as batches
  {
    name: 'link-loss',
    params: {},
    durationS: 60,
    needsGenerator: false,
    gateway: true,
    ticketCode: null,
    ticketWithinS: 0,
  },
  // oil pressure falls within a minute during an outage: GEN-OIL-PRESSURE (critical)
  {
    name: 'low-oil-pressure',
    params: { rampS: 60, withOutage: true },
    durationS: 300,
    needsGenerator: true,
    gateway: false,
    ticketCode: 'GEN-OIL-PRESSURE',
    ticketWithinS: 150,
  },
  // down 30 s without DISCONNECT, RAM buffer lost, seq restarts at 0
  {
    name: 'gateway-reboot',
    params: { downS: 30 },
    durationS: null,
    needsGenerator: false,
    gateway: true,
    ticketCode: null,
    ticketWithinS: 0,
  },
  // the battery heats towards ambient + 100 °C: BAT-OVERTEMP (major) after 9–24 min (only long soaks see it)
  {
    name: 'battery-over-temperature',
    params: { riseC: 100 },
    durationS: null,
    needsGenerator: false,
    gateway: false,
    ticketCode: 'BAT-OVERTEMP',
    ticketWithinS: 1800,
  },
];

/** Seconds a gateway fault must be over before the end of the soak. */
const GATEWAY_CLEAR_S = 20;

/**
 * `count` faults over a soak from `soakStart` lasting `soakS` seconds, on vehicles picked by a
 * seeded shuffle. Returns them in start order.
 */
export function planFaults(
  vehicles: readonly SoakVehicle[],
  count: number,
  soakStart: number,
  soakS: number,
  seed: string | number,
): SoakFault[] {
  const rng = createRandom(`${seed}:soak-faults`);
  const order = vehicles.map((_, i) => i);
  for (let k = order.length - 1; k > 0; k--) {
    const j = rng.int(0, k);
    [order[k], order[j]] = [order[j]!, order[k]!];
  }
  const used = new Set<number>();
  const pick = (needsGenerator: boolean): SoakVehicle | undefined => {
    for (const i of order) {
      if (used.has(i)) continue;
      if (needsGenerator && !vehicles[i]!.profile.hasGenerator) continue;
      used.add(i);
      return vehicles[i];
    }
    return undefined;
  };
  const faults: SoakFault[] = [];
  const n = Math.min(count, vehicles.length);
  const spanS = soakS * 0.8;
  let turn = 0;
  for (let f = 0; f < n; f++) {
    const atS = n === 1 ? 0 : (f * spanS) / n;
    for (let tries = 0; tries < FAULT_KINDS.length; tries++) {
      const kind = FAULT_KINDS[turn++ % FAULT_KINDS.length]!;
      if (kind.gateway) {
        const busyS = kind.name === 'gateway-reboot' ? Number(kind.params.downS) + 10 : kind.durationS!;
        if (atS + busyS > soakS - GATEWAY_CLEAR_S) continue;
      }
      const v = pick(kind.needsGenerator);
      if (!v) continue;
      faults.push({
        index: f,
        vehicleId: v.id,
        name: kind.name,
        startTs: soakStart + Math.round(atS * 1000),
        durationS: kind.durationS,
        params: kind.params,
        ticketCode: kind.ticketCode,
        ticketWithinS: kind.ticketWithinS,
      });
      break;
    }
  }
  return faults;
}
