/**
 * Times as people at the service centre read them: "2026-12-03 17:37" (or with seconds) in an IANA
 * time zone, 24-hour, one format in both languages. One formatter per zone and precision.
 */
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string, seconds: boolean): Intl.DateTimeFormat {
  const key = `${timeZone}|${seconds}`;
  let f = formatters.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      ...(seconds ? { second: '2-digit' as const } : {}),
      hourCycle: 'h23',
    });
    formatters.set(key, f);
  }
  return f;
}

/** "2026-12-03 17:37" (with `seconds`: "2026-12-03 17:37:05") in `timeZone`. */
export function localDateTime(ms: number, timeZone: string, seconds = false): string {
  return formatter(timeZone, seconds).format(new Date(ms)).replace(',', '');
}
