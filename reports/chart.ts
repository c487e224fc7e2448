import { localDateTime } from '../core/local-time.ts';
import type { ChartData } from './document.ts';

/**
 * A chart's geometry in a box of `width` × `height` units, as SVG path data: the HTML renderer puts
 * it in an inline <svg>, the PDF renderer draws the same path data as vector paths (pdfkit's
 * `path`). Pure; no chart library on the server.
 */
export interface ChartGeometry {
  plot: { x: number; y: number; w: number; h: number };
  lines: { d: string; color: string; label: string }[];
  yTicks: { y: number; label: string }[];
  xTicks: { x: number; label: string }[];
  /** `end`: the label goes left of the line (near the plot's right edge). */
  markers: { x: number; label: string; anchor: 'start' | 'end' }[];
}

const PAD = { left: 34, right: 8, top: 6, bottom: 16 };

function niceStep(range: number, count: number): number {
  const raw = range / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const n = raw / mag;
  return (n <= 1 ? 1 : n <= 2 ? 2 : n <= 2.5 ? 2.5 : n <= 5 ? 5 : 10) * mag;
}

const fmt = (v: number, step: number) => (step >= 1 ? String(Math.round(v)) : v.toFixed(step >= 0.1 ? 1 : 2));

/** A time axis label: "17:30" in the service centre's zone. */
export const axisTime = (ms: number, timeZone: string) => localDateTime(ms, timeZone).slice(11);

export function chartGeometry(c: ChartData, width: number, height: number, timeZone: string) {
  const plot = { x: PAD.left, y: PAD.top, w: width - PAD.left - PAD.right, h: height - PAD.top - PAD.bottom };
  const values = c.lines.flatMap((l) => l.values.filter((v): v is number => v !== null && Number.isFinite(v)));
  let lo = c.yMin ?? (values.length ? Math.min(...values) : 0);
  let hi = c.yMax ?? (values.length ? Math.max(...values) : 1);
  if (c.yMin === undefined && values.length) lo = Math.min(lo, Math.min(...values));
  if (c.yMax === undefined && values.length) hi = Math.max(hi, Math.max(...values));
  if (hi - lo < 1e-9) {
    hi += 1;
    if (c.yMin === undefined) lo -= 1;
  }
  const step = niceStep(hi - lo, 4);
  if (c.yMin === undefined) lo = Math.floor(lo / step) * step;
  if (c.yMax === undefined) hi = Math.ceil(hi / step) * step;
  const span = Math.max(1, c.to - c.from);
  const xOf = (ms: number) => plot.x + ((ms - c.from) / span) * plot.w;
  const yOf = (v: number) => plot.y + plot.h - ((v - lo) / (hi - lo)) * plot.h;
  const r = (n: number) => Math.round(n * 10) / 10;

  // a gap in the data (more than 3 typical steps without a point) breaks the line
  const dts = c.ts.slice(1).map((t, i) => t - c.ts[i]!);
  const typical = dts.length ? [...dts].sort((a, b) => a - b)[Math.floor(dts.length / 2)]! : 0;
  const lines = c.lines.map((l) => {
    let d = '';
    let pen = false;
    c.ts.forEach((t, i) => {
      const v = l.values[i];
      if (v === null || v === undefined || !Number.isFinite(v)) {
        pen = false;
        return;
      }
      if (pen && typical > 0 && t - c.ts[i - 1]! > 3 * typical) pen = false;
      d += `${pen ? 'L' : 'M'}${r(xOf(t))} ${r(yOf(Math.min(hi, Math.max(lo, v))))} `;
      pen = true;
    });
    return { d: d.trim(), color: l.color, label: l.label };
  });

  const yTicks: ChartGeometry['yTicks'] = [];
  for (let v = lo; v <= hi + step / 1000; v += step) yTicks.push({ y: r(yOf(v)), label: fmt(v, step) });
  const hourish = [15, 30, 60, 120, 180, 360, 720, 1440].map((m) => m * 60_000);
  const xStep = hourish.find((s) => span / s <= 5) ?? 1440 * 60_000;
  const xTicks: ChartGeometry['xTicks'] = [];
  for (let t = Math.ceil(c.from / xStep) * xStep; t <= c.to; t += xStep)
    xTicks.push({ x: r(xOf(t)), label: axisTime(t, timeZone) });
  const markers = c.markers
    .filter((m) => m.at >= c.from && m.at <= c.to)
    .map((m) => {
      const x = r(xOf(m.at));
      return { x, label: m.label, anchor: x > plot.x + plot.w - 45 ? ('end' as const) : ('start' as const) };
    });
  return { plot, lines, yTicks, xTicks, markers } satisfies ChartGeometry;
}
