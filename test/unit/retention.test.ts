import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/logger.ts';
import type { TelemetryFrame } from '../../protocol/index.ts';
import { createMemoryTelemetryStore } from '../../telemetry/memory-store.ts';
import { createRetention } from '../../telemetry/retention.ts';
import { frame } from '../helpers/platform.ts';

describe('telemetry retention', () => {
  it('deletes frames older than the retention period and keeps the rest', async () => {
    const now = Date.UTC(2026, 10, 27);
    const day = 86_400_000;
    const store = createMemoryTelemetryStore();
    await store.append(
      [91, 90, 89, 1].map((d, i) => ({
        vehicleId: 'V1',
        receivedAt: now,
        frame: frame(i, now - d * day + 1) as TelemetryFrame,
      })),
    );
    const retention = createRetention({ store, log: silentLogger(), now: () => now }, { days: 90 });
    expect(await retention.run()).toBe(1);
    expect((await store.frames('V1', 0, now)).map((f) => f.frame.seq)).toEqual([1, 2, 3]);
  });
});
