import { describe, expect, it } from 'vitest';
import { checkShift, localTime, shiftAt, type DutyShift } from '../../remote/roster.ts';

const TZ = 'Asia/Shanghai';
/** Local Shanghai wall time (UTC+8, no DST) → epoch ms. */
const sh = (iso: string) => Date.parse(`${iso}+08:00`);

const shift = (id: number, patch: Partial<DutyShift>): DutyShift => ({
  id,
  weekday: null,
  date: null,
  start: '08:00',
  end: '20:00',
  primary: `p${id}`,
  secondary: null,
  dutyLead: 'lead',
  ...patch,
});

describe('duty roster: who is on duty now', () => {
  // 2026-11-27 is a Friday (5), 2026-11-28 a Saturday (6)
  const day = shift(1, { weekday: 5, start: '08:00', end: '20:00' });
  const night = shift(2, { weekday: 5, start: '20:00', end: '08:00' });
  const holiday = shift(3, { date: '2026-11-27', start: '12:00', end: '14:00' });

  it('reads the wall clock in the service time zone', () => {
    expect(localTime(sh('2026-11-27T23:30:00'), TZ)).toEqual({ date: '2026-11-27', weekday: 5, minutes: 23 * 60 + 30 });
    // the same instant is still Friday morning in UTC
    expect(localTime(sh('2026-11-27T23:30:00'), 'UTC')).toMatchObject({ date: '2026-11-27', minutes: 15 * 60 + 30 });
  });

  it('a day shift covers [start, end)', () => {
    expect(shiftAt([day, night], sh('2026-11-27T08:00:00'), TZ)?.id).toBe(1);
    expect(shiftAt([day, night], sh('2026-11-27T19:59:00'), TZ)?.id).toBe(1);
    expect(shiftAt([day, night], sh('2026-11-27T20:00:00'), TZ)?.id).toBe(2);
  });

  it('a shift across midnight covers the next morning of the next weekday', () => {
    expect(shiftAt([day, night], sh('2026-11-27T23:59:00'), TZ)?.id).toBe(2);
    expect(shiftAt([day, night], sh('2026-11-28T03:00:00'), TZ)?.id).toBe(2);
    expect(shiftAt([day, night], sh('2026-11-28T08:00:00'), TZ)).toBeUndefined();
    // Friday 03:00 is covered by Thursday's night shift, which there is none of
    expect(shiftAt([day, night], sh('2026-11-27T03:00:00'), TZ)).toBeUndefined();
  });

  it('a dated shift takes precedence over the weekly ones on its day', () => {
    expect(shiftAt([day, night, holiday], sh('2026-11-27T13:00:00'), TZ)?.id).toBe(3);
    expect(shiftAt([day, night, holiday], sh('2026-11-27T14:00:00'), TZ)?.id).toBe(1);
    expect(shiftAt([day, night, holiday], sh('2026-12-04T13:00:00'), TZ)?.id).toBe(1);
  });

  it('the same shifts in another time zone are another set of instants', () => {
    // 13:00 UTC: 14:00 in Berlin (on duty), 21:00 in Shanghai (off)
    expect(shiftAt([day], Date.parse('2026-11-27T13:00:00Z'), 'Europe/Berlin')?.id).toBe(1);
    expect(shiftAt([day], Date.parse('2026-11-27T13:00:00Z'), TZ)).toBeUndefined();
  });

  it('refuses a malformed shift with the field named', () => {
    const bad = (patch: Partial<DutyShift>) => () => checkShift({ ...shift(0, { weekday: 1 }), ...patch });
    expect(bad({ date: '2026-11-27' })).toThrow('either a weekday or a date');
    expect(bad({ weekday: 7 })).toThrow('weekday must be');
    expect(bad({ start: '24:00' })).toThrow('start must be HH:MM');
    expect(bad({ end: '8:00' })).toThrow('end must be HH:MM');
    expect(bad({ secondary: 'p0' })).toThrow('secondary engineer is not the primary');
  });
});
