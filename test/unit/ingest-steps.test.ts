import { describe, expect, it } from 'vitest';
import { decode } from '../../ingest/decode.ts';
import { validateFrame, validateMessage, validateTelemetry } from '../../ingest/validate.ts';
import { dedupeWithinMessage } from '../../ingest/dedupe.ts';
import { MAX_FUTURE_SKEW_MS, statusSchema, type TelemetryFrame } from '../../protocol/index.ts';
import { frame } from '../helpers/platform.ts';

const NOW = Date.UTC(2026, 10, 27, 8, 0, 0);

describe('decode', () => {
  it('parses JSON', () => {
    expect(decode(Buffer.from('{"a":1}'), 100)).toEqual({ ok: true, value: { a: 1 } });
  });
  it('refuses payloads over the limit before parsing them', () => {
    const r = decode(Buffer.alloc(101, 0x20), 100);
    expect(r).toMatchObject({ ok: false, rejection: { code: 'payload_too_large' } });
  });
  it('refuses invalid UTF-8', () => {
    expect(decode(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), 100)).toMatchObject({
      ok: false,
      rejection: { code: 'malformed_json', message: 'payload is not valid UTF-8' },
    });
  });
  it('refuses truncated JSON with the parser message', () => {
    const r = decode(Buffer.from('{"v":1,'), 100);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.rejection.message).toMatch(/^payload is not valid JSON/);
  });
  it('never throws on deep nesting', () => {
    const deep = Buffer.from('['.repeat(200_000) + ']'.repeat(200_000));
    let r: ReturnType<typeof decode> | undefined;
    expect(() => (r = decode(deep, 1_000_000))).not.toThrow();
    if (r && !r.ok) expect(r.rejection.code).toBe('malformed_json');
  });
});

describe('validate', () => {
  it('accepts a full frame and ignores unknown keys', () => {
    const r = validateFrame(
      { ...frame(1, NOW), extra: 'x', battery: { ...frame(1, NOW).battery, vendorField: 3 } },
      NOW,
    );
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.frame).not.toHaveProperty('extra');
      expect(r.frame.battery).not.toHaveProperty('vendorField');
    }
  });
  it('accepts a frame without optional sections and with null readings', () => {
    expect(validateFrame({ v: 1, seq: 0, ts: NOW, source: 'none', battery: { voltageV: null } }, NOW).ok).toBe(true);
  });
  it.each([
    [{ ...frame(1, NOW), v: 2 }, 'v'],
    [{ ...frame(1, NOW), seq: -1 }, 'seq'],
    [{ ...frame(1, NOW), seq: 1.5 }, 'seq'],
    [{ ...frame(1, NOW), ts: 'yesterday' }, 'ts'],
    [{ ...frame(1, NOW), source: 'solar' }, 'source'],
    [{ ...frame(1, NOW), battery: { socPct: 120 } }, 'battery.socPct'],
    [{ ...frame(1, NOW), mains: { voltageV: 220 } }, 'mains.present'],
    [{ ...frame(1, NOW), generator: { running: 'yes' } }, 'generator.running'],
    [{ ...frame(1, NOW), loadKw: Number.NaN }, 'loadKw'],
  ])('refuses %j at %s with the path named', (value, path) => {
    const r = validateFrame(value, NOW);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.rejection.code).toBe('invalid_frame');
      expect(r.rejection.issues?.map((i) => i.path)).toContain(path);
    }
  });
  it('refuses frames stamped too far in the future', () => {
    const r = validateFrame(frame(9, NOW + MAX_FUTURE_SKEW_MS + 1), NOW);
    expect(r).toMatchObject({ ok: false, rejection: { code: 'ts_out_of_range', seq: 9 } });
  });
  it('splits a batch into good frames and rejections with their index', () => {
    const r = validateTelemetry({ frames: [frame(1, NOW), { bad: true }, frame(3, NOW)] }, NOW);
    expect(r.frames.map((f) => f.seq)).toEqual([1, 3]);
    expect(r.rejections).toEqual([expect.objectContaining({ code: 'invalid_frame', index: 1 })]);
  });
  it.each([[{ frames: [] }], [{ frames: 'x' }], [{ frames: Array.from({ length: 501 }, (_, i) => frame(i, NOW)) }]])(
    'refuses a bad batch',
    (value) => {
      expect(validateTelemetry(value, NOW).rejections[0]?.code).toBe('invalid_batch');
    },
  );
  it('refuses non-object payloads', () => {
    expect(validateTelemetry([1, 2], NOW).rejections[0]?.code).toBe('invalid_frame');
    expect(validateTelemetry(null, NOW).rejections[0]?.code).toBe('invalid_frame');
  });
  it('validates small messages with their own code', () => {
    expect(validateMessage(statusSchema, { online: 'yes', ts: 1 }, 'invalid_status', 'status')).toMatchObject({
      ok: false,
      rejection: { code: 'invalid_status' },
    });
  });
});

describe('dedupe within a message', () => {
  it('keeps the first of each (seq, ts)', () => {
    const a = frame(1, NOW) as TelemetryFrame;
    const b = frame(2, NOW) as TelemetryFrame;
    const r = dedupeWithinMessage([a, b, { ...a }, frame(1, NOW + 1) as TelemetryFrame]);
    expect(r.unique.map((f) => [f.seq, f.ts])).toEqual([
      [1, NOW],
      [2, NOW],
      [1, NOW + 1],
    ]);
    expect(r.duplicates).toBe(1);
  });
});
