/**
 * A uPlot chart that updates in place: created once per series layout, `setData` on every new data
 * set (live frames append without re-creating the chart). Drag across it to select a range
 * (`onZoom`), double-click to go back (`onReset`). `data-points` tells tests how many points it shows.
 */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { dateTimeSeconds, pad2 } from '../format.ts';

export interface SeriesDef {
  label: string;
  color: string;
  /** 'left' (default) or 'right' axis. */
  axis?: 'left' | 'right';
  unit?: string;
  dash?: boolean;
}

/** A horizontal line at a value: where a rule raises its alarm (the vehicle's profile-relative limit). */
export interface ChartLimit {
  value: number;
  axis: 'left' | 'right';
  color: string;
  /** Drawn beside the line, e.g. "GEN-VOLTAGE < 204.6 V". */
  label: string;
}

export interface ChartProps {
  id: string;
  title: string;
  series: SeriesDef[];
  /** [x seconds, ...one array per series]. */
  data: (number | null)[][];
  height?: number;
  leftUnit?: string;
  rightUnit?: string;
  onZoom?: (fromMs: number, toMs: number) => void;
  onReset?: () => void;
  /** The legend's name of the time column, in the console's language. */
  timeLabel?: string;
  /** Limit lines, kept in view: the axis' range stretches to show them. */
  limits?: ChartLimit[];
  /** Fixed axis ranges (percentages: 0–100) instead of the data's. */
  leftRange?: [number, number];
  rightRange?: [number, number];
}

