/**
 * A uPlot chart that updates in place: created once per series layout, `setData` on every new data
 * set (live frames append without re-creating the chart). Drag across it to select a range
 * (`onZoom`), double-click to go back (`onReset`). `data-points` tells tests how many points it shows.
 */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface SeriesDef {
  label: string;
  color: string;
  /** 'left' (default) or 'right' axis. */
  axis?: 'left' | 'right';
  unit?: string;
  dash?: boolean;
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
}

/** Canvas cannot read CSS variables: resolve the theme's colours once per chart. */
function themeColour(name: string, fallback: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}

function options(p: ChartProps, width: number): uPlot.Options {
  const hasRight = p.series.some((s) => s.axis === 'right');
  const muted = themeColour('--muted', '#667085');
  const grid = themeColour('--grid', 'rgba(102,112,133,0.18)');
  const axis = { stroke: muted, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
  return {
    width,
    height: p.height ?? 220,
    cursor: { drag: { x: !!p.onZoom, y: false, setScale: false } },
    legend: { live: true },
    scales: { x: { time: true }, left: {}, ...(hasRight ? { right: {} } : {}) },
    axes: [
      { ...axis },
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
      {},
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
        } as ChartProps,
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
    return () => {
      ro.disconnect();
      el.removeEventListener('dblclick', onDbl);
      u.destroy();
      plot.current = null;
    };
  }, [layout]);

  useEffect(() => {
    plot.current?.setData(p.data as uPlot.AlignedData);
  }, [p.data]);

  const points = p.data[0]?.length ?? 0;
  const last = points ? p.data[0]![points - 1] : null;
  return (
    <section class="chart" data-testid={`chart-${p.id}`} data-points={points} data-last={last ?? ''}>
      <h3>{p.title}</h3>
      <div ref={box} class="chart-plot" />
    </section>
  );
}
