import type { TelemetryFrame } from '../../protocol/index.ts';
import { createSqliteTelemetryStore } from '../../telemetry/sqlite-store.ts';
import type { StoredFrame } from '../../telemetry/store.ts';

/**
 * A plausible frame of a vehicle at `ts`: on mains by day, on battery for part of the night, the
 * values moving slowly (sine waves) so that a downsampled chart has something to show.
 */
export function historyFrame(seq: number, ts: number, variant = 0): TelemetryFrame {
  const hour = (((ts / 3_600_000) % 24) + 24) % 24;
  const wave = Math.sin((ts / 3_600_000) * Math.PI * 0.5 + variant);
  const onBattery = hour >= 1 && hour < 3;
  return {
    v: 1,
    seq,
    ts,
    source: onBattery ? 'battery' : 'mains',
    mains: onBattery
      ? { present: false, voltageV: 0, frequencyHz: 0, currentA: 0 }
      : {
          present: true,
          voltageV: round(226 + 4 * wave),
          frequencyHz: round(50 + 0.02 * wave),
          currentA: round(12 + 3 * wave),
        },
    generator: {
      running: false,
      voltageV: 0,
      frequencyHz: 0,
      currentA: 0,
      rpm: 0,
      fuelPct: 72,
      coolantC: round(22 + 2 * wave),
      oilKpa: 0,
    },
    battery: {
      voltageV: round(onBattery ? 25.2 : 27.1),
      currentA: round(onBattery ? -40 : 3 + wave),
      socPct: round(onBattery ? 90 - (hour - 1) * 20 : 96),
      tempC: round(21 + wave),
    },
    charging: { engineRunning: false, alternatorV: 0, currentA: round(onBattery ? 0 : 3 + wave) },
    loadKw: round(2.8 + 0.6 * wave),
  };
}

const round = (x: number) => Math.round(x * 100) / 100;

/**
 * Writes frames straight into a platform's telemetry.db (before the platform starts) through the
 * SQLite store itself, on the caller's thread with synchronous=NORMAL: the same rows ingest would
 * have written, without spending a day (or a flood of MQTT) on it. `frames(i)` gives the i-th frame.
 */
export async function seedTelemetry(
  file: string,
  count: number,
  frame: (i: number) => StoredFrame,
  chunk = 5000,
): Promise<void> {
  const store = createSqliteTelemetryStore({ file, synchronous: 'normal', writer: 'inline' });
  try {
    for (let start = 0; start < count; start += chunk) {
      const batch: StoredFrame[] = [];
      for (let i = start; i < Math.min(count, start + chunk); i++) batch.push(frame(i));
      await store.append(batch);
    }
  } finally {
    await store.close();
  }
}
