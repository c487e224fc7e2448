import type { z } from 'zod';
import { PlatformError } from '../core/errors.ts';
import { ALARM_SEVERITIES } from '../diagnostics/rules/schema.ts';
import { POWER_SOURCES } from '../protocol/index.ts';
import { serializerWith } from './route-serializer.ts';
import type { fleetCountsOut } from './schemas.ts';
import type { VehicleState } from './vehicle-state.ts';

export interface FleetList {
  vehicles: VehicleState[];
  counts: z.infer<typeof fleetCountsOut>;
}

const SOURCES: ReadonlySet<unknown> = new Set(POWER_SOURCES);
const SEVERITIES: ReadonlySet<unknown> = new Set(ALARM_SEVERITIES);

const bad = (what: string) =>
  new PlatformError('INTERNAL', `fleet list does not match its schema: ${what}`, { details: { what } });

function str(v: unknown, what: string): string {
  if (typeof v !== 'string') throw bad(what);
  return v;
}
function num(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw bad(what);
  return v;
}
const numOrNull = (v: unknown, what: string) => (v === null ? null : num(v, what));
const strOrNull = (v: unknown, what: string) => (v === null ? null : str(v, what));
function bool(v: unknown, what: string): boolean {
  if (typeof v !== 'boolean') throw bad(what);
  return v;
}
function oneOf<T>(v: unknown, set: ReadonlySet<unknown>, what: string): T {
  if (!set.has(v)) throw bad(what);
  return v as T;
}
function obj(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad(what);
  return v as Record<string, unknown>;
}

/** The whole latest frame (`?frames=true`): `frameOut` is a loose object, so its own keys first, then the rest as sent. */
function frameOut(v: unknown, what: string): Record<string, unknown> {
  const f = obj(v, what);
  const out: Record<string, unknown> = {
    v: num(f.v, `${what}.v`),
    seq: num(f.seq, `${what}.seq`),
    ts: num(f.ts, `${what}.ts`),
    source: oneOf(f.source, SOURCES, `${what}.source`),
  };
  // defined, not assigned: a key named __proto__ stays a key
  for (const k of Object.keys(f))
    if (!Object.hasOwn(out, k))
      Object.defineProperty(out, k, { value: f[k], enumerable: true, writable: true, configurable: true });
  return out;
}

/** One vehicle: checked, and copied with the schema's keys in the schema's order (what zod's encode returns). */
function vehicleOut(v: unknown, w: string) {
  const s = obj(v, w) as unknown as VehicleState;
  const p = obj(s.profile, `${w}.profile`);
  const battery = obj(p.battery, `${w}.profile.battery`);
  const mains = obj(p.mains, `${w}.profile.mains`);
  const l = s.latest === null ? null : (obj(s.latest, `${w}.latest`) as NonNullable<VehicleState['latest']>);
  const t =
    s.openTicket === null ? null : (obj(s.openTicket, `${w}.openTicket`) as NonNullable<VehicleState['openTicket']>);
  const a =
    s.worstAlarm === null ? null : (obj(s.worstAlarm, `${w}.worstAlarm`) as NonNullable<VehicleState['worstAlarm']>);
  return {
    id: str(s.id, `${w}.id`),
    name: str(s.name, `${w}.name`),
    model: str(s.model, `${w}.model`),
    customerId: str(s.customerId, `${w}.customerId`),
    profile: {
      hasGenerator: bool(p.hasGenerator, `${w}.profile.hasGenerator`),
      battery: {
        nominalV: num(battery.nominalV, `${w}.profile.battery.nominalV`),
        capacityAh: num(battery.capacityAh, `${w}.profile.battery.capacityAh`),
      },
      mains: {
        nominalV: num(mains.nominalV, `${w}.profile.mains.nominalV`),
        frequencyHz: num(mains.frequencyHz, `${w}.profile.mains.frequencyHz`),
      },
    },
    createdAt: num(s.createdAt, `${w}.createdAt`),
    online: bool(s.online, `${w}.online`),
    presenceChangedAt: numOrNull(s.presenceChangedAt, `${w}.presenceChangedAt`),
    disconnectReason: strOrNull(s.disconnectReason, `${w}.disconnectReason`),
    latest: l && {
      receivedAt: num(l.receivedAt, `${w}.latest.receivedAt`),
      ts: num(l.ts, `${w}.latest.ts`),
      source: oneOf(l.source, SOURCES, `${w}.latest.source`),
      batterySocPct: numOrNull(l.batterySocPct, `${w}.latest.batterySocPct`),
      timeToEmptyMin: numOrNull(l.timeToEmptyMin, `${w}.latest.timeToEmptyMin`),
      frame: l.frame === undefined ? undefined : frameOut(l.frame, `${w}.latest.frame`),
    },
    openTickets: num(s.openTickets, `${w}.openTickets`),
    openTicket: t && {
      id: num(t.id, `${w}.openTicket.id`),
      number: str(t.number, `${w}.openTicket.number`),
      level: str(t.level, `${w}.openTicket.level`),
      status: str(t.status, `${w}.openTicket.status`),
      nextDueAt: numOrNull(t.nextDueAt, `${w}.openTicket.nextDueAt`),
    },
    activeAlarms: num(s.activeAlarms, `${w}.activeAlarms`),
    worstAlarm: a && {
      id: num(a.id, `${w}.worstAlarm.id`),
      code: str(a.code, `${w}.worstAlarm.code`),
      severity: oneOf(a.severity, SEVERITIES, `${w}.worstAlarm.severity`),
      title: (() => {
        const title = obj(a.title, `${w}.worstAlarm.title`);
        return { en: str(title.en, `${w}.worstAlarm.title.en`), zh: str(title.zh, `${w}.worstAlarm.title.zh`) };
      })(),
    },
  };
}

