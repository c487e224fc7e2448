/**
 * The session vehicles of bench:sessions, run as its own process by bench/sessions/run.ts (never on
 * its own): one reference gateway (simulators/gateway) per vehicle on a real-time clock, so that
 * they answer the platform's commands (`setTelemetryRate` 10 Hz while the session is live,
 * `snapshot`) as a vehicle would. All are ticked from one 5 ms loop. Each counts the frames it
 * samples with a `ts` inside the measured window: what the session views must receive.
 *
 *   --port P --creds FILE --from I --to J
 *
 * Bounded: connecting by --connect-timeout, the whole life by the schedule + 10 minutes.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createGateway, type Gateway } from '../../simulators/gateway/gateway.ts';
import { createVehicleModel, type VehicleModel } from '../../simulators/model/vehicle.ts';
import { exitWithParent, numberFlags } from '../shared/child.ts';
import type { Credential } from '../shared/provision.ts';
import { fromParent, sendToParent, type Schedule } from './ipc.ts';

const { values: args } = parseArgs({
  options: {
    port: { type: 'string' },
    creds: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    'connect-timeout': { type: 'string', default: '120' },
  },
});
const num = numberFlags(args);
const log = (text: string) => process.stderr.write(`  [gateways] ${text}\n`);

exitWithParent();

async function main() {
  const creds = (JSON.parse(readFileSync(args.creds!, 'utf8')) as Credential[]).slice(num('from'), num('to'));
  const clock = { now: () => Date.now() };
  /** The bench's schedule, once it said go. */
  const run: { schedule?: Schedule } = {};
  const sampledInWindow = new Array<number>(creds.length).fill(0);
  const sampled = new Array<number>(creds.length).fill(0);
  let disconnects = 0;
  let running = true;
  const started = Date.now();

  const gateways: Gateway[] = creds.map((c, i) => {
    const m = createVehicleModel({
      vehicleId: c.id,
      seed: 11,
      startTs: clock.now(),
      mainsOutagesPerDay: 0,
      drivesPerDay: 0,
    });
    // what the gateway samples is what it publishes: count it by its ts
    const model: VehicleModel = {
      ...m,
      sample(t: number) {
        const f = m.sample(t);
        sampled[i]!++;
        const w = run.schedule;
        if (w && f.ts >= w.windowStart && f.ts < w.windowEnd) sampledInWindow[i]!++;
        return f;
      },
    };
    const gw = createGateway(
      { clock, model, log: { info: () => undefined, warn: log } },
      {
        vehicleId: c.id,
        secret: c.secret,
        brokerUrl: `mqtt://127.0.0.1:${num('port')}`,
        rateHz: 1,
        phaseMs: Math.round((i / creds.length) * 1000),
      },
    );
    gw.on('disconnected', () => {
      if (running) disconnects++;
    });
    return gw;
  });

  const online = Promise.all(
    gateways.map(
      (gw) =>
        new Promise<void>((resolve) => {
          const off = gw.on('connected', () => {
            off();
            resolve();
          });
        }),
    ),
  );
  let maxLagMs = 0;
  let last = Date.now();
  const tick = setInterval(() => {
    const now = Date.now();
    if (run.schedule && now >= run.schedule.startAt) maxLagMs = Math.max(maxLagMs, now - last - 5);
    last = now;
    for (const gw of gateways) gw.tick();
  }, 5);
  for (const gw of gateways) gw.start();
  await Promise.race([
    online,
    new Promise((_, reject) =>
      setTimeout(() => reject(new Error('the gateways did not all connect')), num('connect-timeout') * 1000),
    ),
  ]);
  await sendToParent({ type: 'connected', connected: gateways.length, ms: Date.now() - started });

  const schedule = (run.schedule = (await fromParent('go', 30 * 60_000)).schedule);
  setTimeout(
    () => {
      log('still running 10 minutes after the schedule ended: exiting');
      process.exit(4);
    },
    schedule.stopAt - Date.now() + 10 * 60_000,
  ).unref();
  await fromParent('report', schedule.stopAt - Date.now() + 5 * 60_000);
  const stats = gateways.map((g) => g.stats());
  await sendToParent({
    type: 'done',
    result: {
      sampledInWindow,
      sampled,
      commands: stats.reduce((n, s) => n + s.commands, 0),
      commandsRefused: stats.reduce((n, s) => n + s.commandsRefused, 0),
      dropped: stats.reduce((n, s) => n + s.dropped, 0),
      disconnects,
      maxLagMs: Math.round(maxLagMs),
    },
  });
  await fromParent('release', 10 * 60_000).catch(() => undefined);
  running = false;
  clearInterval(tick);
  await Promise.all(gateways.map((g) => g.stop().catch(() => undefined)));
  process.exit(0);
}

main().catch(async (err: unknown) => {
  await sendToParent({ type: 'fatal', message: err instanceof Error ? err.message : String(err) });
  process.exit(1);
});
