import { describe, expect, it } from 'vitest';
import { createCounters } from '../../core/counters.ts';

describe('counters', () => {
  it('count totals and per key, keys bounded per counter into (other), and snapshot both', () => {
    const c = createCounters(2);
    c.inc('ingest.messages');
    c.inc('ingest.frames_stored', 'V1', 3);
    c.inc('ingest.frames_stored', 'V2');
    c.inc('ingest.frames_stored', 'V3', 2); // a third key: counted under (other)
    c.inc('ingest.frames_stored', 'V1');
    expect(c.get('ingest.messages')).toBe(1);
    expect(c.get('ingest.frames_stored')).toBe(7);
    expect(c.get('ingest.frames_stored', 'V1')).toBe(4);
    expect(c.get('ingest.frames_stored', 'V3')).toBe(0);
    expect(c.get('ingest.frames_stored', '(other)')).toBe(2);
    expect(c.get('never')).toBe(0);
    expect(c.snapshot()).toEqual({
      totals: { 'ingest.messages': 1, 'ingest.frames_stored': 7 },
      byKey: { 'ingest.frames_stored': { V1: 4, V2: 1, '(other)': 2 } },
    });
  });
});