// The keys `vehicleOut` writes, in its order (the schema's), read off a copy of a full sample: the
// fast path below checks a vehicle against them, so the two cannot drift apart.
const SAMPLE = vehicleOut(sampleVehicle(), 'sample');
const VEHICLE_KEYS = Object.keys(SAMPLE);
const PROFILE_KEYS = Object.keys(SAMPLE.profile);
const BATTERY_KEYS = Object.keys(SAMPLE.profile.battery);
const MAINS_KEYS = Object.keys(SAMPLE.profile.mains);
/** Without `frame`: a vehicle with its whole latest frame always goes through the copy. */
const LATEST_KEYS = Object.keys(SAMPLE.latest!).filter((k) => k !== 'frame');
const TICKET_KEYS = Object.keys(SAMPLE.openTicket!);
const ALARM_KEYS = Object.keys(SAMPLE.worstAlarm!);
const TITLE_KEYS = Object.keys(SAMPLE.worstAlarm!.title);

/** Exactly these own keys, in this order (what JSON.stringify will write), and nothing else. */
function keysAre(o: object, keys: readonly string[]): boolean {
  let i = 0;
  for (const k in o) if (k !== keys[i++]) return false;
  return i === keys.length;
}
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isNumOrNull = (v: unknown) => v === null || isNum(v);
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Whether a vehicle as built (web/vehicle-state.ts) is already what zod's encode would return:
 * every value valid, every object with the schema's keys in the schema's order. Then it is written
 * as it is; otherwise `vehicleOut` copies it (or names what is wrong). `latest.frame` always goes
 * through the copy.
 */
