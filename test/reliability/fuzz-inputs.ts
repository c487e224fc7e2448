import {
  MAX_FRAMES_PER_BATCH,
  MAX_FUTURE_SKEW_MS,
  MIN_FRAME_TS,
  NUMERIC_FIELDS,
  POWER_SOURCES,
  vehicleTopic,
  type ProtocolError,
  type RejectionCode,
  type TopicKind,
} from '../../protocol/index.ts';

/**
 * Generated bad input for the ingest fuzz test, each message with the answer the protocol
 * (docs/protocol.md) promises for it. The oracle here is written from the protocol, not from the
 * code: it says which `code`, batch `index`, `seq` and issue paths every refusal must carry.
 */

// ── seeded PRNG ───────────────────────────────────────────────────────────────────────────────
export type Rng = () => number;

/** mulberry32: small, fast, and the same sequence for the same seed on every machine. */
export function prng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
export const int = (rng: Rng, min: number, max: number) => min + Math.floor(rng() * (max - min + 1));
export const pick = <T>(rng: Rng, items: readonly T[]): T => items[Math.floor(rng() * items.length)]!;
const chance = (rng: Rng, p: number) => rng() < p;

// ── what the platform must answer ──────────────────────────────────────────────────────────────
export interface ExpectedError {
  code: RejectionCode;
  topic: string;
  index?: number;
  seq?: number;
  /** Issue paths, as the platform words them ('(root)' for the value itself). */
  paths?: string[];
}

export interface FuzzMessage {
  /** What kind of bad input this is (for the per-kind tally). */
  label: string;
  topic: string;
  /** The vehicle topic kind ingest sees, or null when the broker's ACL refuses the topic. */
  kind: TopicKind | null;
  payload: Buffer;
  /** Every refusal, in the order the platform produces them (batch index order). */
  errors: ExpectedError[];
  /** Valid frames inside it that must be stored. */
  stored: { seq: number; ts: number }[];
}

/** One refusal as a comparable string. */
export function signature(e: ExpectedError | ProtocolError): string {
  const paths = 'paths' in e ? e.paths : (e as ProtocolError).issues?.map((i) => i.path);
  // a field can fail two checks (seq 2^53: not a safe integer, too large): the paths, not the count
  return [e.code, e.topic, e.index ?? '-', e.seq ?? '-', paths ? [...new Set(paths)].sort().join(',') : '-'].join('|');
}

// ── frames ─────────────────────────────────────────────────────────────────────────────────────
type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Frame = Record<string, Json>;

const SECTION_BOOL: Record<string, string | undefined> = {
  mains: 'present',
  generator: 'running',
  battery: undefined,
  charging: 'engineRunning',
};
const SECTIONS = Object.keys(SECTION_BOOL);
const round = (x: number) => Math.round(x * 100) / 100;

/** A complete valid frame (every section, every measurement). */
export function fullFrame(rng: Rng, seq: number, ts: number): Frame {
  const f: Frame = { v: 1, seq, ts, source: pick(rng, POWER_SOURCES) };
  for (const s of SECTIONS) {
    const section: Record<string, Json> = {};
    const bool = SECTION_BOOL[s];
    if (bool) section[bool] = chance(rng, 0.5);
    f[s] = section;
  }
  for (const field of NUMERIC_FIELDS) {
    const value = round(field.min + rng() * (field.max - field.min));
    const [a, b] = field.path.split('.') as [string, string | undefined];
    if (b === undefined) f[a] = value;
    else (f[a] as Record<string, Json>)[b] = value;
  }
  return f;
}

/** A valid frame as gateways send it: sections left out, null readings, sometimes unknown keys (ignored). */
export function validFrame(rng: Rng, seq: number, ts: number): Frame {
  const f = fullFrame(rng, seq, ts);
  for (const s of SECTIONS) if (chance(rng, 0.15)) delete f[s];
  for (const field of NUMERIC_FIELDS) {
    const [a, b] = field.path.split('.') as [string, string | undefined];
    const holder = (b === undefined ? f : f[a]) as Record<string, Json> | undefined;
    if (!holder) continue;
    const key = b ?? a;
    const roll = rng();
    if (roll < 0.05) holder[key] = null;
    else if (roll < 0.1) delete holder[key];
  }
  if (chance(rng, 0.1)) f.firmware = `fw-${int(rng, 1, 99)}`;
  return f;
}

