import type { HistogramSnapshot } from './histograms.ts';

/**
 * The Prometheus text exposition format (version 0.0.4): `# HELP`, `# TYPE`, then one line per
 * sample. Names and label names must match the format's grammar (checked: a bad one is a bug
 * here, not a value to escape); label values are escaped.
 */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export type Labels = Record<string, string>;
export interface Sample {
  labels?: Labels;
  value: number;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

const escapeHelp = (s: string) => s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
const escapeValue = (s: string) => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

function formatNumber(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return '+Inf';
  if (n === -Infinity) return '-Inf';
  return String(n);
}

function formatLabels(labels: Labels | undefined): string {
  if (!labels) return '';
  const entries = Object.entries(labels);
  if (entries.length === 0) return '';
  for (const [k] of entries) if (!LABEL.test(k)) throw new Error(`invalid Prometheus label name: ${k}`);
  return `{${entries.map(([k, v]) => `${k}="${escapeValue(v)}"`).join(',')}}`;
}

/**
 * Builds one exposition: each family once, in the order added. `defaultLabels` (e.g. the node's
 * `{ node: NODE_ID }`) go on every sample, after its own labels, as prom-client's
 * `register.setDefaultLabels` does: series of several nodes stay apart in one Prometheus.
 */
export function createExposition(options: { defaultLabels?: Labels } = {}) {
  const lines: string[] = [];
  const seen = new Set<string>();
  const defaults = options.defaultLabels ?? {};

  function family(name: string, type: 'counter' | 'gauge' | 'histogram', help: string) {
    if (!NAME.test(name)) throw new Error(`invalid Prometheus metric name: ${name}`);
    if (seen.has(name)) throw new Error(`Prometheus metric family added twice: ${name}`);
    seen.add(name);
    lines.push(`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`);
  }
  const sample = (name: string, s: Sample) =>
    lines.push(`${name}${formatLabels({ ...s.labels, ...defaults })} ${formatNumber(s.value)}`);

  return {
    has: (name: string) => seen.has(name),
    /** A counter: the name ends in `_total`. */
    counter(name: string, help: string, samples: number | readonly Sample[]) {
      if (!name.endsWith('_total')) throw new Error(`a Prometheus counter's name ends in _total: ${name}`);
      family(name, 'counter', help);
      for (const s of typeof samples === 'number' ? [{ value: samples }] : samples) sample(name, s);
    },
    gauge(name: string, help: string, samples: number | readonly Sample[]) {
      family(name, 'gauge', help);
      for (const s of typeof samples === 'number' ? [{ value: samples }] : samples) sample(name, s);
    },
    histogram(name: string, help: string, h: HistogramSnapshot) {
      family(name, 'histogram', help);
      h.bounds.forEach((le, i) =>
        sample(`${name}_bucket`, { labels: { le: formatNumber(le) }, value: h.cumulative[i]! }),
      );
      sample(`${name}_bucket`, { labels: { le: '+Inf' }, value: h.count });
      sample(`${name}_sum`, { value: h.sum });
      sample(`${name}_count`, { value: h.count });
    },
    text: () => `${lines.join('\n')}\n`,
  };
}
