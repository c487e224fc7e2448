/** Which telemetry fields go on which chart, and turning API series and live frames into uPlot data. */
import type { SeriesDef } from './components/chart.tsx';
import { t, type MessageKey } from './i18n.ts';
import type { NumericFieldPath } from '../../../protocol/index.ts';
import type { Series, TelemetryFrame } from './types.ts';

export interface ChartDef {
  id: string;
  title: MessageKey;
  leftUnit: string;
  rightUnit: string;
  fields: {
    path: NumericFieldPath;
    label: MessageKey;
    color: string;
    axis?: 'left' | 'right';
    unit: string;
    dash?: boolean;
  }[];
}

export const CHARTS: ChartDef[] = [
  {
    id: 'ac',
    title: 'vehicle.chart.ac',
    leftUnit: 'V',
    rightUnit: 'Hz',
    fields: [
      { path: 'mains.voltageV', label: 'series.mainsV', color: '#2f7ed8', unit: 'V' },
      { path: 'generator.voltageV', label: 'series.genV', color: '#e4572e', unit: 'V' },
      { path: 'mains.frequencyHz', label: 'series.mainsHz', color: '#7cb5ec', axis: 'right', unit: 'Hz', dash: true },
      { path: 'generator.frequencyHz', label: 'series.genHz', color: '#f5a37f', axis: 'right', unit: 'Hz', dash: true },
    ],
  },
  {
    id: 'battery',
    title: 'vehicle.chart.battery',
    leftUnit: 'V / A',
    rightUnit: '%',
    fields: [
      { path: 'battery.voltageV', label: 'series.battV', color: '#2a9d8f', unit: 'V' },
      { path: 'battery.currentA', label: 'series.battA', color: '#8d6cab', unit: 'A' },
      { path: 'battery.socPct', label: 'series.soc', color: '#e9c46a', axis: 'right', unit: '%' },
    ],
  },
  {
    id: 'charging',
    title: 'vehicle.chart.charging',
    leftUnit: 'A',
    rightUnit: 'kW',
    fields: [
      { path: 'charging.currentA', label: 'series.chargeA', color: '#43aa8b', unit: 'A' },
      { path: 'loadKw', label: 'series.loadKw', color: '#f94144', axis: 'right', unit: 'kW' },
    ],
  },
];

export const ALL_FIELDS = CHARTS.flatMap((c) => c.fields.map((f) => f.path));

export function seriesDefs(c: ChartDef): SeriesDef[] {
  return c.fields.map((f) => ({
    label: t(f.label),
    color: f.color,
    axis: f.axis ?? 'left',
    unit: f.unit,
    ...(f.dash ? { dash: true } : {}),
  }));
}

export function fieldOf(frame: TelemetryFrame, path: string): number | null {
  let v: unknown = frame;
  for (const k of path.split('.')) {
    if (v === null || typeof v !== 'object') return null;
    v = (v as Record<string, unknown>)[k];
  }
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** Columns keyed by field path plus time in ms: the shape both live and history data are kept in. */
export interface Columns {
  ts: number[];
  values: Record<string, (number | null)[]>;
}

/** The field paths of a set of charts (the default: the vehicle page's). */
export const fieldsOf = (charts: ChartDef[]): string[] => charts.flatMap((c) => c.fields.map((f) => f.path));

export function emptyColumns(fields: readonly string[] = ALL_FIELDS): Columns {
  return { ts: [], values: Object.fromEntries(fields.map((f) => [f, []])) };
}

export function columnsFromSeries(s: Series, fields: readonly string[] = ALL_FIELDS): Columns {
  const values: Record<string, (number | null)[]> = {};
  for (const f of fields) values[f] = s.fields[f as NumericFieldPath]?.avg ?? s.ts.map(() => null);
  return { ts: s.ts, values };
}

/** Appends frames newer than the last point and drops points older than `windowMs` before the newest. */
export function appendFrames(
  c: Columns,
  frames: TelemetryFrame[],
  windowMs: number,
  fields: readonly string[] = ALL_FIELDS,
): Columns {
  const ts = c.ts.slice();
  const values = Object.fromEntries(fields.map((f) => [f, (c.values[f] ?? []).slice()]));
  for (const fr of frames) {
    if (ts.length && fr.ts <= ts[ts.length - 1]!) continue;
    ts.push(fr.ts);
    for (const f of fields) values[f]!.push(fieldOf(fr, f));
  }
  const cut = ts.length ? ts[ts.length - 1]! - windowMs : 0;
  let drop = 0;
  while (drop < ts.length && ts[drop]! < cut) drop++;
  if (drop) {
    ts.splice(0, drop);
    for (const f of fields) values[f]!.splice(0, drop);
  }
  return { ts, values };
}

export function uplotData(c: Columns, def: ChartDef): (number | null)[][] {
  return [c.ts.map((x) => x / 1000), ...def.fields.map((f) => c.values[f.path] ?? [])];
}
