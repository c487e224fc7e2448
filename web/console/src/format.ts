/** Numbers, times and durations as the console shows them, in the current language. */
import { t } from './i18n.ts';

export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return t('time.s', { n: s });
  const m = Math.floor(s / 60);
  if (m < 60) return t('time.m', { n: m });
  const h = Math.floor(m / 60);
  if (h < 48) return t('time.h', { h, m: m % 60 });
  return t('time.d', { d: Math.floor(h / 24), h: h % 24 });
}

/** A countdown: mm:ss under an hour, else a duration. */
export function countdown(ms: number): string {
  const s = Math.round(Math.abs(ms) / 1000);
  if (s >= 3600) return duration(Math.abs(ms));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

export function ago(ts: number, now = Date.now()): string {
  const d = now - ts;
  if (d < 5000) return t('time.now');
  return t('time.ago', { d: duration(d) });
}

export const pad2 = (n: number) => String(n).padStart(2, '0');

/** One date and time format everywhere, in both languages: 2026-12-03 17:37 (24-hour, local time). */
export function dateTime(ts: number | null | undefined): string {
  if (ts === null || ts === undefined) return '—';
  const d = new Date(ts);
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
}

/** The same with seconds: 2026-12-03 17:37:05 (chart legends, where a second matters). */
export function dateTimeSeconds(ts: number): string {
  return `${dateTime(ts)}:${pad2(new Date(ts).getSeconds())}`;
}

/** A time of day with seconds, 24-hour: 17:37:05. */
export function time(ts: number): string {
  const d = new Date(ts);
  return `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

export function num(v: number | null | undefined, digits = 1, unit = ''): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  return `${v.toFixed(digits)}${unit ? ` ${unit}` : ''}`;
}

/** Time to empty in minutes → "3 h 20 min", "∞" when charging. */
export function timeToEmpty(min: number | null): string {
  if (min === null) return '—';
  if (!Number.isFinite(min)) return '∞';
  return duration(min * 60_000);
}

/** A value for a `datetime-local` input. */
export function toLocalInput(ts: number): string {
  const d = new Date(ts - new Date(ts).getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 16);
}