function asIs(v: unknown): boolean {
  if (!isObj(v) || !keysAre(v, VEHICLE_KEYS)) return false;
  const s = v as unknown as VehicleState;
  const p = s.profile as unknown;
  if (!isObj(p) || !keysAre(p, PROFILE_KEYS) || typeof p.hasGenerator !== 'boolean') return false;
  const { battery: b, mains: m } = p;
  if (!isObj(b) || !keysAre(b, BATTERY_KEYS) || !isNum(b.nominalV) || !isNum(b.capacityAh)) return false;
  if (!isObj(m) || !keysAre(m, MAINS_KEYS) || !isNum(m.nominalV) || !isNum(m.frequencyHz)) return false;
  if (typeof s.id !== 'string' || typeof s.name !== 'string' || typeof s.model !== 'string') return false;
  if (typeof s.customerId !== 'string' || !isNum(s.createdAt) || typeof s.online !== 'boolean') return false;
  if (!isNumOrNull(s.presenceChangedAt) || !(s.disconnectReason === null || typeof s.disconnectReason === 'string'))
    return false;
  const l = s.latest as unknown;
  if (l !== null) {
    if (!isObj(l) || !keysAre(l, LATEST_KEYS) || !isNum(l.receivedAt) || !isNum(l.ts) || !SOURCES.has(l.source))
      return false;
    if (!isNumOrNull(l.batterySocPct) || !isNumOrNull(l.timeToEmptyMin)) return false;
  }
  if (!isNum(s.openTickets) || !isNum(s.activeAlarms)) return false;
  const t = s.openTicket as unknown;
  if (t !== null) {
    if (!isObj(t) || !keysAre(t, TICKET_KEYS) || !isNum(t.id) || !isNumOrNull(t.nextDueAt)) return false;
    if (typeof t.number !== 'string' || typeof t.level !== 'string' || typeof t.status !== 'string') return false;
  }
  const a = s.worstAlarm as unknown;
  if (a !== null) {
    if (!isObj(a) || !keysAre(a, ALARM_KEYS) || !isNum(a.id) || typeof a.code !== 'string') return false;
    if (!SEVERITIES.has(a.severity) || !isObj(a.title) || !keysAre(a.title, TITLE_KEYS)) return false;
    if (typeof a.title.en !== 'string' || typeof a.title.zh !== 'string') return false;
  }
  return true;
}

function sampleVehicle(): VehicleState {
  return {
    id: '',
    name: '',
    model: '',
    customerId: '',
    profile: {
      hasGenerator: true,
      battery: { nominalV: 24, capacityAh: 1 },
      mains: { nominalV: 220, frequencyHz: 50 },
    },
    createdAt: 0,
    online: false,
    presenceChangedAt: null,
    disconnectReason: null,
    latest: { receivedAt: 0, ts: 0, source: POWER_SOURCES[0], batterySocPct: null, timeToEmptyMin: null },
    openTickets: 0,
    openTicket: { id: 0, number: '', level: '', status: '', nextDueAt: null },
    activeAlarms: 0,
    worstAlarm: { id: 0, code: '', severity: ALARM_SEVERITIES[0], title: { en: '', zh: '' } },
  };
}

/**
 * The JSON of the fleet list (GET /api/vehicles) without zod's walk: at 2,000 vehicles zod's encode
 * (a checked copy of every object, built by its generic walk) and the JSON.stringify over it took
 * a fifth of the request's main-thread time (docs/benchmarks.md). This checks the same things —
 * each value's type, a finite number where the schema has one, the enums — and stringifies each
 * vehicle as it is when it already has the schema's keys in the schema's order (as
 * web/vehicle-state.ts builds it), else a copy that has: exactly the JSON zod's serializer wrote
 * (test/web/fleet-json.test.ts holds the two side by side).
 */
export function fleetJson(body: FleetList): string {
  const b = obj(body, 'body') as unknown as FleetList;
  if (!Array.isArray(b.vehicles)) throw bad('vehicles');
  const vehicles: unknown[] = new Array(b.vehicles.length);
  for (let i = 0; i < b.vehicles.length; i++) {
    const v = b.vehicles[i];
    vehicles[i] = asIs(v) ? v : vehicleOut(v, `vehicles[${i}]`);
  }
  return `{"vehicles":${JSON.stringify(vehicles)},"counts":${countsJson(b.counts)}}`;
}

/** The counts' JSON, checked, in the schema's key order. */
function countsJson(counts: unknown): string {
  const c = obj(counts, 'counts') as unknown as FleetList['counts'];
  const bySource: Record<string, number> = {};
  for (const [k, n] of Object.entries(obj(c.bySource, 'counts.bySource'))) bySource[k] = num(n, `counts.bySource.${k}`);
  return JSON.stringify({
    total: num(c.total, 'counts.total'),
    online: num(c.online, 'counts.online'),
    offline: num(c.offline, 'counts.offline'),
    bySource,
    withAlarms: num(c.withAlarms, 'counts.withAlarms'),
  });
}

