/** Which telemetry fields go on which chart, and turning API series and live frames into uPlot data. */
import type { SeriesDef } from './components/chart.tsx';
import { t, type MessageKey } from './i18n.ts';
import type { NumericFieldPath } from '../../../protocol/index.ts';
import type { Series, TelemetryFrame } from './types.ts';

export interface ChartDef {
  id: string;
  title: MessageKey;
  /** Each axis carries one unit: quantities of different units never share an axis. */
  leftUnit: string;
  rightUnit: string;
  /** A fixed axis range (percentages: 0–100), so a 0.1 % step does not look like a cliff. */
  leftRange?: [number, number];
  rightRange?: [number, number];
  fields: {
    path: NumericFieldPath;
    label: MessageKey;
    color: string;
    axis?: 'left' | 'right';
    unit: string;
    dash?: boolean;
  }[];
}

/**
 * Every field of the contract, grouped by power section, at most two units a chart (one per axis):
 * the vehicle page, the ticket's snapshot and the remote session show the same charts.
 */
export const CHARTS: ChartDef[] = [
  {
    id: 'mains',
    title: 'chart.mains',
    leftUnit: 'V',
    rightUnit: 'Hz',
    fields: [
      { path: 'mains.voltageV', label: 'series.mainsV', color: '#2f7ed8', unit: 'V' },
      { path: 'mains.frequencyHz', label: 'series.mainsHz', color: '#7cb5ec', axis: 'right', unit: 'Hz', dash: true },
    ],
  },
  {
    id: 'generator',
    title: 'chart.generator',
    leftUnit: 'V',
    rightUnit: 'Hz',
    fields: [
      { path: 'generator.voltageV', label: 'series.genV', color: '#e4572e', unit: 'V' },
      { path: 'generator.frequencyHz', label: 'series.genHz', color: '#f5a37f', axis: 'right', unit: 'Hz', dash: true },
    ],
  },
  {
    id: 'engine',
    title: 'chart.engine',
    leftUnit: 'rpm',
    rightUnit: '°C',
    fields: [
      { path: 'generator.rpm', label: 'series.genRpm', color: '#6d597a', unit: 'rpm' },
      { path: 'generator.coolantC', label: 'series.genCoolant', color: '#d62828', axis: 'right', unit: '°C' },
    ],
  },
  {
    id: 'engine-supply',
    title: 'chart.engineSupply',
    leftUnit: 'kPa',
    rightUnit: '%',
    rightRange: [0, 100],
    fields: [
      { path: 'generator.oilKpa', label: 'series.genOil', color: '#8d5a2b', unit: 'kPa' },
      { path: 'generator.fuelPct', label: 'series.genFuel', color: '#457b9d', axis: 'right', unit: '%' },
    ],
  },
  {
    id: 'battery',
    title: 'chart.battery',
    leftUnit: 'V',
    rightUnit: 'A',
    fields: [
      { path: 'battery.voltageV', label: 'series.battV', color: '#2a9d8f', unit: 'V' },
      { path: 'battery.currentA', label: 'series.battA', color: '#8d6cab', axis: 'right', unit: 'A' },
    ],
  },
  {
    id: 'battery-state',
    title: 'chart.batteryState',
    leftUnit: '%',
    rightUnit: '°C',
    leftRange: [0, 100],
    fields: [
      { path: 'battery.socPct', label: 'series.soc', color: '#e9c46a', unit: '%' },
      { path: 'battery.tempC', label: 'series.battTemp', color: '#bc4749', axis: 'right', unit: '°C' },
    ],
  },
  {
    id: 'charging',
    title: 'chart.charging',
    leftUnit: 'V',
    rightUnit: 'A',
    fields: [
      { path: 'charging.alternatorV', label: 'series.altV', color: '#90be6d', unit: 'V' },
      { path: 'charging.currentA', label: 'series.chargeA', color: '#43aa8b', axis: 'right', unit: 'A' },
    ],
  },
  {
    id: 'load',
    title: 'chart.load',
    leftUnit: 'A',
    rightUnit: 'kW',
    fields: [
      { path: 'mains.currentA', label: 'series.mainsA', color: '#1d4e89', unit: 'A' },
      { path: 'generator.currentA', label: 'series.genA', color: '#a23b1e', unit: 'A' },
      { path: 'loadKw', label: 'series.loadKw', color: '#f94144', axis: 'right', unit: 'kW' },
    ],
  },
];

export const ALL_FIELDS = CHARTS.flatMap((c) => c.fields.map((f) => f.path));

/** A chart's axes as components/chart.tsx takes them: units, fixed ranges, the time column's name. */
export function axesOf(c: ChartDef): {
  leftUnit: string;
  rightUnit: string;
  leftRange?: [number, number];
  rightRange?: [number, number];
  timeLabel: string;
} {
  return {
    leftUnit: c.leftUnit,
    rightUnit: c.rightUnit,
    ...(c.leftRange ? { leftRange: c.leftRange } : {}),
    ...(c.rightRange ? { rightRange: c.rightRange } : {}),
    timeLabel: t('chart.time'),
  };
}

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
