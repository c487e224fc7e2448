import type { TelemetryFrame } from '../protocol/index.ts';

/**
 * Step 3, de-duplicate within one message: the same (seq, ts) twice in a batch is stored once.
 * Across messages the store's unique (vehicle, seq, ts) key decides, in the same transaction as
 * the write, so a replay after a reconnect is stored once however it interleaves.
 */
export function dedupeWithinMessage(frames: TelemetryFrame[]): { unique: TelemetryFrame[]; duplicates: number } {
  if (frames.length < 2) return { unique: frames, duplicates: 0 };
  const seen = new Set<string>();
  const unique: TelemetryFrame[] = [];
  for (const f of frames) {
    const key = `${f.seq}:${f.ts}`;
    if (seen.has(key)) continue;
    seen.add(key);
    unique.push(f);
  }
  return { unique, duplicates: frames.length - unique.length };
}
