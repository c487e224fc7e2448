/** The last line `npm run simulate` writes on stdout: `summary {json}` (docs/simulators.md). */
const PREFIX = 'summary ';

export function summaryLine(summary: object): string {
  return `${PREFIX}${JSON.stringify(summary)}`;
}

/** The summary a run wrote on `stdout` (its `summary {json}` line); throws when there is none. */
export function readSummaryLine<T = Record<string, unknown>>(stdout: string): T {
  const line = stdout.split('\n').find((l) => l.startsWith(PREFIX));
  if (line === undefined) throw new Error(`no "${PREFIX}{json}" line in the simulator's output:\n${stdout}`);
  return JSON.parse(line.slice(PREFIX.length)) as T;
}
