import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';

/**
 * Debian's victoria-metrics as the InfluxDB-compatible receiving server (it implements
 * `/api/v2/write`), on an ephemeral port with its data in a temporary directory, as the export test
 * starts it. `-dedup.minScrapeInterval=1ms`: a point written twice (same series and timestamp) counts
 * once, as InfluxDB overwrites it.
 */
export const VICTORIA_METRICS = '/usr/bin/victoria-metrics';

export async function freePort(): Promise<number> {
  const s = createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

export function startVictoria(dataDir: string, port: number): Promise<ChildProcess> {
  const child = spawn(
    VICTORIA_METRICS,
    [
      `-storageDataPath=${dataDir}`,
      `-httpListenAddr=127.0.0.1:${port}`,
      '-dedup.minScrapeInterval=1ms',
      '-search.latencyOffset=0s',
      '-retentionPeriod=100y',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (b: Buffer) => {
      out += b.toString();
      if (out.includes('http server at http')) {
        child.stderr!.off('data', onData);
        child.stdout!.off('data', onData);
        child.stderr!.resume();
        child.stdout!.resume();
        child.off('exit', onExit);
        resolve(child);
      }
    };
    const onExit = (code: number | null) => reject(new Error(`victoria-metrics exited (${code}):\n${out}`));
    child.stderr!.on('data', onData);
    child.stdout!.on('data', onData);
    child.once('exit', onExit);
  });
}

export async function stopVictoria(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  child.kill('SIGTERM');
  await once(child, 'exit');
}

/**
 * The points the server holds of the measurement's `seq` field (every exported frame has one) with a
 * timestamp in [fromMs, toMs], and the series they belong to: what the bench and its test compare
 * with the frames stored.
 */
export async function countPoints(
  baseUrl: string,
  fromMs: number,
  toMs: number,
): Promise<{ points: number; series: number }> {
  await fetch(`${baseUrl}/internal/force_flush`);
  const windowS = Math.ceil((toMs - fromMs) / 1000) + 1;
  const at = (toMs / 1000).toFixed(3);
  const query = async (q: string) => {
    const url = `${baseUrl}/api/v1/query?nocache=1&time=${at}&query=${encodeURIComponent(q)}`;
    const res = await fetch(url);
    if (!res.ok) throw new Error(`victoria-metrics query ${q}: HTTP ${res.status} ${await res.text()}`);
    const body = (await res.json()) as { data: { result: { value: [number, string] }[] } };
    return Number(body.data.result[0]?.value[1] ?? 0);
  };
  return {
    points: await query(`sum(count_over_time(power_seq[${windowS}s]))`),
    series: await query(`count(count_over_time(power_seq[${windowS}s]))`),
  };
}
