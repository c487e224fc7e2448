import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMemoryTelemetryStore } from '../../telemetry/memory-store.ts';
import { createSqliteTelemetryStore } from '../../telemetry/sqlite-store.ts';
import { describeTelemetryStoreConformance } from './conformance.ts';

describeTelemetryStoreConformance('memory', async () => ({ store: createMemoryTelemetryStore() }), { durable: false });

describeTelemetryStoreConformance(
  'sqlite file',
  async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'pw-store-')), 'telemetry.db');
    return { store: createSqliteTelemetryStore({ file }), reopen: async () => createSqliteTelemetryStore({ file }) };
  },
  { durable: true },
);
