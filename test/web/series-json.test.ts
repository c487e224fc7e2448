import { serializerCompiler } from 'fastify-type-provider-zod';
import { describe, expect, it } from 'vitest';
import { NUMERIC_FIELD_PATHS } from '../../protocol/index.ts';
import { emptySeries, type Series } from '../../telemetry/store.ts';
import { seriesOut } from '../../web/schemas.ts';
import { seriesJson } from '../../telemetry/series-json.ts';
import { seriesSerializerCompiler } from '../../web/series-json.ts';

/** What every other route writes: the zod serializer of the response schema. */
const zodJson = serializerCompiler({ schema: seriesOut, method: 'GET', url: '/t', httpStatus: '200' });

function series(points: number, fields = NUMERIC_FIELD_PATHS): Series {
  const s = emptySeries({ vehicleId: 'VA1', from: 1_000, to: 90_000_000, maxPoints: 2000 }, fields);
  s.bucketMs = 60_000;
  for (let i = 0; i < points; i++) {
    s.ts.push(i * 60_000);
    s.count.push(60 - (i % 3));
    for (const [k, f] of Object.entries(s.fields))
      if (i % 7 === k.length % 7) {
        f.min.push(null);
        f.max.push(null);
        f.avg.push(null);
      } else {
        f.min.push(-i / 3);
        f.max.push(i * 1.1);
        f.avg.push(i / 7);
      }
  }
  return s;
}

describe('the telemetry series JSON (web/series-json.ts)', () => {
  it('writes exactly what the zod serializer writes', () => {
    for (const s of [
      series(1441),
      series(3, ['loadKw', 'battery.socPct']),
      emptySeries({ vehicleId: 'VB1', from: 0, to: 1, maxPoints: 10 }, NUMERIC_FIELD_PATHS),
    ])
      expect(seriesJson(s)).toBe(zodJson(s));
    // keys the schema does not name are left out, as zod strips them
    const extra = Object.assign(series(2, ['loadKw']), { secret: 1 });
    (extra.fields.loadKw as unknown as Record<string, unknown>).also = 2;
    expect(seriesJson(extra)).toBe(zodJson(extra));
    expect(seriesJson(extra)).not.toMatch(/secret|also/);
  });

  it('refuses what the zod serializer refuses (non-finite numbers, nulls in ts or count, holes), and unequal lengths', () => {
    const broken: [string, (s: Series) => void][] = [
      ['ts', (s) => (s.ts[1] = Number.NaN)],
      ['count', (s) => (s.count[0] = null as unknown as number)],
      ['fields.loadKw', (s) => (s.fields.loadKw!.avg[2] = Number.POSITIVE_INFINITY)],
      ['fields.loadKw', (s) => (s.fields.loadKw!.min[2] = '1' as unknown as number)],
      ['fields.loadKw', (s) => delete s.fields.loadKw!.max[1]],
      ['to', (s) => (s.to = Number.NaN)],
      ['vehicleId', (s) => (s.vehicleId = 7 as unknown as string)],
    ];
    for (const [what, breakIt] of broken) {
      const s = series(4, ['loadKw']);
      breakIt(s);
      expect(() => zodJson(s), what).toThrow();
      expect(() => seriesJson(s), what).toThrow(`telemetry series does not match its schema: ${what}`);
    }
    // and, beyond the schema, a column shorter or longer than ts (a point without its values)
    const short = series(4, ['loadKw']);
    short.fields.loadKw!.max.pop();
    expect(() => seriesJson(short)).toThrow('telemetry series does not match its schema: fields.loadKw');
    const long = series(4, ['loadKw']);
    long.count.push(1);
    expect(() => seriesJson(long)).toThrow('telemetry series does not match its schema: count');
  });

  it('the route serializer: seriesJson for the 200 answer, the zod serializer for the others', () => {
    const error = { error: { code: 'VEHICLE_NOT_FOUND', message: 'no vehicle VX' } };
    const errorSchema = seriesOut.pick({ vehicleId: true });
    const ok = seriesSerializerCompiler({ schema: seriesOut, method: 'GET', url: '/t', httpStatus: '200' });
    const s = series(5);
    expect(ok(s)).toBe(zodJson(s));
    const notFound = seriesSerializerCompiler({ schema: errorSchema, method: 'GET', url: '/t', httpStatus: '404' });
    // the zod serializer of that status's own schema (strips what it does not name)
    expect(notFound({ vehicleId: 'VX', ...error })).toBe('{"vehicleId":"VX"}');
  });
});
