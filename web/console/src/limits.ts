/**
 * The vehicle's limits (GET /api/vehicles/:id/limits: where its rules raise their alarms, resolved
 * against its power profile) as chart lines and as marks on the values that are past one.
 */
import type { ChartLimit } from './components/chart.tsx';
import { CHARTS, type ChartDef } from './charts.ts';
import { num } from './format.ts';
import { loc, t, type MessageKey } from './i18n.ts';
import type { FieldLimit, TelemetryFrame } from './types.ts';

const SEVERITY_COLOUR: Record<FieldLimit['severity'], string> = {
  minor: '#b7791f',
  major: '#dd6b20',
  critical: '#c53030',
};

/** The lines of one chart: each limit of a field it shows, on that field's axis. */
export function chartLimits(def: ChartDef, limits: FieldLimit[]): ChartLimit[] {
  const out: ChartLimit[] = [];
  for (const l of limits) {
    const f = def.fields.find((x) => x.path === l.field);
    if (!f) continue;
    for (const [value, sign] of [
      [l.low, '<'],
      [l.high, '>'],
    ] as const) {
      if (value === null) continue;
      out.push({
        value,
        axis: f.axis ?? 'left',
        color: SEVERITY_COLOUR[l.severity],
        label: `${l.code} ${sign} ${num(value, value % 1 ? 1 : 0, f.unit)}`,
      });
    }
  }
  return out;
}

type Gate = FieldLimit['onlyWhile'][number];

/** A signal of a frame by its path (`generator.running`, `source`), or undefined. */
function read(frame: unknown, path: string): unknown {
  let v: unknown = frame;
  for (const k of path.split('.')) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
  return v;
}

function holds(g: Gate, frame: TelemetryFrame | null): boolean {
  const v = read(frame, g.field);
  if (v === undefined || v === null) return false;
  switch (g.op) {
    case '==':
      return v === g.value;
    case '!=':
      return v !== g.value;
    case '<':
      return (v as number) < (g.value as number);
    case '<=':
      return (v as number) <= (g.value as number);
    case '>':
      return (v as number) > (g.value as number);
    case '>=':
      return (v as number) >= (g.value as number);
  }
}

/**
 * The limits a value is past (worst first), or none: only those whose gates hold on the frame the
 * value is from (a stopped generator's 0 V is past no limit); without a frame, only ungated ones.
 */
export function pastLimits(
  field: string,
  value: number | null,
  limits: FieldLimit[],
  frame: TelemetryFrame | null,
): FieldLimit[] {
  if (value === null) return [];
  const rank = { minor: 0, major: 1, critical: 2 } as const;
  return limits
    .filter((l) => l.field === field && ((l.low !== null && value < l.low) || (l.high !== null && value > l.high)))
    .filter((l) => l.onlyWhile.every((g) => holds(g, frame)))
    .sort((a, b) => rank[b.severity] - rank[a.severity]);
}

/** The signals limits are gated on that no chart shows: yes/no states and the power source. */
const GATE_FIELDS: Record<string, MessageKey> = {
  'generator.running': 'gate.generatorRunning',
  'charging.engineRunning': 'gate.engineRunning',
  'mains.present': 'gate.mainsPresent',
  source: 'fleet.col.source',
};

/** A gate in words of the console's language: "generator running", "generator rpm > 1000". */
function gateText(g: Gate): string {
  const series = CHARTS.flatMap((c) => c.fields).find((f) => f.path === g.field);
  const name = series ? t(series.label) : GATE_FIELDS[g.field] ? t(GATE_FIELDS[g.field]!) : g.field;
  if (typeof g.value === 'boolean' && (g.op === '==' || g.op === '!=')) {
    const holds = g.value === (g.op === '==');
    return holds ? name : t('gate.not', { what: name });
  }
  const value =
    typeof g.value === 'string' && g.field === 'source' ? t(`source.${g.value}` as MessageKey) : String(g.value);
  return `${name} ${g.op} ${value}`;
}

/** "GEN-VOLTAGE: 204.6–235.4 V" — a field's limits, for a caption or a tooltip. */
export function limitText(l: FieldLimit, unit: string): string {
  const band =
    l.low !== null && l.high !== null
      ? `${num(l.low, 1)}–${num(l.high, 1, unit)}`
      : l.low !== null
        ? `< ${num(l.low, 1, unit)}`
        : `> ${num(l.high, 1, unit)}`;
  const gates = l.onlyWhile.length ? ` (${t('gate.onlyWhile', { gates: l.onlyWhile.map(gateText).join(', ') })})` : '';
  return `${l.code} ${loc(l.title)}: ${band}${gates}`;
}
