/** Calendar periods of the statistics, in the service centre's time zone (SERVICE_TIME_ZONE). */
export const PERIODS = ['day', 'week', 'month'] as const;
export type Period = (typeof PERIODS)[number];

const formats = new Map<string, Intl.DateTimeFormat>();

/** The zone's offset from UTC at `ms` (east positive), from Intl. */
function offsetAt(ms: number, timeZone: string): number {
  let f = formats.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formats.set(timeZone, f);
  }
  const p = f.formatToParts(new Date(ms));
  const n = (t: string) => Number(p.find((x) => x.type === t)!.value);
  return (
    Date.UTC(n('year'), n('month') - 1, n('day'), n('hour'), n('minute'), n('second')) - Math.floor(ms / 1000) * 1000
  );
}

/** The local midnight of a local calendar day, as epoch ms. */
function localMidnight(y: number, m: number, d: number, timeZone: string): number {
  const guess = Date.UTC(y, m, d);
  return guess - offsetAt(guess - offsetAt(guess, timeZone), timeZone);
}

/**
 * The starts of the periods that cover [from, to): the first is the start of the period holding
 * `from`; at most `max` of them (a longer span is refused by the caller's schema first).
 */
export function periodStarts(from: number, to: number, period: Period, timeZone: string, max = 1000): number[] {
  const local = new Date(from + offsetAt(from, timeZone));
  let y = local.getUTCFullYear();
  let m = local.getUTCMonth();
  let d = local.getUTCDate();
  if (period === 'week') d -= (local.getUTCDay() + 6) % 7; // weeks start on Monday
  if (period === 'month') d = 1;
  const starts: number[] = [];
  for (;;) {
    const at = localMidnight(y, m, d, timeZone);
    if (at >= to || starts.length >= max) break;
    starts.push(at);
    if (period === 'day') d += 1;
    else if (period === 'week') d += 7;
    else m += 1;
    const n = new Date(Date.UTC(y, m, d));
    y = n.getUTCFullYear();
    m = n.getUTCMonth();
    d = n.getUTCDate();
  }
  return starts;
}

/** The local midnight starting the day that holds `ms`. */
export function dayStartOf(ms: number, timeZone: string): number {
  return periodStarts(ms, ms + 1, 'day', timeZone)[0]!;
}

/** The local midnight after the one at `dayStart` (a day is 23–25 hours where clocks change). */
export function nextDayStart(dayStart: number, timeZone: string): number {
  return dayStartOf(dayStart + 30 * 3_600_000, timeZone);
}
