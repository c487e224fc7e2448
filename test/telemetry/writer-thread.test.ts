import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { TelemetryFrame } from '../../protocol/index.ts';
import { createSqliteTelemetryStore, type SqliteTelemetryStore } from '../../telemetry/sqlite-store.ts';
import type { StoredFrame } from '../../telemetry/store.ts';
import { frame } from '../helpers/platform.ts';

const stored = (seq: number, ts = Date.now()): StoredFrame => ({
  vehicleId: 'V1',
  receivedAt: ts,
  frame: frame(seq, ts) as TelemetryFrame,
});

describe('the SQLite writer thread', () => {
  let dir: string;
  let store: SqliteTelemetryStore;
  /** The writer threads the store started, in order (seen as they are sent requests). */
  let threads: Worker[];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'pw-writer-thread-'));
    threads = [];
    const postMessage = Worker.prototype.postMessage;
    vi.spyOn(Worker.prototype, 'postMessage').mockImplementation(function (this: Worker, ...args) {
      if (threads.at(-1) !== this) threads.push(this);
      return postMessage.apply(this, args);
    });
    store = createSqliteTelemetryStore({ file: join(dir, 'telemetry.db') });
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('fails the writes pending when it dies, and the next write starts a new thread', async () => {
    const t0 = Date.now() - 60_000;
    expect((await store.append([stored(1, t0)])).inserted).toEqual([true]);
    expect(threads).toHaveLength(1);

    const pending = store.append(Array.from({ length: 2000 }, (_, i) => stored(2 + i, t0 + 1 + i)));
    await threads[0]!.terminate();
    await expect(pending).rejects.toMatchObject({ code: 'STORAGE_FAILED' });

    expect((await store.append([stored(5000, t0 + 5000)])).inserted).toEqual([true]);
    expect(threads).toHaveLength(2);
    expect(await store.count('V1')).toBeGreaterThanOrEqual(2);
    // what the new thread stored is acknowledged once only
    expect((await store.append([stored(5000, t0 + 5000)])).inserted).toEqual([false]);
  });

  it('rolls up and deletes on the thread, and closes it', async () => {
    const t0 = Date.now() - 3_600_000;
    await store.append(Array.from({ length: 600 }, (_, i) => stored(i, t0 + i * 1000)));
    await store.compactRollups();
    expect(await store.deleteOlderThan(t0 + 300_000)).toBe(300);
    expect(await store.count('V1')).toBe(300);
    await store.close();
    await expect(store.append([stored(9999)])).rejects.toMatchObject({ code: 'SHUTTING_DOWN' });
  });
});
