import { describe, expect, it } from 'vitest';
import { FIELD_READERS, NUMERIC_FIELDS, readField, type TelemetryFrame } from '../../protocol/index.ts';

describe('the numeric field readers', () => {
  it('each field of the table has a reader, and it reads that field and no other', () => {
    expect(Object.keys(FIELD_READERS).sort()).toEqual(NUMERIC_FIELDS.map((f) => f.path).sort());
    // every field a value of its own (its index + 0.5), set by its path
    const frame: Record<string, unknown> = { v: 1, seq: 1, ts: 1, source: 'mains' };
    NUMERIC_FIELDS.forEach(({ path }, i) => {
      const [section, key] = path.split('.');
      if (key === undefined) frame[section!] = i + 0.5;
      else ((frame[section!] ??= {}) as Record<string, number>)[key] = i + 0.5;
    });
    NUMERIC_FIELDS.forEach(({ path }, i) => expect(readField(frame as TelemetryFrame, path)).toBe(i + 0.5));
  });

  it('an absent section or reading is null', () => {
    const frame = { v: 1, seq: 1, ts: 1, source: 'battery', battery: { socPct: 50 } } as TelemetryFrame;
    for (const { path } of NUMERIC_FIELDS) expect(readField(frame, path)).toBe(path === 'battery.socPct' ? 50 : null);
  });
});