/** A valid frame carrying junk the platform must ignore: a deeply nested or huge unknown key. */
export function validFrameWithJunk(rng: Rng, seq: number, ts: number): Frame {
  const f = validFrame(rng, seq, ts);
  const junk: Json = chance(rng, 0.5)
    ? deepArray(int(rng, 100, 2000))
    : Array.from({ length: int(rng, 100, 1000) }, (_, i) => i);
  if (chance(rng, 0.5)) f.extra = junk;
  else ((f.battery ??= { voltageV: 26 }) as Record<string, Json>).diag = junk;
  return f;
}

// Deep values are kept as JSON text behind a placeholder: JSON.stringify itself recurses and would
// overflow the stack on them (JSON.parse does not).
const rawTexts = new Map<string, string>();
function raw(text: string): Json {
  const key = `\u0000raw${rawTexts.size}`;
  rawTexts.set(key, text);
  return key;
}
function deepArray(depth: number): Json {
  return raw('['.repeat(depth) + ']'.repeat(depth));
}
function deepObject(depth: number): Json {
  return raw('{"a":'.repeat(depth) + '{}' + '}'.repeat(depth));
}

/** Sets `path` ('a' or 'a.b') in a full frame. */
function setPath(f: Frame, path: string, value: Json) {
  const [a, b] = path.split('.') as [string, string | undefined];
  if (b === undefined) f[a] = value;
  else (f[a] as Record<string, Json>)[b] = value;
}

const NUMBER_PATHS = ['seq', 'ts', ...NUMERIC_FIELDS.map((f) => f.path)];
const BOOL_PATHS = Object.entries(SECTION_BOOL).flatMap(([s, b]) => (b ? [`${s}.${b}`] : []));

/** A frame with one field of the wrong JSON type: refused with invalid_frame naming that field. */
function wrongTypeFrame(rng: Rng, seq: number, ts: number): { frame: Frame; paths: string[] } {
  const f = fullFrame(rng, seq, ts);
  const what = int(rng, 0, 4);
  let path: string;
  let value: Json;
  if (what === 0) {
    path = pick(rng, NUMBER_PATHS);
    // null is a valid "no reading" for measurements, not for seq and ts
    value = pick(
      rng,
      path === 'seq' || path === 'ts' ? ['12', true, {}, [1], null, 'NaN'] : ['12', true, false, {}, [1, 2], 'NaN', ''],
    );
  } else if (what === 1) {
    path = pick(rng, BOOL_PATHS);
    value = pick(rng, ['true', 1, 0, null, {}, [], 'yes']);
  } else if (what === 2) {
    path = pick(rng, SECTIONS);
    value = pick(rng, ['on', 5, true, [], null, [{}]]);
  } else if (what === 3) {
    path = 'source';
    value = pick(rng, [1, true, null, {}, ['mains'], 'Mains', 'solar', '']);
  } else {
    path = 'v';
    value = pick(rng, ['1', true, null, [1], {}, '']);
  }
  setPath(f, path, value);
  return { frame: f, paths: [path] };
}

/** A frame with one value out of its range. Future timestamps get ts_out_of_range, the rest invalid_frame. */
function outOfRangeFrame(
  rng: Rng,
  seq: number,
  ts: number,
  now: number,
): { frame: Frame; code: RejectionCode; paths?: string[] } {
  const f = fullFrame(rng, seq, ts);
  const what = int(rng, 0, 9);
  if (what <= 5) {
    const field = pick(rng, NUMERIC_FIELDS);
    const delta = pick(rng, [0.001, 0.5, 1, 1000, 1e9]);
    // 1e999 is valid JSON and parses to Infinity
    const value = chance(rng, 0.1)
      ? chance(rng, 0.5)
        ? '1e999'
        : '-1e999'
      : chance(rng, 0.5)
        ? field.max + delta
        : field.min - delta;
    setPath(f, field.path, typeof value === 'string' ? (value as unknown as Json) : value);
    return { frame: f, code: 'invalid_frame', paths: [field.path] };
  }
  if (what === 6) {
    f.seq = pick(rng, [-1, -int(rng, 2, 1e6), 1.5, 2 ** 53, 1e300]);
    return { frame: f, code: 'invalid_frame', paths: ['seq'] };
  }
  if (what === 7) {
    f.ts = pick(rng, [0, -1, int(rng, 1, MIN_FRAME_TS - 1), ts + 0.5]);
    return { frame: f, code: 'invalid_frame', paths: ['ts'] };
  }
  if (what === 8) {
    f.v = pick(rng, [0, 2, 3, 99, -1]);
    return { frame: f, code: 'invalid_frame', paths: ['v'] };
  }
  f.ts = now + MAX_FUTURE_SKEW_MS + int(rng, 3_600_000, 365 * 86_400_000);
  return { frame: f, code: 'ts_out_of_range' };
}

