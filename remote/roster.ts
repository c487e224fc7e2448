import type { Selectable } from 'kysely';
import { PlatformError } from '../core/errors.ts';
import type { RecordsDb } from '../records/db.ts';
import type { DutyShiftsTable } from './records.ts';

/**
 * The duty roster (7×24 answering): shifts per weekday or per date, from a local start to a local
 * end time in the service centre's time zone, each naming a primary and (optionally) a secondary
 * engineer and the duty lead. A shift whose end is at or before its start runs past midnight into
 * the next day. A dated shift takes precedence over the weekly ones on its day.
 */
export interface DutyShift {
  id: number;
  /** 0 = Sunday … 6 = Saturday; null for a dated shift. */
  weekday: number | null;
  /** YYYY-MM-DD; null for a weekly shift. */
  date: string | null;
  /** HH:MM, local time. */
  start: string;
  end: string;
  primary: string;
  secondary: string | null;
  dutyLead: string;
}

export type DutyShiftInput = Omit<DutyShift, 'id'>;

/** The wall clock of an instant in a time zone. */
export interface LocalTime {
  /** YYYY-MM-DD */
  date: string;
  weekday: number;
  /** Minutes since local midnight. */
  minutes: number;
}

const WEEKDAYS: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

/** True when `tz` is an IANA time zone this runtime knows. */
export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export function localTime(at: number, timeZone: string): LocalTime {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    weekday: 'short',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(new Date(at));
  const part = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
  return {
    date: `${part('year')}-${part('month')}-${part('day')}`,
    weekday: WEEKDAYS[part('weekday')] ?? 0,
    minutes: Number(part('hour')) * 60 + Number(part('minute')),
  };
}

/** The calendar day before `date` (YYYY-MM-DD). */
function dayBefore(date: string): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d - 1)).toISOString().slice(0, 10);
}

const minutesOf = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

function startsOn(s: DutyShift, date: string, weekday: number): boolean {
  return s.date !== null ? s.date === date : s.weekday === weekday;
}

/** Whether the shift, started on the day (`date`, `weekday`), covers `minutes` of that day (`sameDay`) or of the next. */
function covers(s: DutyShift, minutes: number, sameDay: boolean): boolean {
  const start = minutesOf(s.start);
  const end = minutesOf(s.end);
  const overnight = end <= start;
  if (sameDay) return minutes >= start && (overnight || minutes < end);
  return overnight && minutes < end;
}

/** The shift on duty at `at` (dated shifts before weekly ones, then the lowest id), or undefined. */
export function shiftAt(shifts: readonly DutyShift[], at: number, timeZone: string): DutyShift | undefined {
  const now = localTime(at, timeZone);
  const yesterday = dayBefore(now.date);
  const yWeekday = (now.weekday + 6) % 7;
  const matching = shifts.filter(
    (s) =>
      (startsOn(s, now.date, now.weekday) && covers(s, now.minutes, true)) ||
      (startsOn(s, yesterday, yWeekday) && covers(s, now.minutes, false)),
  );
  return matching.sort((a, b) => Number(a.date === null) - Number(b.date === null) || a.id - b.id)[0];
}

const TIME = /^([01]\d|2[0-3]):[0-5]\d$/;
const DATE = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;

/** Refuses a shift that is not well formed (INVALID_ARGUMENT naming the field). */
export function checkShift(s: DutyShiftInput): void {
  const bad = (m: string) => new PlatformError('INVALID_ARGUMENT', m);
  if ((s.weekday === null) === (s.date === null)) throw bad('a shift has either a weekday or a date');
  if (s.weekday !== null && !(Number.isInteger(s.weekday) && s.weekday >= 0 && s.weekday <= 6))
    throw bad('weekday must be 0 (Sunday) … 6 (Saturday)');
  if (s.date !== null && (!DATE.test(s.date) || Number.isNaN(Date.parse(`${s.date}T00:00:00Z`))))
    throw bad('date must be YYYY-MM-DD');
  if (!TIME.test(s.start)) throw bad('start must be HH:MM (00:00–23:59)');
  if (!TIME.test(s.end)) throw bad('end must be HH:MM (00:00–23:59)');
  if (s.secondary !== null && s.secondary === s.primary) throw bad('the secondary engineer is not the primary');
}

function toShift(r: Selectable<DutyShiftsTable>): DutyShift {
  return {
    id: Number(r.id),
    weekday: r.weekday === null ? null : Number(r.weekday),
    date: r.date,
    start: r.start_time,
    end: r.end_time,
    primary: r.primary_engineer,
    secondary: r.secondary_engineer,
    dutyLead: r.duty_lead,
  };
}

const toRow = (s: DutyShiftInput) => ({
  weekday: s.weekday,
  date: s.date,
  start_time: s.start,
  end_time: s.end,
  primary_engineer: s.primary,
  secondary_engineer: s.secondary,
  duty_lead: s.dutyLead,
});

/** The roster's rows: list, add, change, remove, and who is on duty at an instant. */
export function createRoster(deps: {
  db: RecordsDb;
  now: () => number;
  /** Accounts named in a shift must be active staff; throws ACCOUNT_NOT_FOUND (or similar) when not. */
  checkStaff: (id: string) => Promise<void>;
  timeZone: string;
}) {
  const { db } = deps;
  async function get(id: number): Promise<DutyShift> {
    const r = await db.selectFrom('duty_shifts').selectAll().where('id', '=', id).executeTakeFirst();
    if (!r) throw new PlatformError('DUTY_SHIFT_NOT_FOUND', `duty shift ${id} not found`);
    return toShift(r);
  }
  async function check(s: DutyShiftInput): Promise<void> {
    checkShift(s);
    for (const a of new Set([s.primary, s.secondary, s.dutyLead])) if (a !== null) await deps.checkStaff(a);
  }
  async function list(): Promise<DutyShift[]> {
    const rows = await db
      .selectFrom('duty_shifts')
      .selectAll()
      .orderBy('date')
      .orderBy('weekday')
      .orderBy('start_time')
      .orderBy('id')
      .execute();
    return rows.map(toShift);
  }
  return {
    timeZone: deps.timeZone,
    list,
    get,
    async add(s: DutyShiftInput): Promise<DutyShift> {
      await check(s);
      const at = deps.now();
      const r = await db
        .insertInto('duty_shifts')
        .values({ ...toRow(s), created_at: at, updated_at: at })
        .returning('id')
        .executeTakeFirstOrThrow();
      return get(Number(r.id));
    },
    async update(id: number, patch: Partial<DutyShiftInput>): Promise<DutyShift> {
      const next = { ...(await get(id)), ...patch };
      await check(next);
      await db
        .updateTable('duty_shifts')
        .set({ ...toRow(next), updated_at: deps.now() })
        .where('id', '=', id)
        .execute();
      return get(id);
    },
    async remove(id: number): Promise<void> {
      await get(id);
      await db.deleteFrom('duty_shifts').where('id', '=', id).execute();
    },
    /** The shift on duty at `at` (default now), or undefined when none covers it. */
    async onDuty(at = deps.now()): Promise<DutyShift | undefined> {
      return shiftAt(await list(), at, deps.timeZone);
    },
  };
}

export type Roster = ReturnType<typeof createRoster>;
