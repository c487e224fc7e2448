import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { INFLUX_FIELDS, INFLUX_MEASUREMENT, INFLUX_TAGS } from '../../telemetry/influx-export.ts';
import { createCounters } from '../../core/counters.ts';
import { createHistograms } from '../../core/histograms.ts';
import {
  INFLUX_EVENT_FIELDS,
  INFLUX_EVENT_KINDS,
  INFLUX_EVENT_TAGS,
  INFLUX_EVENTS_MEASUREMENT,
  eventLine,
} from '../../platform/influx-events.ts';
import { renderPrometheus } from '../../platform/prometheus.ts';
import { parsePrometheusText } from '../helpers/prometheus-text.ts';

/** Issue 19, item 2: the provisioned dashboards are valid JSON and query only what exists. */
const DIR = join(import.meta.dirname, '../../grafana/dashboards');
const files = readdirSync(DIR).filter((f) => f.endsWith('.json'));

interface Target {
  query?: string;
  expr?: string;
}
const targetsOf = (d: { panels: { targets?: Target[] }[] }) => d.panels.flatMap((p) => p.targets ?? []);

/** Every family the platform exposes, with the export on and every histogram observed. */
function exposedFamilies(): Set<string> {
  const histograms = createHistograms();
  histograms.observe('mqtt.puback_latency', 0.01);
  histograms.observe('ingest.store_commit', 0.01);
  const text = renderPrometheus({
    counters: createCounters().snapshot(),
    histograms: histograms.snapshot(),
    uptimeS: 1,
    mqttConnectedClients: 0,
    liveSocketClients: 0,
    eventLoop: {
      windowMs: 10_000,
      last: { at: 0, spanMs: 1, p50Ms: 0, p99Ms: 0, maxMs: 0, meanMs: 0, utilization: 0 },
      sinceStart: null,
    },
    export: { lagFrames: 0, lagSeconds: 0, exportedFrames: 0, failures: 0, up: true },
  });
  const names = new Set<string>();
  for (const f of parsePrometheusText(text).values()) {
    names.add(f.name); // a labelled counter with no sample yet (no rejection so far) is still declared
    for (const s of f.samples) names.add(s.name);
  }
  return names;
}

describe('Grafana dashboards (grafana/dashboards)', () => {
  it('are the three the operators need', () => {
    expect(files.sort()).toEqual(['fleet-power.json', 'ingest-health.json', 'vehicle-power.json']);
  });

  it.each(files)('%s: valid JSON with a uid, a title and panels with queries', (file) => {
    const d = JSON.parse(readFileSync(join(DIR, file), 'utf8')) as { uid: string; title: string; panels: [] };
    expect(d.uid).toMatch(/^powerwatch-/);
    expect(d.title).not.toBe('');
    expect(targetsOf(d).length).toBeGreaterThan(0);
  });

  it.each(files)('%s: every Flux query names the exported measurement, fields and tags', (file) => {
    const d = JSON.parse(readFileSync(join(DIR, file), 'utf8')) as { panels: { targets?: Target[] }[] };
    for (const q of targetsOf(d).flatMap((t) => (t.query ? [t.query] : []))) {
      const measurements = [...q.matchAll(/r\._measurement == "([^"]+)"/g)].map((m) => m[1]);
      const fields = [...q.matchAll(/r\._field == "([^"]+)"/g)].map((m) => m[1]!);
      const tags = [...q.matchAll(/r\.([a-z]+) == /g)].map((m) => m[1]!).filter((t) => !t.startsWith('_'));
      expect(measurements, q).toEqual([INFLUX_MEASUREMENT]);
      expect(fields.length, q).toBeGreaterThan(0);
      for (const f of fields) expect(INFLUX_FIELDS, q).toContain(f);
      for (const t of tags) expect(INFLUX_TAGS as readonly string[], q).toContain(t);
    }
  });

  it.each(files)('%s: every PromQL expression names metrics the platform exposes', (file) => {
    const exposed = exposedFamilies();
    const d = JSON.parse(readFileSync(join(DIR, file), 'utf8')) as { panels: { targets?: Target[] }[] };
    for (const expr of targetsOf(d).flatMap((t) => (t.expr ? [t.expr] : []))) {
      const names = [...expr.matchAll(/\b(powerwatch_[a-z0-9_]+)/g)].map((m) => m[1]!);
      expect(names.length, expr).toBeGreaterThan(0);
      for (const n of names) expect(exposed, expr).toContain(n);
    }
  });
});