/** JSON text; `'1e999'` placeholders become the literal (JSON.stringify cannot write Infinity), raw placeholders their text. */
function json(value: Json): string {
  let text = JSON.stringify(value).replace(/"(-?1e999)"/g, '$1');
  if (rawTexts.size) {
    text = text.replace(/"\\u0000raw\d+"/g, (m) => rawTexts.get(JSON.parse(m) as string) ?? m);
    rawTexts.clear();
  }
  return text;
}

// ── message generators ─────────────────────────────────────────────────────────────────────────
export interface GeneratorContext {
  rng: Rng;
  vehicleId: string;
  /** Other vehicles' ids (for publishes on foreign topics). */
  others: string[];
  maxPayload: number;
  now: number;
  /** Next seq for a valid frame of this vehicle; the ts is derived from it. */
  nextSeq(): { seq: number; ts: number };
}

const JSON_START = new Set([
  0x09,
  0x0a,
  0x0d,
  0x20,
  0x7b,
  0x5b,
  0x22,
  0x2d,
  0x74,
  0x66,
  0x6e,
  ...Array.from({ length: 10 }, (_, i) => 0x30 + i),
]);
const BAD_UTF8 = [
  [0xff],
  [0xfe],
  [0x80],
  [0xc0, 0xaf],
  [0xc1, 0xbf],
  [0xed, 0xa0, 0x80],
  [0xed, 0xbf, 0xbf],
  [0xe2, 0x82],
  [0xf0, 0x9f, 0x98],
  [0xf5, 0x80, 0x80, 0x80],
  [0xf4, 0x90, 0x80, 0x80],
];

const telemetry = (ctx: GeneratorContext) => vehicleTopic(ctx.vehicleId, 'telemetry');
const one = (
  ctx: GeneratorContext,
  label: string,
  payload: Buffer | string,
  error: Omit<ExpectedError, 'topic'>,
  kind: TopicKind = 'telemetry',
): FuzzMessage => {
  const topic = vehicleTopic(ctx.vehicleId, kind);
  return {
    label,
    topic,
    kind,
    payload: Buffer.isBuffer(payload) ? payload : Buffer.from(payload),
    errors: [{ ...error, topic }],
    stored: [],
  };
};
/** A frame that is not stored: its seq/ts are not taken from the vehicle's valid sequence. */
const throwaway = (ctx: GeneratorContext) => ({
  seq: int(ctx.rng, 0, 1e9),
  ts: ctx.now - int(ctx.rng, 1, 30 * 86_400_000),
});

