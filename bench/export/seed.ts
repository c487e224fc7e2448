import type { TelemetryFrame } from '../../protocol/index.ts';
import type { StoredFrame, TelemetryStore } from '../../telemetry/store.ts';

/** The bench's vehicle ids: EXP00001 … */
export const exportVehicleId = (i: number) => `EXP${String(i + 1).padStart(5, '0')}`;

/** A full frame (all four sections, as bench/shared/frames.ts sends over MQTT), varying with vehicle and time. */
export function exportFrame(vehicle: number, seq: number, ts: number): StoredFrame {
  const frame: TelemetryFrame = {
    v: 1,
    seq,
    ts,
    source: 'mains',
    mains: { present: true, voltageV: 228.4 + (vehicle % 7) * 0.3, frequencyHz: 50.01, currentA: 12.6 },
    generator: {
      running: false,
      voltageV: 0,
      frequencyHz: 0,
      currentA: 0,
      rpm: 0,
      fuelPct: 71.5,
      coolantC: 24,
      oilKpa: 0,
    },
    battery: { voltageV: 27.1, currentA: 3.2, socPct: 80 + (seq % 20), tempC: 21.5 },
    charging: { engineRunning: false, alternatorV: 0, currentA: 3.2 },
    loadKw: 2 + (seq % 50) / 10,
  };
  return { vehicleId: exportVehicleId(vehicle), receivedAt: ts, frame };
}

export interface SeedOptions {
  vehicles: number;
  rateHz: number;
  /** Seconds of fleet traffic: the outage's backlog. */
  seconds: number;
  /** The first frame's time (epoch ms). */
  fromTs: number;
  /** Frames per store append (one commit each). */
  batchFrames: number;
}

/**
 * Writes the backlog of an outage straight into the telemetry store — `seconds` × `rateHz` frames of
 * each vehicle, in time order, through `store.append` (the call ingest makes after validating MQTT
 * messages; the MQTT hop is left out) — rather than sending it over MQTT in real time. Returns the
 * frames written, the seq each vehicle reached and the last frame's time.
 */
export async function seedBacklog(
  store: Pick<TelemetryStore, 'append'>,
  o: SeedOptions,
): Promise<{ frames: number; nextSeq: number; toTs: number; ms: number }> {
  const started = Date.now();
  const stepMs = 1000 / o.rateHz;
  const steps = Math.round(o.seconds * o.rateHz);
  let batch: StoredFrame[] = [];
  let frames = 0;
  for (let step = 0; step < steps; step++) {
    const ts = Math.round(o.fromTs + step * stepMs);
    for (let v = 0; v < o.vehicles; v++) {
      batch.push(exportFrame(v, step, ts));
      if (batch.length >= o.batchFrames) {
        frames += countInserted(await store.append(batch));
        batch = [];
      }
    }
  }
  if (batch.length) frames += countInserted(await store.append(batch));
  return { frames, nextSeq: steps, toTs: Math.round(o.fromTs + (steps - 1) * stepMs), ms: Date.now() - started };
}

const countInserted = (r: { inserted: boolean[] }) => r.inserted.filter(Boolean).length;