/** An x-axis tick, 24-hour in both languages: the date for day steps, seconds for steps under a minute. */
export function tickLabel(ms: number, stepS: number): string {
  const d = new Date(ms);
  const date = `${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}`;
  const hm = `${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
  if (stepS >= 86_400) return date;
  if (stepS < 60) return `${hm}:${pad2(d.getSeconds())}`;
  return d.getHours() === 0 && d.getMinutes() === 0 ? `${date}\n${hm}` : hm;
}

/** Canvas cannot read CSS variables: resolve the theme's colours once per chart. */
function themeColour(name: string, fallback: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}

/** The chart's own view of its props: the limits are read at each draw (they load after the chart). */
type LiveProps = Omit<ChartProps, 'limits'> & { limits?: () => ChartLimit[] };

/** An axis' range: the data's, stretched to the limits on that axis, with a little air. */
function rangeWithLimits(p: LiveProps, axis: 'left' | 'right'): uPlot.Range.Function {
  const fixed = axis === 'left' ? p.leftRange : p.rightRange;
  return (_u, min, max) => {
    let lo = fixed ? fixed[0] : min;
    let hi = fixed ? fixed[1] : max;
    for (const l of p.limits?.() ?? []) {
      if (l.axis !== axis) continue;
      lo = lo === null || Number.isNaN(lo) ? l.value : Math.min(lo, l.value);
      hi = hi === null || Number.isNaN(hi) ? l.value : Math.max(hi, l.value);
    }
    if (lo === null || hi === null || Number.isNaN(lo) || Number.isNaN(hi)) return [0, 1];
    if (lo === hi) return [lo - 1, hi + 1];
    if (fixed && lo === fixed[0] && hi === fixed[1]) return [lo, hi];
    const pad = (hi - lo) * 0.05;
    return [lo - pad, hi + pad];
  };
}

/** The legend at the newest point, unless the pointer is on the plot (then it follows the pointer). */
function showLatest(u: uPlot): void {
  const n = u.data[0]?.length ?? 0;
  const hovering = u.cursor.left !== undefined && u.cursor.left >= 0;
  if (n && !hovering) u.setLegend({ idx: n - 1 });
}

function drawLimits(u: uPlot, limits: ChartLimit[]): void {
  if (!limits.length) return;
  const ctx = u.ctx;
  const { left, top, width, height } = u.bbox;
  ctx.save();
  ctx.lineWidth = devicePixelRatio;
  ctx.setLineDash([4 * devicePixelRatio, 4 * devicePixelRatio]);
  ctx.font = `${11 * devicePixelRatio}px sans-serif`;
  ctx.textAlign = 'right';
  for (const l of limits) {
    const y = Math.round(u.valToPos(l.value, l.axis, true));
    if (y < top || y > top + height) continue;
    ctx.strokeStyle = l.color;
    ctx.fillStyle = l.color;
    ctx.beginPath();
    ctx.moveTo(left, y);
    ctx.lineTo(left + width, y);
    ctx.stroke();
    ctx.fillText(l.label, left + width - 4 * devicePixelRatio, y - 3 * devicePixelRatio);
  }
  ctx.restore();
}

function options(p: LiveProps, width: number): uPlot.Options {
  const hasRight = p.series.some((s) => s.axis === 'right');
  const muted = themeColour('--muted', '#667085');
  const grid = themeColour('--grid', 'rgba(102,112,133,0.18)');
  const axis = { stroke: muted, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
  return {
    width,
    height: p.height ?? 220,
    cursor: { drag: { x: !!p.onZoom, y: false, setScale: false } },
    legend: { live: true },
    scales: {
      x: { time: true },
      left: { range: rangeWithLimits(p, 'left') },
      ...(hasRight ? { right: { range: rangeWithLimits(p, 'right') } } : {}),
    },
    axes: [
      {
        ...axis,
        space: 70,
        values: (_u: uPlot, splits: number[], _i: number, _space: number, incr: number) =>
          splits.map((v) => tickLabel(v * 1000, incr)),
      },
      { scale: 'left', ...axis, ...(p.leftUnit ? { label: p.leftUnit } : {}) },
      ...(hasRight
        ? [
            {
              scale: 'right',
              side: 1 as const,
              stroke: muted,
              grid: { show: false },
              ticks: { stroke: grid, width: 1 },
              ...(p.rightUnit ? { label: p.rightUnit } : {}),
            },
          ]
        : []),
    ],
    series: [
      {
        label: p.timeLabel ?? 'Time',
        value: (_u: uPlot, v: number | null) => (v === null ? '—' : dateTimeSeconds(v * 1000)),
      },
      ...p.series.map((s) => ({
        label: s.label,
        stroke: s.color,
        width: 1.5,
        points: { show: false },
        scale: s.axis === 'right' ? 'right' : 'left',
        spanGaps: false,
        ...(s.dash ? { dash: [6, 4] } : {}),
        value: (_u: uPlot, v: number | null) =>
          v === null || v === undefined ? '—' : `${v.toFixed(2)}${s.unit ? ` ${s.unit}` : ''}`,
      })),
    ],
    hooks: {
      draw: [(u: uPlot) => drawLimits(u, p.limits?.() ?? [])],
      setSelect: [
        (u: uPlot) => {
          if (!p.onZoom || u.select.width < 5) return;
          const from = u.posToVal(u.select.left, 'x');
          const to = u.posToVal(u.select.left + u.select.width, 'x');
          u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
          p.onZoom(Math.round(from * 1000), Math.round(to * 1000));
        },
      ],
    },
  };
}

export function Chart(p: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const props = useRef(p);
  props.current = p;
  const layout = p.series.map((s) => `${s.label}|${s.axis ?? 'left'}`).join(',');

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const u = new uPlot(
      options(
        {
          ...props.current,
          onZoom: props.current.onZoom ? (a, b) => props.current.onZoom?.(a, b) : undefined,
          limits: () => props.current.limits ?? [],
        } as LiveProps,
        el.clientWidth || 600,
      ),
      props.current.data as uPlot.AlignedData,
      el,
    );
    plot.current = u;
    const ro = new ResizeObserver(() =>
      u.setSize({ width: el.clientWidth || 600, height: props.current.height ?? 220 }),
    );
    ro.observe(el);
    const onDbl = () => props.current.onReset?.();
    el.addEventListener('dblclick', onDbl);
    // off the plot, the legend shows the newest values (uPlot's would say "—" until hovered)
    const onLeave = () => setTimeout(() => showLatest(u), 0);
    el.addEventListener('mouseleave', onLeave);
    showLatest(u);
    return () => {
      ro.disconnect();
      el.removeEventListener('dblclick', onDbl);
      el.removeEventListener('mouseleave', onLeave);
      u.destroy();
      plot.current = null;
    };
  }, [layout]);

  useEffect(() => {
    const u = plot.current;
    if (!u) return;
    u.setData(p.data as uPlot.AlignedData);
    showLatest(u);
  }, [p.data]);

  const limitKey = (p.limits ?? []).map((l) => `${l.axis}:${l.value}:${l.label}`).join('|');
  useEffect(() => {
    // new limits: the ranges are computed again (setData re-runs them) and the lines drawn
    const u = plot.current;
    if (u) u.setData(u.data, true);
  }, [limitKey]);

  const points = p.data[0]?.length ?? 0;
  const last = points ? p.data[0]![points - 1] : null;
  return (
    <section
      class="chart"
      data-testid={`chart-${p.id}`}
      data-points={points}
      data-last={last ?? ''}
      data-limits={limitKey}
    >
      <h3>{p.title}</h3>
      <div ref={box} class="chart-plot" />
    </section>
  );
}