/** A vehicle's part that changes only with the registry: its JSON up to `createdAt`, as bytes. */
interface StaticPart {
  profile: object;
  name: string;
  model: string;
  customerId: string;
  createdAt: number;
  bytes: Buffer;
}

/** The keys whose JSON is kept per vehicle (the schema's first ones, in its order: checked below). */
const STATIC_KEYS = ['id', 'name', 'model', 'customerId', 'profile', 'createdAt'] as const;
if (VEHICLE_KEYS.slice(0, STATIC_KEYS.length).join() !== STATIC_KEYS.join())
  throw new Error(`web/fleet-json.ts: the vehicle schema no longer starts with ${STATIC_KEYS.join(', ')}`);

/**
 * The fleet list's JSON as bytes, the same bytes as `fleetJson`'s text in UTF-8 (and the same
 * checks). What it saves: at 2,000 vehicles the text was ~950 KiB, JSON.stringify ~3 ms and its
 * encoding to bytes ~3 ms on an idle machine, most of both for the part of each vehicle that only
 * the registry changes (id, name, model, unit, power profile, createdAt). That part's bytes are kept
 * per vehicle, and only the rest (presence, latest values, tickets, alarms) is written each time.
 * A kept part is used again only for the same profile object (the registry's vehicles are never
 * changed in place: a changed vehicle is a new object) with the same id, name, model, unit and
 * createdAt.
 */
export function createFleetBytes(): (body: FleetList) => Buffer {
  const parts = new Map<string, StaticPart>();
  let largest = 0;

  function staticPart(v: VehicleState): Buffer {
    const kept = parts.get(v.id);
    if (
      kept &&
      kept.profile === v.profile &&
      kept.name === v.name &&
      kept.model === v.model &&
      kept.customerId === v.customerId &&
      kept.createdAt === v.createdAt
    )
      return kept.bytes;
    const { id, name, model, customerId, profile, createdAt } = v;
    const json = JSON.stringify({ id, name, model, customerId, profile, createdAt });
    // `{…,"createdAt":N}` → `{…,"createdAt":N,`: the rest of the object follows
    const bytes = Buffer.from(`${json.slice(0, -1)},`);
    parts.set(id, { profile, name, model, customerId, createdAt, bytes });
    return bytes;
  }

  return (body) => {
    const b = obj(body, 'body') as unknown as FleetList;
    if (!Array.isArray(b.vehicles)) throw bad('vehicles');
    // vehicles gone from the registry: forget their parts now and then (bounded by the largest list
    // answered, so that a unit's short list does not throw away the whole fleet's parts)
    largest = Math.max(largest, b.vehicles.length);
    if (parts.size > 2 * largest + 1000) parts.clear();
    const chunks: (Buffer | string)[] = ['{"vehicles":['];
    const last = b.vehicles.length - 1;
    for (let i = 0; i <= last; i++) {
      const v = b.vehicles[i];
      const comma = i < last ? ',' : '';
      if (!asIs(v)) {
        chunks.push(JSON.stringify(vehicleOut(v, `vehicles[${i}]`)) + comma);
        continue;
      }
      const s = v as VehicleState;
      chunks.push(staticPart(s));
      // `{"online":…}` without its `{`: the same keys in the same order as the whole object's
      const rest = JSON.stringify({
        online: s.online,
        presenceChangedAt: s.presenceChangedAt,
        disconnectReason: s.disconnectReason,
        latest: s.latest,
        openTickets: s.openTickets,
        openTicket: s.openTicket,
        activeAlarms: s.activeAlarms,
        worstAlarm: s.worstAlarm,
      });
      chunks.push(rest.slice(1) + comma);
    }
    chunks.push(`],"counts":${countsJson(b.counts)}}`);
    // one buffer of the exact length: the kept parts copied, the texts between them encoded into it
    let length = 0;
    for (const c of chunks) length += typeof c === 'string' ? Buffer.byteLength(c) : c.length;
    const out = Buffer.allocUnsafe(length);
    let at = 0;
    for (const c of chunks) at += typeof c === 'string' ? out.write(c, at) : c.copy(out, at);
    return out;
  };
}

/** GET /api/vehicles' serializer compiler: `fleetJson` for its 200 answer. */
export const fleetSerializerCompiler = serializerWith(fleetJson);
