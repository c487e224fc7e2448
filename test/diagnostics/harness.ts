import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInProcessBus } from '../../core/bus.ts';
import { createCounters } from '../../core/counters.ts';
import type { PlatformEvents } from '../../core/events.ts';
import { silentLogger } from '../../core/logger.ts';
import { loadPlanFile } from '../../diagnostics/plans/plans.ts';
import { loadRuleFile } from '../../diagnostics/rules/load.ts';
import { loadConfig } from '../../platform/config.ts';
import { createDiagnosticsStage } from '../../platform/diagnostics.ts';
import type { TelemetryFrame } from '../../protocol/index.ts';
import { type RecordsDb } from '../../records/db.ts';
import { openTestRecords } from '../helpers/records.ts';
import { createMemoryTelemetryStore } from '../../telemetry/memory-store.ts';
import type { TelemetryStore } from '../../telemetry/store.ts';
import { PROFILE_24V, T0 } from './fixtures.ts';

export const RULES = loadRuleFile(new URL('../../diagnostics/rules/default-rules.yaml', import.meta.url).pathname);
export const PLANS = loadPlanFile(new URL('../../diagnostics/plans/default-plans.yaml', import.meta.url).pathname);

/** A closed harness's records file and the directory to remove with it (`close({ keepFile: true })`). */
export interface KeptFile {
  file: string;
  dir: string;
}

/**
 * Diagnostics and the ticket service as the platform builds them (platform/diagnostics.ts), over a
 * real SQLite records file, a memory telemetry store, vehicles V… of customer C1 and a controllable clock.
 */
export async function startDiagnostics(
  opts: {
    file?: string;
    /** What `close({ keepFile: true })` of an earlier harness returned: restart on its file, and remove it on close. */
    restartOf?: KeptFile;
    now?: () => number;
    telemetry?: TelemetryStore;
    vehicleIds?: string[];
    /** More configuration (environment variable values). */
    env?: Record<string, string>;
  } = {},
) {
  // a directory of its own, removed by close(); a file the caller names is the caller's, unless a
  // restart takes over a closed harness's (`restartOf`)
  const ownDir = opts.restartOf?.dir ?? (opts.file ? undefined : mkdtempSync(join(tmpdir(), 'pw-diag-')));
  const file = opts.restartOf?.file ?? opts.file ?? join(ownDir!, 'records.db');
  const db: RecordsDb = await openTestRecords({ file });
  const bus = createInProcessBus<PlatformEvents>(silentLogger());
  const events: { name: string; payload: unknown }[] = [];
  for (const name of [
    'alarm.raised',
    'alarm.updated',
    'alarm.cleared',
    'ticket.opened',
    'ticket.updated',
    'ticket.deadline_breached',
  ] as const) {
    bus.on(name, (payload) => void events.push({ name, payload }));
  }
  const telemetry = opts.telemetry ?? createMemoryTelemetryStore();
  let clock = T0;
  const now = opts.now ?? (() => clock);
  const stage = createDiagnosticsStage(
    {
      bus,
      records: db,
      log: silentLogger(),
      counters: createCounters(),
      now,
      rules: RULES,
      plans: PLANS,
      vehicles: {
        get: async (id) =>
          id.startsWith('V')
            ? { model: 'XJ-24', profile: PROFILE_24V, customerId: 'C1', name: `Vehicle ${id}` }
            : undefined,
        ids: async () => opts.vehicleIds ?? [],
      },
      telemetry,
    },
    loadConfig({
      DIAGNOSTICS_TICK_MS: '1000',
      DUTY_LEAD: 'lead-wang',
      DIAGNOSTICS_RECOVERY_MS: '120000',
      ...opts.env,
    }),
  );
  const { diagnostics, tickets } = stage;
  await stage.start();
  return {
    file,
    db,
    bus,
    events,
    diagnostics,
    tickets,
    telemetry,
    setClock: (t: number) => (clock = t),
    /** Stores and publishes frames as ingest would, then waits until diagnostics has handled them. */
    async feed(vehicleId: string, frames: TelemetryFrame[]) {
      const receivedAt = frames[frames.length - 1]!.ts;
      if (!opts.now) clock = receivedAt;
      await telemetry.append(frames.map((frame) => ({ vehicleId, receivedAt, frame })));
      bus.emit('telemetry.stored', { vehicleId, receivedAt, frames });
      await diagnostics.idle();
    },
    /** Stops the stage and closes the records; removes its own directory unless `keepFile` (for a restart). */
    async close(o: { keepFile?: boolean } = {}): Promise<KeptFile | undefined> {
      try {
        await stage.stop();
        await db.destroy();
      } finally {
        if (ownDir && !o.keepFile) rmSync(ownDir, { recursive: true, force: true });
      }
      return ownDir && o.keepFile ? { file, dir: ownDir } : undefined;
    },
  };
}
