import { fork, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { createConsoleAccounts } from '../../bench/live/accounts.ts';
import { delivery } from '../../bench/live/delivery.ts';
import {
  nextMessage,
  tell,
  type ConsolesResult,
  type ConsolesToParent,
  type FleetToParent,
} from '../../bench/live/ipc.ts';
import { appTiming, pairsToHistogram, summarizeHistogram } from '../../bench/live/stats.ts';
import { startTestPlatform, type TestPlatform } from '../helpers/platform.ts';

const BENCH = fileURLToPath(new URL('../../bench/live/', import.meta.url));
const VEHICLES = 12;

/**
 * The pieces of `npm run bench:live` in a small run (a few seconds): its fleet process publishes
 * over MQTT, its console process logs in, subscribes and counts, against the platform in-process.
 */
describe('bench:live pieces', () => {
  let tp: TestPlatform | undefined;
  const children: ChildProcess[] = [];

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await tp?.close();
  });

  const start = (script: string, args: string[]) => {
    const child = fork(join(BENCH, script), args, {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    children.push(child);
    return child;
  };

  it('delivers every frame of the watched vehicles to the consoles, with its publish time', async () => {
    // two consoles of at most 8 subscriptions each: 16 subscriptions cover the 12 vehicles
    tp = await startTestPlatform({ LIVE_MAX_SUBSCRIPTIONS: '8' });
    const creds = [];
    for (let i = 0; i < VEHICLES; i++) creds.push(await tp.addVehicle(`LB${String(i).padStart(3, '0')}`));
    const logins = await createConsoleAccounts(tp.dataDir, 2);
    const files = {
      creds: join(tp.dataDir, 'creds.json'),
      ids: join(tp.dataDir, 'ids.json'),
      logins: join(tp.dataDir, 'logins.json'),
    };
    writeFileSync(files.creds, JSON.stringify(creds));
    writeFileSync(files.ids, JSON.stringify(creds.map((c) => c.id)));
    writeFileSync(files.logins, JSON.stringify(logins));

    const fleet = start('fleet.ts', [
      `--port=${tp.platform.ports.mqtt}`,
      `--creds=${files.creds}`,
      '--from=0',
      `--to=${VEHICLES}`,
      `--total=${VEHICLES}`,
      '--rate=2',
    ]);
    const consoles = start('consoles.ts', [
      `--base=http://127.0.0.1:${tp.platform.ports.http}`,
      `--logins=${files.logins}`,
      `--ids=${files.ids}`,
      '--from=0',
      '--to=2',
      '--consoles=2',
    ]);
    const [connected, ready] = await Promise.all([
      nextMessage<FleetToParent, 'connected'>(fleet, 'connected', 20_000, 'fleet'),
      nextMessage<ConsolesToParent, 'ready'>(consoles, 'ready', 20_000, 'consoles'),
    ]);
    expect(connected.connected).toBe(VEHICLES);
    expect(ready).toMatchObject({ consoles: 2, refused: 0, maxSubscriptions: 8 });
    expect(ready.subscriptions.every((n) => n >= 1)).toBe(true);
    expect(ready.subscriptions.reduce((a, b) => a + b, 0)).toBe(16);

    const startAt = Date.now() + 200;
    const schedule = { startAt, windowStart: startAt + 500, windowEnd: startAt + 2500, stopAt: startAt + 3000 };
    tell(fleet, { type: 'go', schedule });
    tell(consoles, { type: 'go', schedule });
    const { result: published } = await nextMessage<FleetToParent, 'done'>(fleet, 'done', 20_000, 'fleet');
    expect(published.errors).toBe(0);
    const inWindow = published.publishedInWindow.reduce((a, b) => a + b, 0);
    expect(inWindow).toBeGreaterThanOrEqual(VEHICLES * 3); // 2 Hz × 2 s, give or take the edges

    // the last frames may still be on their way: ask until they are all there (bounded)
    let got: ConsolesResult | undefined;
    await vi.waitFor(
      async () => {
        const done = nextMessage<ConsolesToParent, 'done'>(consoles, 'done', 5_000, 'consoles');
        tell(consoles, { type: 'report' });
        got = (await done).result;
        const d = delivery(ready.subscriptions, published.publishedInWindow, got.framesByVehicle, 2, ready.maxRateHz);
        expect(d.delivered).toBe(d.expected);
      },
      { timeout: 10_000, interval: 100 },
    );
    const d = delivery(ready.subscriptions, published.publishedInWindow, got!.framesByVehicle, 2, ready.maxRateHz);
    expect(d).toMatchObject({ missing: 0, extra: 0 });
    expect(d.expected).toBeGreaterThan(inWindow); // some vehicles are watched by both consoles
    const latency = summarizeHistogram(pairsToHistogram(got!.frameLatency));
    expect(latency.count).toBe(d.delivered);
    expect(latency.p50).toBeGreaterThanOrEqual(0);
    expect(got!.fleetMessages).toBeGreaterThan(0);
    for (const c of [fleet, consoles]) tell(c, { type: 'release' });
  });
});

describe('appTiming: the platform’s own time in a Server-Timing header', () => {
  it('reads app’s dur among other metrics and parameters, and nothing else', () => {
    expect(appTiming('app;dur=12.5')).toBe(12.5);
    expect(appTiming('db;dur=3, app;desc="the platform";dur=7')).toBe(7);
    expect(appTiming('cache;desc=hit, app ; dur=0.4')).toBe(0.4);
    expect(appTiming('apps;dur=9')).toBeUndefined();
    expect(appTiming('db;dur=3')).toBeUndefined();
    expect(appTiming('app')).toBeUndefined();
    expect(appTiming('app;dur=x')).toBeUndefined();
    expect(appTiming(null)).toBeUndefined();
  });
});
