import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { INFLUX_FIELDS, INFLUX_MEASUREMENT, INFLUX_TAGS } from '../../telemetry/influx-export.ts';
import { createCounters } from '../../core/counters.ts';
import { createHistograms } from '../../core/histograms.ts';
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