export const GENERATORS: Record<string, { weight: number; make: (ctx: GeneratorContext) => FuzzMessage }> = {
  random_bytes: {
    weight: 10,
    make(ctx) {
      const len = int(ctx.rng, 1, 600);
      const bytes = Buffer.alloc(len);
      for (let i = 0; i < len; i++) bytes[i] = int(ctx.rng, 0, 255);
      // a first byte no JSON text starts with (and no UTF-8 BOM), so it cannot parse
      do bytes[0] = int(ctx.rng, 0, 255);
      while (JSON_START.has(bytes[0]!) || bytes[0] === 0xef);
      return one(ctx, 'random_bytes', bytes, { code: 'malformed_json' });
    },
  },
  truncated_json: {
    weight: 10,
    make(ctx) {
      const { seq, ts } = throwaway(ctx);
      const text = chance(ctx.rng, 0.7)
        ? json(validFrame(ctx.rng, seq, ts))
        : json({ frames: Array.from({ length: int(ctx.rng, 1, 5) }, (_, i) => validFrame(ctx.rng, seq + i, ts + i)) });
      return one(ctx, 'truncated_json', text.slice(0, int(ctx.rng, 1, text.length - 1)), { code: 'malformed_json' });
    },
  },
  invalid_utf8: {
    weight: 8,
    make(ctx) {
      const { seq, ts } = throwaway(ctx);
      const text = json({ ...validFrame(ctx.rng, seq, ts), note: 'AB' });
      const at = text.indexOf('"note":"') + 9;
      const bad = Buffer.from(pick(ctx.rng, BAD_UTF8));
      return one(
        ctx,
        'invalid_utf8',
        Buffer.concat([Buffer.from(text.slice(0, at)), bad, Buffer.from(text.slice(at))]),
        { code: 'malformed_json' },
      );
    },
  },
  wrong_type: {
    weight: 15,
    make(ctx) {
      const { seq, ts } = throwaway(ctx);
      const { frame, paths } = wrongTypeFrame(ctx.rng, seq, ts);
      return one(ctx, 'wrong_type', json(frame), {
        code: 'invalid_frame',
        paths,
        ...(typeof frame.seq === 'number' ? { seq: frame.seq } : {}),
      });
    },
  },
  out_of_range: {
    weight: 15,
    make(ctx) {
      const { seq, ts } = throwaway(ctx);
      const r = outOfRangeFrame(ctx.rng, seq, ts, ctx.now);
      return one(ctx, 'out_of_range', json(r.frame), {
        code: r.code,
        seq: r.frame.seq as number,
        ...(r.paths ? { paths: r.paths } : {}),
      });
    },
  },
  not_a_frame: {
    weight: 4,
    make(ctx) {
      const value = pick<Json>(ctx.rng, [null, 0, 42, -1.5, true, false, 'frame', '', [], [1, 2, 3], {}]);
      const paths =
        typeof value === 'object' && value !== null && !Array.isArray(value)
          ? ['v', 'seq', 'ts', 'source']
          : ['(root)'];
      return one(ctx, 'not_a_frame', json(value), { code: 'invalid_frame', paths });
    },
  },
  huge_array: {
    weight: 6,
    make(ctx) {
      const what = int(ctx.rng, 0, 4);
      if (what === 0) {
        const n = int(ctx.rng, MAX_FRAMES_PER_BATCH + 1, 5000);
        return one(ctx, 'huge_array', json({ frames: new Array(n).fill(0) }), {
          code: 'invalid_batch',
          paths: ['frames'],
        });
      }
      if (what === 1)
        return one(ctx, 'huge_array', json(Array.from({ length: int(ctx.rng, 1000, 20_000) }, (_, i) => i % 10)), {
          code: 'invalid_frame',
          paths: ['(root)'],
        });
      if (what === 2) {
        const { seq, ts } = throwaway(ctx);
        const f = fullFrame(ctx.rng, seq, ts);
        const field = pick(ctx.rng, NUMERIC_FIELDS);
        setPath(f, field.path, new Array(int(ctx.rng, 1000, 10_000)).fill(1));
        return one(ctx, 'huge_array', json(f), { code: 'invalid_frame', seq, paths: [field.path] });
      }
      if (what === 3) return one(ctx, 'huge_array', json({ frames: [] }), { code: 'invalid_batch', paths: ['frames'] });
      return one(ctx, 'huge_array', json({ frames: pick<Json>(ctx.rng, ['all', 5, {}, null, true]) }), {
        code: 'invalid_batch',
        paths: ['frames'],
      });
    },
  },
  deep_nesting: {
    weight: 6,
    make(ctx) {
      // up to 20,000 levels (JSON.parse copes; anything recursing over the value would not)
      const depth = int(ctx.rng, 100, 10_000);
      const what = int(ctx.rng, 0, 2);
      if (what === 0)
        return one(ctx, 'deep_nesting', json(deepArray(depth * 2)), { code: 'invalid_frame', paths: ['(root)'] });
      if (what === 1)
        return one(ctx, 'deep_nesting', json(deepObject(depth)), {
          code: 'invalid_frame',
          paths: ['v', 'seq', 'ts', 'source'],
        });
      const { seq, ts } = throwaway(ctx);
      const f = fullFrame(ctx.rng, seq, ts);
      const field = pick(ctx.rng, NUMERIC_FIELDS);
      setPath(f, field.path, chance(ctx.rng, 0.5) ? deepArray(depth) : deepObject(depth));
      return one(ctx, 'deep_nesting', json(f), { code: 'invalid_frame', seq, paths: [field.path] });
    },
  },
  oversize: {
    weight: 0.4,
    make(ctx) {
      const { seq, ts } = throwaway(ctx);
      // valid JSON, a valid frame even: the size alone refuses it
      const text = json(validFrame(ctx.rng, seq, ts));
      const size = int(ctx.rng, ctx.maxPayload + 1, ctx.maxPayload * 3);
      const kind = pick<TopicKind>(ctx.rng, ['telemetry', 'telemetry', 'status', 'events']);
      return one(
        ctx,
        'oversize',
        text + ' '.repeat(Math.max(0, size - text.length)),
        { code: 'payload_too_large' },
        kind,
      );
    },
  },
  mixed_batch: {
    weight: 10,
    make(ctx) {
      const n = int(ctx.rng, 2, 60);
      const frames: Json[] = [];
      const errors: ExpectedError[] = [];
      const stored: { seq: number; ts: number }[] = [];
      const topic = telemetry(ctx);
      for (let index = 0; index < n; index++) {
        const r = ctx.rng();
        if (r < 0.3) {
          const s = ctx.nextSeq();
          frames.push(
            chance(ctx.rng, 0.2) ? validFrameWithJunk(ctx.rng, s.seq, s.ts) : validFrame(ctx.rng, s.seq, s.ts),
          );
          stored.push(s);
        } else if (r < 0.55) {
          const { seq, ts } = throwaway(ctx);
          const w = wrongTypeFrame(ctx.rng, seq, ts);
          frames.push(w.frame);
          errors.push({
            code: 'invalid_frame',
            topic,
            index,
            paths: w.paths,
            ...(typeof w.frame.seq === 'number' ? { seq: w.frame.seq } : {}),
          });
        } else if (r < 0.8) {
          const { seq, ts } = throwaway(ctx);
          const o = outOfRangeFrame(ctx.rng, seq, ts, ctx.now);
          frames.push(o.frame);
          errors.push({
            code: o.code,
            topic,
            index,
            seq: o.frame.seq as number,
            ...(o.paths ? { paths: o.paths } : {}),
          });
        } else if (r < 0.9) {
          frames.push(pick<Json>(ctx.rng, [null, 7, 'x', [], [[[]]], true]));
          errors.push({ code: 'invalid_frame', topic, index, paths: ['(root)'] });
        } else {
          frames.push(chance(ctx.rng, 0.5) ? {} : deepObject(int(ctx.rng, 10, 2000)));
          errors.push({ code: 'invalid_frame', topic, index, paths: ['v', 'seq', 'ts', 'source'] });
        }
      }
      return { label: 'mixed_batch', topic, kind: 'telemetry', payload: Buffer.from(json({ frames })), errors, stored };
    },
  },
  bad_batch_500: {
    weight: 0.6,
    make(ctx) {
      // a full replay batch of bad frames: 500 refusals, at most 10 of them answered
      const topic = telemetry(ctx);
      const frames: Json[] = [];
      const errors: ExpectedError[] = [];
      for (let index = 0; index < MAX_FRAMES_PER_BATCH; index++) {
        const seq = int(ctx.rng, 0, 1e9);
        frames.push({ v: 1, seq, ts: ctx.now, source: 'grid' });
        errors.push({ code: 'invalid_frame', topic, index, seq, paths: ['source'] });
      }
      return {
        label: 'bad_batch_500',
        topic,
        kind: 'telemetry',
        payload: Buffer.from(json({ frames })),
        errors,
        stored: [],
      };
    },
  },
  bad_status: {
    weight: 3,
    make(ctx) {
      const ts = ctx.now;
      const [value, paths] = pick<[Json, string[]]>(ctx.rng, [
        [{ online: 'yes', ts }, ['online']],
        [{ online: 1, ts }, ['online']],
        [{ online: true, ts: -1 }, ['ts']],
        [{ online: true, ts: 1.5 }, ['ts']],
        [{ online: false }, ['ts']],
        [{ ts }, ['online']],
        [[true], ['(root)']],
        ['online', ['(root)']],
      ]);
      return one(ctx, 'bad_status', json(value), { code: 'invalid_status', paths }, 'status');
    },
  },
  bad_event: {
    weight: 3,
    make(ctx) {
      const ts = ctx.now;
      const [value, paths] = pick<[Json, string[]]>(ctx.rng, [
        [{ ts, code: 'E 1!', severity: 'major' }, ['code']],
        [{ ts, code: '', severity: 'minor' }, ['code']],
        [{ ts, code: 'X'.repeat(65), severity: 'minor' }, ['code']],
        [{ ts, code: 'GEN_LOW_FUEL', severity: 'apocalyptic' }, ['severity']],
        [{ ts, code: 'GEN_LOW_FUEL', severity: 'major', message: 'm'.repeat(501) }, ['message']],
        [{ ts: 'now', code: 'A', severity: 'info' }, ['ts']],
        [{ code: 'A', severity: 'info' }, ['ts']],
        [deepArray(500), ['(root)']],
      ]);
      return one(ctx, 'bad_event', json(value), { code: 'invalid_event', paths }, 'events');
    },
  },
  bad_ack: {
    weight: 3,
    make(ctx) {
      const ts = ctx.now;
      const [value, paths] = pick<[Json, string[]]>(ctx.rng, [
        [{ id: 'c1', ts, ok: 'sure' }, ['ok']],
        [{ id: '', ts, ok: true }, ['id']],
        [{ id: 'c'.repeat(65), ts, ok: true }, ['id']],
        [{ id: 7, ts, ok: true }, ['id']],
        [{ id: 'c1', ts, ok: false, error: 'e'.repeat(501) }, ['error']],
        [{ id: 'c1', ok: true }, ['ts']],
        [null, ['(root)']],
      ]);
      return one(ctx, 'bad_ack', json(value), { code: 'invalid_ack', paths }, 'commands/ack');
    },
  },
  bad_json_other_kind: {
    weight: 2,
    make(ctx) {
      const kind = pick<TopicKind>(ctx.rng, ['status', 'events', 'commands/ack']);
      return one(
        ctx,
        'bad_json_other_kind',
        pick(ctx.rng, ['{"online":', 'true false', '{"ts":1,}', "{'a':1}", 'undefined']),
        { code: 'malformed_json' },
        kind,
      );
    },
  },
  foreign_topic: {
    weight: 5,
    make(ctx) {
      const { seq, ts } = throwaway(ctx);
      const topic = pick(ctx.rng, [
        vehicleTopic(pick(ctx.rng, ctx.others), 'telemetry'),
        vehicleTopic(pick(ctx.rng, ctx.others), 'status'),
        vehicleTopic(ctx.vehicleId, 'commands'),
        vehicleTopic(ctx.vehicleId, 'errors'),
        `v1/vehicles/${ctx.vehicleId}/telemetry/extra`,
        `v1/vehicles/${ctx.vehicleId}/nope`,
        `v2/vehicles/${ctx.vehicleId}/telemetry`,
        '$SYS/fuzz',
        '$platform/refused',
        `fz/${Array.from({ length: int(ctx.rng, 1, 12) }, () => int(ctx.rng, 0, 999)).join('/')}`,
      ]);
      // a valid frame: the topic alone refuses it, and it must not be stored anywhere
      return {
        label: 'foreign_topic',
        topic,
        kind: null,
        payload: Buffer.from(json(validFrame(ctx.rng, seq, ts))),
        errors: [{ code: 'topic_not_allowed', topic }],
        stored: [],
      };
    },
  },
  deep_topic: {
    weight: 3,
    make(ctx) {
      const { seq, ts } = throwaway(ctx);
      const levels = chance(ctx.rng, 0.5) ? 150 : int(ctx.rng, 101, 2000);
      const topic = [
        vehicleTopic(ctx.vehicleId, 'telemetry'),
        ...Array.from({ length: levels - 4 }, (_, i) => String(i % 10)),
      ].join('/');
      return {
        label: 'deep_topic',
        topic,
        kind: null,
        payload: Buffer.from(json(validFrame(ctx.rng, seq, ts))),
        errors: [{ code: 'topic_not_allowed', topic }],
        stored: [],
      };
    },
  },
};

/** Picks a generator by weight. */
export function generator(rng: Rng): (ctx: GeneratorContext) => FuzzMessage {
  const entries = Object.values(GENERATORS);
  const total = entries.reduce((s, g) => s + g.weight, 0);
  let r = rng() * total;
  for (const g of entries) {
    r -= g.weight;
    if (r < 0) return g.make;
  }
  return entries[entries.length - 1]!.make;
}
