import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { TelemetryFrame } from '../../protocol/index.ts';
import { seriesJson } from '../../telemetry/series-json.ts';
import { createSqliteTelemetryStore, type SqliteTelemetryStore } from '../../telemetry/sqlite-store.ts';
import type { SeriesQuery, StoredFrame } from '../../telemetry/store.ts';
import { frame } from '../helpers/platform.ts';

const T0 = Date.UTC(2026, 10, 1);
const stored = (seq: number, ts: number, extra: Record<string, unknown> = {}): StoredFrame => ({
  vehicleId: 'V1',
  receivedAt: ts,
  frame: frame(seq, ts, extra) as TelemetryFrame,
});
const hour: SeriesQuery = { vehicleId: 'V1', from: T0, to: T0 + 3_599_999, maxPoints: 120, fields: ['loadKw'] };

describe('the SQLite reader thread (seriesJson)', () => {
  let dir: string;
  let store: SqliteTelemetryStore;
  /** The series and close requests sent to worker threads (the writer's close too), with the thread each went to. */
  let reads: { thread: Worker; op: string }[];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'pw-reader-thread-'));
    reads = [];
    const postMessage = Worker.prototype.postMessage;
    vi.spyOn(Worker.prototype, 'postMessage').mockImplementation(function (this: Worker, ...args) {
      const op = (args[0] as { op?: unknown } | undefined)?.op;
      if (op === 'seriesJson' || op === 'close') reads.push({ thread: this, op: String(op) });
      return postMessage.apply(this, args);
    });
    store = createSqliteTelemetryStore({ file: join(dir, 'telemetry.db') });
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads and writes the series on its own thread, started at the first read, the same bytes as inline', async () => {
    await store.append(Array.from({ length: 3600 }, (_, i) => stored(i, T0 + i * 1000, { loadKw: (i % 97) / 3 })));
    await store.compactRollups();
    expect(reads).toHaveLength(0);
    const bytes = await store.seriesJson(hour);
    expect(reads.map((r) => r.op)).toEqual(['seriesJson']);
    const inline = createSqliteTelemetryStore({ file: join(dir, 'telemetry.db'), writer: 'inline', reader: 'inline' });
    try {
      expect(bytes.toString('utf8')).toBe((await inline.seriesJson(hour)).toString('utf8'));
      expect(bytes.toString('utf8')).toBe(seriesJson(await inline.series(hour)));
    } finally {
      await inline.close();
    }
    expect(reads).toHaveLength(1);
    // the thread is kept for the next reads
    await store.seriesJson(hour);
    expect(reads[1]!.thread).toBe(reads[0]!.thread);
  });

  it('sees every frame whose append resolved (its own connection reads the committed WAL)', async () => {
    await store.seriesJson(hour);
    for (let k = 0; k < 5; k++) {
      await store.append([stored(k, T0 + k * 1000, { loadKw: k + 0.5 })]);
      const s = JSON.parse((await store.seriesJson({ ...hour, maxPoints: 3600 })).toString('utf8'));
      expect(s.fields.loadKw.avg).toEqual(Array.from({ length: k + 1 }, (_, i) => i + 0.5));
    }
  });

  it('keeps the code of a series that does not match its schema (a stored infinity)', async () => {
    await store.append([stored(1, T0, { loadKw: 2 }), stored(2, T0 + 1000, { loadKw: Infinity })]);
    await expect(store.seriesJson(hour)).rejects.toMatchObject({
      code: 'INTERNAL',
      message: 'telemetry series does not match its schema: fields.loadKw',
    });
    // the thread lives on
    await expect(store.seriesJson({ ...hour, to: T0 + 500 })).resolves.toBeInstanceOf(Buffer);
    expect(new Set(reads.map((r) => r.thread)).size).toBe(1);
  });

  it('fails the reads pending when it dies, and the next read starts a new thread', async () => {
    await store.append(Array.from({ length: 3600 }, (_, i) => stored(i, T0 + i * 1000)));
    await store.seriesJson(hour);
    const pending = store.seriesJson({ ...hour, maxPoints: 3600, fields: undefined });
    await reads[0]!.thread.terminate();
    await expect(pending).rejects.toMatchObject({ code: 'STORAGE_FAILED' });
    const again = JSON.parse((await store.seriesJson(hour)).toString('utf8'));
    expect(again.count.reduce((a: number, b: number) => a + b, 0)).toBe(3600);
    expect(reads.at(-1)!.thread).not.toBe(reads[0]!.thread);
  });

  it('answers a read in flight before it closes, then refuses', async () => {
    await store.append(Array.from({ length: 600 }, (_, i) => stored(i, T0 + i * 1000)));
    const inFlight = store.seriesJson({ ...hour, maxPoints: 600, fields: undefined });
    const closed = store.close();
    const s = JSON.parse((await inFlight).toString('utf8'));
    expect(s.ts).toHaveLength(600);
    await closed;
    // the reader thread was told to close after the read (the writer thread is told so too)
    expect(reads.filter((r) => r.thread === reads[0]!.thread).map((r) => r.op)).toEqual(['seriesJson', 'close']);
    await expect(store.seriesJson(hour)).rejects.toMatchObject({ code: 'SHUTTING_DOWN' });
  });
});
