/**
 * A strict parser of the Prometheus text exposition format (0.0.4), for tests: every line must be
 * a `# HELP`, a `# TYPE` or a sample of the family declared last; names, label names, escapes and
 * values must follow the format's grammar, and a histogram's buckets must be cumulative with a
 * final `+Inf` equal to `_count`. It throws on the first violation, naming the line.
 */
export interface ParsedSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}
export interface ParsedFamily {
  name: string;
  type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';
  help: string;
  samples: ParsedSample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*/;

function parseValue(s: string, where: string): number {
  if (s === '+Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  if (s === 'NaN') return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) throw new Error(`${where}: bad value ${JSON.stringify(s)}`);
  return Number(s);
}

function parseSample(line: string, where: string): ParsedSample {
  const m = NAME.exec(line);
  if (!m) throw new Error(`${where}: no metric name`);
  const name = m[0];
  let rest = line.slice(name.length);
  const labels: Record<string, string> = {};
  if (rest.startsWith('{')) {
    rest = rest.slice(1);
    while (!rest.startsWith('}')) {
      const l = LABEL.exec(rest);
      if (!l) throw new Error(`${where}: bad label name in ${JSON.stringify(rest)}`);
      rest = rest.slice(l[0].length);
      if (!rest.startsWith('="')) throw new Error(`${where}: expected =" after ${l[0]}`);
      rest = rest.slice(2);
      let value = '';
      for (;;) {
        const c = rest[0];
        if (c === undefined) throw new Error(`${where}: unterminated label value`);
        rest = rest.slice(1);
        if (c === '"') break;
        if (c === '\\') {
          const e = rest[0];
          rest = rest.slice(1);
          if (e === 'n') value += '\n';
          else if (e === '\\' || e === '"') value += e;
          else throw new Error(`${where}: bad escape \\${e}`);
        } else value += c;
      }
      if (l[0] in labels) throw new Error(`${where}: label ${l[0]} twice`);
      labels[l[0]] = value;
      if (rest.startsWith(',')) rest = rest.slice(1);
      else if (!rest.startsWith('}')) throw new Error(`${where}: expected , or } in labels`);
    }
    rest = rest.slice(1);
  }
  if (!rest.startsWith(' ')) throw new Error(`${where}: expected a space before the value`);
  const parts = rest.trim().split(/\s+/);
  if (parts.length > 2) throw new Error(`${where}: trailing text`);
  if (parts[1] !== undefined && !/^-?\d+$/.test(parts[1])) throw new Error(`${where}: bad timestamp`);
  return { name, labels, value: parseValue(parts[0]!, where) };
}

export function parsePrometheusText(text: string): Map<string, ParsedFamily> {
  if (!text.endsWith('\n')) throw new Error('the exposition must end with a newline');
  const families = new Map<string, ParsedFamily>();
  let current: ParsedFamily | undefined;
  text
    .slice(0, -1)
    .split('\n')
    .forEach((line, i) => {
      const where = `line ${i + 1}`;
      if (line === '') return;
      const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
      if (meta) {
        const [, kind, name, rest] = meta as unknown as [string, 'HELP' | 'TYPE', string, string];
        let f = families.get(name);
        if (f && f !== current) throw new Error(`${where}: family ${name} declared again after others`);
        if (!f) families.set(name, (f = { name, type: 'untyped', help: '', samples: [] }));
        if (f.samples.length) throw new Error(`${where}: ${kind} after samples of ${name}`);
        current = f;
        if (kind === 'HELP') f.help = rest;
        else {
          if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(rest))
            throw new Error(`${where}: bad type ${rest}`);
          f.type = rest as ParsedFamily['type'];
        }
        return;
      }
      if (line.startsWith('#')) return; // a comment
      const s = parseSample(line, where);
      const base = current?.type === 'histogram' ? s.name.replace(/_(bucket|sum|count)$/, '') : s.name;
      if (!current || base !== current.name) throw new Error(`${where}: sample ${s.name} outside its family`);
      if (current.type === 'counter' && !(s.value >= 0)) throw new Error(`${where}: negative counter`);
      current.samples.push(s);
    });
  for (const f of families.values()) if (f.type === 'histogram') checkHistogram(f);
  return families;
}

function checkHistogram(f: ParsedFamily) {
  const key = (l: Record<string, string>) =>
    JSON.stringify(
      Object.entries(l)
        .filter(([k]) => k !== 'le')
        .sort(),
    );
  const series = new Set(f.samples.map((s) => key(s.labels)));
  for (const k of series) {
    const of = f.samples.filter((s) => key(s.labels) === k);
    const buckets = of.filter((s) => s.name === `${f.name}_bucket`);
    const count = of.find((s) => s.name === `${f.name}_count`);
    if (!count || !of.some((s) => s.name === `${f.name}_sum`)) throw new Error(`${f.name}: no _sum or _count`);
    let prevLe = -Infinity;
    let prev = 0;
    for (const b of buckets) {
      const le = parseValue(b.labels.le ?? '', `${f.name} le`);
      if (le <= prevLe) throw new Error(`${f.name}: buckets not ascending`);
      if (b.value < prev) throw new Error(`${f.name}: buckets not cumulative`);
      prevLe = le;
      prev = b.value;
    }
    if (prevLe !== Infinity || prev !== count.value) throw new Error(`${f.name}: +Inf bucket missing or not _count`);
  }
}

/** The value of a family's sample with these labels (undefined: none). */
export function sampleValue(
  families: Map<string, ParsedFamily>,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const family = families.get(name.replace(/_(bucket|sum|count)$/, '')) ?? families.get(name);
  // the platform's default label (NODE_ID) is on every sample: matched only when asked for
  const own = (s: ParsedSample) => Object.keys(s.labels).filter((k) => k !== 'node' || 'node' in labels);
  return family?.samples.find(
    (s) =>
      s.name === name &&
      Object.keys(labels).length === own(s).length &&
      Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  )?.value;
}
