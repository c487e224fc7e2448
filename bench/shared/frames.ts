import { vehicleTopic, type TelemetryFrame } from '../../protocol/index.ts';

/**
 * A valid protocol v1 telemetry frame as a gateway on mains power with a running-down generator
 * would send it (all four sections, so the platform validates and stores every column).
 * The constant part is serialised once; only seq and ts change per frame, so the load generator
 * spends its CPU on MQTT, not on JSON.stringify.
 */
export function frameTemplate(variant: number): (seq: number, ts: number) => Buffer {
  const sample: Omit<TelemetryFrame, 'v' | 'seq' | 'ts'> = {
    source: 'mains',
    mains: { present: true, voltageV: 228.4 + (variant % 7) * 0.3, frequencyHz: 50.01, currentA: 12.6 },
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
    battery: { voltageV: 27.1, currentA: 3.2, socPct: 88 + (variant % 10), tempC: 21.5 },
    charging: { engineRunning: false, alternatorV: 0, currentA: 3.2 },
    loadKw: 2.87,
  };
  const rest = JSON.stringify(sample).slice(1); // drop the opening brace
  return (seq, ts) => Buffer.from(`{"v":1,"seq":${seq},"ts":${ts},${rest}`);
}

export const telemetryTopic = (vehicleId: string) => vehicleTopic(vehicleId, 'telemetry');
