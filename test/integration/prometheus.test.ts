import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vehicleTopic } from '../../protocol/index.ts';
import { frame, startTestPlatform, type TestPlatform } from '../helpers/platform.ts';
import { parsePrometheusText, sampleValue } from '../helpers/prometheus-text.ts';

const TOKEN = 'prometheus-scrape-token-0123456789abcdef';
const PROMTOOL = '/usr/bin/promtool';

/** Issue 19, item 3: `/metrics` is the Prometheus text format, scraped here like Prometheus does. */
describe('GET /metrics (Prometheus)', () => {
  let tp: TestPlatform;
  let base: string;
  const scrape = async () => {
    const res = await fetch(`${base}/metrics`, {
      headers: { authorization: `Bearer ${TOKEN}`, accept: 'text/plain;version=0.0.4;q=0.5,*/*;q=0.1' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    return res.text();
  };

  beforeAll(async () => {
    tp = await startTestPlatform({ METRICS_TOKEN: TOKEN });
    base = `http://127.0.0.1:${tp.platform.ports.http}`;
  });
  afterAll(async () => {
    await tp?.close();
  });

  it('parses, counts ingest, rejections by code, PUBACK and commit latency, and names no vehicle', async () => {
    const { id, secret } = await tp.addVehicle('PROM-1');
    const client = await tp.connect(id, secret);
    for (let seq = 1; seq <= 3; seq++)
      await client.publishAsync(vehicleTopic(id, 'telemetry'), JSON.stringify(frame(seq)), { qos: 1 });
    await client.publishAsync(vehicleTopic(id, 'telemetry'), '{not json', { qos: 1 });

    const text = await scrape();
    const families = parsePrometheusText(text);
    expect(text).not.toContain('PROM-1');
    expect(sampleValue(families, 'powerwatch_ingest_frames_stored_total')).toBe(3);
    expect(families.get('powerwatch_ingest_frames_stored_total')?.type).toBe('counter');
    expect(sampleValue(families, 'powerwatch_ingest_messages_total', { kind: 'telemetry' })).toBe(4);
    const codes = families.get('powerwatch_ingest_rejected_total')!.samples;
    expect(codes).toHaveLength(1);
    expect(codes[0]!.value).toBe(1);
    expect(sampleValue(families, 'powerwatch_mqtt_connected_clients')).toBe(1);
    expect(families.get('powerwatch_mqtt_puback_latency_seconds')?.type).toBe('histogram');
    // every QoS 1 message (3 stored, 1 refused) was acknowledged: one observation each
    expect(sampleValue(families, 'powerwatch_mqtt_puback_latency_seconds_count')).toBe(4);
    // the same waits in fine buckets for the benches' cause breakdown (/metrics.json runtime.puback)
    const json = (await (
      await fetch(`${base}/metrics.json`, { headers: { authorization: `Bearer ${TOKEN}` } })
    ).json()) as {
      runtime: {
        puback: { count: number; max: number; sum: number };
        telemetryWriter?: { heap: Record<'used' | 'total' | 'malloced', number> };
      };
      memory: Record<'rss' | 'heapTotal' | 'heapUsed' | 'external' | 'arrayBuffers' | 'v8Malloced', number>;
    };
    expect(json.runtime.puback.count).toBe(4);
    expect(json.runtime.puback.max).toBeGreaterThan(0);
    expect(json.runtime.puback.sum).toBeGreaterThanOrEqual(json.runtime.puback.max);
    // what of the resident memory the heap and the Buffers hold (the overload test reads it at its peaks)
    const m = json.memory;
    expect(m.heapUsed).toBeGreaterThan(0);
    expect(m.heapUsed).toBeLessThanOrEqual(m.heapTotal);
    expect(m.arrayBuffers).toBeLessThanOrEqual(m.external);
    expect(m.v8Malloced).toBeGreaterThan(0);
    // the writer thread's own heap, which the main thread's figures do not count
    const w = json.runtime.telemetryWriter!.heap;
    expect(w.used).toBeGreaterThan(0);
    expect(w.used).toBeLessThanOrEqual(w.total);
    expect(m.heapTotal + m.external + m.v8Malloced + w.total).toBeLessThan(m.rss);
    for (const name of ['nodejs_heap_size_total_bytes', 'nodejs_heap_size_used_bytes', 'nodejs_external_memory_bytes'])
      expect(families.get(name)?.type, name).toBe('gauge');
    expect(sampleValue(families, 'nodejs_heap_size_total_bytes')).toBeGreaterThanOrEqual(
      sampleValue(families, 'nodejs_heap_size_used_bytes')!,
    );
    expect(sampleValue(families, 'powerwatch_store_commit_duration_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(sampleValue(families, 'powerwatch_store_commit_duration_seconds_sum')).toBeGreaterThan(0);
    // every family follows the naming conventions: a prefix, counters in _total, units spelled out
    for (const f of families.values()) {
      expect(f.name).toMatch(/^(powerwatch_|process_|nodejs_)/);
      if (f.type === 'counter') expect(f.name).toMatch(/_total$/);
      expect(f.help, f.name).not.toBe('');
    }
    // the HTTP requests by status (a scrape is counted once answered: the first shows in the second)
    const again = parsePrometheusText(await scrape());
    expect(sampleValue(again, 'powerwatch_http_requests_total', { status: '200' })).toBeGreaterThanOrEqual(1);
    await client.endAsync();
  });

  it.skipIf(!existsSync(PROMTOOL))('passes `promtool check metrics` (Debian prometheus)', async () => {
    const text = await scrape();
    const result = await new Promise<{ code: number; out: string }>((resolve, reject) => {
      const child = execFile(PROMTOOL, ['check', 'metrics'], { timeout: 20_000 }, (err, stdout, stderr) => {
        if (err && typeof err.code !== 'number') return reject(err);
        resolve({ code: err ? (err.code as number) : 0, out: stdout + stderr });
      });
      child.stdin!.end(text);
    });
    expect(result.out).toBe('');
    expect(result.code).toBe(0);
  });
});
