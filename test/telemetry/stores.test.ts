import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMemoryTelemetryStore } from '../../telemetry/memory-store.ts';
import { createSqliteTelemetryStore } from '../../telemetry/sqlite-store.ts';
import { withLatestFrames } from '../../telemetry/latest-frames.ts';
import { describeTelemetryStoreConformance } from './conformance.ts';

describeTelemetryStoreConformance('memory', async () => ({ store: createMemoryTelemetryStore() }), { durable: false });

describeTelemetryStoreConformance(
  'sqlite file',
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pw-store-'));
    const file = join(dir, 'telemetry.db');
    return {
      store: createSqliteTelemetryStore({ file }),
      reopen: async () => createSqliteTelemetryStore({ file }),
      cleanup: () => rmSync(dir, { recursive: true, force: true }),
    };
  },
  { durable: true },
);

// the platform's store: the latest frame per vehicle also in memory (fleet views)
describeTelemetryStoreConformance(
  'sqlite file, latest frames in memory',
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pw-store-'));
    const file = join(dir, 'telemetry.db');
    return {
      store: withLatestFrames(createSqliteTelemetryStore({ file })),
      reopen: async () => withLatestFrames(createSqliteTelemetryStore({ file })),
      cleanup: () => rmSync(dir, { recursive: true, force: true }),
    };
  },
  { durable: true },
);