interface Annotation {
  name: string;
  datasource?: { type: string; uid: string };
  enable?: boolean;
  target?: { query?: string; refId?: string };
  mappings?: Record<string, { source: string; value?: string }>;
}
interface Dashboard {
  panels: { datasource?: { type: string; uid: string }; targets?: Target[] }[];
  annotations: { list: Annotation[] };
}
const dashboard = (file: string) => JSON.parse(readFileSync(join(DIR, file), 'utf8')) as Dashboard;
/** The dashboards over the InfluxDB bucket: the ones whose panels read it. */
const influxFiles = files.filter((f) => dashboard(f).panels.some((p) => p.datasource?.type === 'influxdb'));

describe('Grafana annotations: alarms and ticket events (platform/influx-events.ts)', () => {
  it('the exporter writes what the constants the check uses say (measurement, tags, fields)', () => {
    const line = eventLine({
      kind: 'alarm_raised',
      vehicle: 'VEH-1',
      unit: 'unit-a',
      level: 'critical',
      id: 7,
      text: 'BATT_LOW low battery',
      at: 1_700_000_000_000,
    });
    const [series, fieldSet] = line.split(' ') as [string, string];
    const [measurement, ...tags] = series.split(',');
    expect(measurement).toBe(INFLUX_EVENTS_MEASUREMENT);
    expect(tags.map((t) => t.split('=')[0]).sort()).toEqual([...INFLUX_EVENT_TAGS].sort());
    expect(fieldSet.split(',').map((f) => f.split('=')[0])).toEqual([...INFLUX_EVENT_FIELDS]);
  });

  it('the InfluxDB dashboards are the fleet and the vehicle one', () => {
    expect(influxFiles.sort()).toEqual(['fleet-power.json', 'vehicle-power.json']);
  });

  it.each(influxFiles)('%s: every kind of event is shown by an enabled annotation over the InfluxDB source', (file) => {
    const list = dashboard(file).annotations.list;
    expect(list.length).toBeGreaterThan(0);
    const shown = new Set<string>();
    for (const a of list) {
      expect(a.datasource, a.name).toEqual({ type: 'influxdb', uid: 'powerwatch-influx' });
      expect(a.enable, a.name).toBe(true);
      for (const m of (a.target?.query ?? '').matchAll(/r\.kind == "([^"]+)"/g)) shown.add(m[1]!);
    }
    expect([...shown].sort()).toEqual([...INFLUX_EVENT_KINDS].sort());
  });

  it.each(influxFiles)(
    '%s: every annotation query names the events measurement, its fields, tags and kinds',
    (file) => {
      const vehicleDashboard = file === 'vehicle-power.json';
      for (const a of dashboard(file).annotations.list) {
        const q = a.target?.query ?? '';
        const measurements = [...q.matchAll(/r\._measurement == "([^"]+)"/g)].map((m) => m[1]);
        const fields = [...q.matchAll(/r\._field == "([^"]+)"/g)].map((m) => m[1]!);
        const tags = [...q.matchAll(/r\.([a-z]+) == |exists r\.([a-z]+)/g)]
          .map((m) => (m[1] ?? m[2])!)
          .filter((t) => !t.startsWith('_'));
        const kinds = [...q.matchAll(/r\.kind == "([^"]+)"/g)].map((m) => m[1]!);
        expect(measurements, a.name).toEqual([INFLUX_EVENTS_MEASUREMENT]);
        expect(fields, a.name).toEqual(['text']); // one row per event: the text field
        for (const f of fields) expect(INFLUX_EVENT_FIELDS as readonly string[], a.name).toContain(f);
        for (const t of tags) expect(INFLUX_EVENT_TAGS as readonly string[], a.name).toContain(t);
        expect(kinds.length, a.name).toBeGreaterThan(0);
        for (const k of kinds) expect(INFLUX_EVENT_KINDS as readonly string[], a.name).toContain(k);
        expect(q.includes('r.vehicle == "${vehicle}"'), a.name).toBe(vehicleDashboard);
        // the mapped columns are ones the query keeps, and those are the row's time, value, tags or the mapped title
        const kept = JSON.parse(/keep\(columns: (\[[^\]]*\])\)/.exec(q)?.[1] ?? '[]') as string[];
        for (const c of kept) expect(['_time', '_value', 'title', ...INFLUX_EVENT_TAGS], a.name).toContain(c);
        const mapped = Object.values(a.mappings ?? {}).map((m) => m.value);
        expect(mapped.length, a.name).toBeGreaterThan(0);
        for (const c of mapped) expect(kept, a.name).toContain(c);
        expect(a.mappings?.time?.value, a.name).toBe('_time');
        expect(a.mappings?.text?.value, a.name).toBe('_value');
      }
    },
  );
});
