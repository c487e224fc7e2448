import { POWER_SOURCES, type TelemetryFrame } from '../protocol/telemetry.ts';
import { ROW_AT, ROW_NUMBERS, frameFromRowNumbers, writeRowNumbers } from './columns.ts';
import type { StoredFrame, TelemetryStore } from './store.ts';

/** Where a slot keeps the frame's position (not a stored column), after the row's numbers. */
const LAT = ROW_NUMBERS;
const LON = ROW_NUMBERS + 1;

/**
 * A vehicle's latest frame, kept as numbers in a typed array of its own that each newer frame
 * overwrites in place, and rebuilt as a frame object when read (then kept until the next frame).
 * Keeping the parsed frame object instead kept each frame alive until the vehicle's next one. Under
 * load the main thread allocates some 12 MB between two young-generation collections (one every
 * ~0.15 s at 8,500 frames/s, ~0.6 s at 2,000), so at a vehicle's usual 1 Hz nearly every frame
 * outlived two of them and was promoted to the old generation, to be freed only by a full collection.
 */
interface Slot {
  numbers: Float64Array;
  source: string;
  built: StoredFrame | undefined;
}

/** The source as one of the protocol's own strings, so that a slot never points at a young string. */
const sourceOf = (s: string) => POWER_SOURCES.find((p) => p === s) ?? s;

/** Whether `frame` is later than the slot's (ts, then seq: as `latest` picks). */
const laterThan = (frame: TelemetryFrame, slot: Slot) => {
  const ts = slot.numbers[ROW_AT.ts]!;
  return frame.ts > ts || (frame.ts === ts && frame.seq > slot.numbers[ROW_AT.seq]!);
};

/**
 * A telemetry store whose latest frame per vehicle is also kept in memory, so that fleet views
 * (`GET /api/vehicles`: 2,000 vehicles a request) read no database: every frame the store
 * acknowledged as stored updates it after its commit, a vehicle not seen since the start is read
 * from the store once (its absence too, until a frame arrives), and retention forgets what it
 * deleted. Everything else goes to the store as is (its other methods too: `{ ...store }`).
 * A frame handed out is what the store would read back (its columns, and its position): null
 * readings are left out. Frames handed out are shared until the vehicle's next frame: callers read
 * them, never change them.
 */
export function withLatestFrames<S extends TelemetryStore>(store: S): S {
  const latest = new Map<string, Slot | null>();

  function keep(vehicleId: string, receivedAt: number, frame: TelemetryFrame): void {
    let slot = latest.get(vehicleId);
    if (slot && !laterThan(frame, slot)) return;
    if (!slot)
      latest.set(vehicleId, (slot = { numbers: new Float64Array(ROW_NUMBERS + 2), source: '', built: undefined }));
    writeRowNumbers(slot.numbers, 0, receivedAt, frame);
    slot.numbers[LAT] = frame.position ? frame.position.lat : NaN;
    slot.numbers[LON] = frame.position ? frame.position.lon : NaN;
    slot.source = sourceOf(frame.source);
    slot.built = undefined;
  }

  function frameOf(vehicleId: string, slot: Slot): StoredFrame {
    if (slot.built) return slot.built;
    const { numbers } = slot;
    const frame = frameFromRowNumbers(numbers, 0, slot.source);
    const lat = numbers[LAT]!;
    if (lat === lat) frame.position = { lat, lon: numbers[LON]! };
    return (slot.built = { vehicleId, receivedAt: numbers[ROW_AT.receivedAt]!, frame });
  }

  async function latestMany(vehicleIds: readonly string[]): Promise<Map<string, StoredFrame>> {
    const unknown = vehicleIds.filter((id) => !latest.has(id));
    if (unknown.length) {
      const found = await store.latestMany(unknown);
      for (const id of unknown) {
        const f = found.get(id);
        if (f) keep(id, f.receivedAt, f.frame);
        else if (!latest.has(id)) latest.set(id, null);
      }
    }
    const out = new Map<string, StoredFrame>();
    for (const id of vehicleIds) {
      const slot = latest.get(id);
      if (slot) out.set(id, frameOf(id, slot));
    }
    return out;
  }

  return {
    ...store,
    async append(frames) {
      const result = await store.append(frames);
      for (let i = 0; i < frames.length; i++) {
        const f = frames[i]!;
        if (result.inserted[i]) keep(f.vehicleId, f.receivedAt, f.frame);
      }
      return result;
    },
    async latest(vehicleId) {
      return (await latestMany([vehicleId])).get(vehicleId);
    },
    latestMany,
    async deleteOlderThan(ts) {
      const removed = await store.deleteOlderThan(ts);
      for (const [id, slot] of latest) if (slot && slot.numbers[ROW_AT.ts]! < ts) latest.delete(id);
      return removed;
    },
  };
}
