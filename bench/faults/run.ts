/**
 * npm run bench:faults — with N vehicles streaming at 1 Hz through the real broker (TCP, QoS 1),
 * vehicles develop faults one after another; for each, the time from the publish of the frame that
 * completed the rule's condition (its hold time excluded) to the emergency ticket existing in the
 * records store. Held against: p99 under 200 ms with 2,000 vehicles.
 *
 *   npm run bench:faults -- [--vehicles 2000] [--duration 60] [--fault-every 500]
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type * as Logger from '../../core/logger.ts';
import type * as Config from '../../platform/config.ts';
import type * as Platform from '../../platform/platform.ts';
import { platformEntry } from '../platform-process.ts';

const { values: a } = parseArgs({
  options: {
    vehicles: { type: 'string', default: '2000' },
    duration: { type: 'string', default: '60' },
    'fault-every': { type: 'string', default: '500' },
  },
});
const vehicles = Number(a.vehicles);
const duration = Number(a.duration);

const pct = (sorted: number[], p: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]! : NaN;

/** The platform in this process as `npm start` runs it: the built JavaScript (built first, see platformEntry). */
async function builtPlatform() {
  const dist = join(platformEntry(fileURLToPath(new URL('../..', import.meta.url))), '../..');
  const load = (path: string) => import(pathToFileURL(join(dist, path)).href);
  return {
    ...((await load('core/logger.js')) as typeof Logger),
    ...((await load('platform/config.js')) as typeof Config),
    ...((await load('platform/platform.js')) as typeof Platform),
  };
}

async function main() {
  const { createLogger, loadConfig, createPlatform } = await builtPlatform();
  const dir = mkdtempSync(join(tmpdir(), 'pw-bench-faults-'));
  const log = createLogger({ level: 'warn' });
  const config = loadConfig({
    DATA_DIR: dir,
    MQTT_PORT: '0',
    HTTP_PORT: '0',
    MQTT_HOST: '127.0.0.1',
    HTTP_HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
  });
  const platform = await createPlatform(config, { log });
  try {
    console.log(`provisioning ${vehicles} vehicles…`);
    const creds: { id: string; secret: string }[] = [];
    for (let i = 0; i < vehicles; i += 100) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(100, vehicles - i) }, (_, k) => {
          const id = `BF${String(i + k).padStart(5, '0')}`;
          return platform.vehicles
            .add({ id, customerId: `C${(i + k) % 10}`, model: 'XJ-24' })
            .then((r) => ({ id, secret: r.secret }));
        }),
      );
      creds.push(...batch);
    }
    const credsFile = join(dir, 'creds.json');
    writeFileSync(credsFile, JSON.stringify(creds));
    const { mqtt } = await platform.start();

    const latencies: number[] = [];
    platform.bus.on('ticket.opened', (e) => {
      const openedAt = Date.now();
      void platform.diagnostics.alarms
        .list({ vehicleIds: [e.ticket.vehicleId!], states: ['active'] })
        .then((alarms) => {
          const trigger = alarms.find((x) => x.code === e.ticket.faultCode);
          if (trigger) latencies.push(openedAt - trigger.raisedAt);
        });
    });

    console.log(
      `streaming ${vehicles} vehicles at 1 Hz for ${duration} s through MQTT port ${mqtt}; a fault every ${a['fault-every']} ms…`,
    );
    const child = fork(
      new URL('./fleet.ts', import.meta.url).pathname,
      [
        '--port',
        String(mqtt),
        '--creds',
        credsFile,
        '--duration',
        String(duration),
        '--fault-every',
        a['fault-every']!,
      ],
      {
        execArgv: ['--import', 'tsx'],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      },
    );
    const cpuStart = process.cpuUsage();
    const t0 = Date.now();
    const result = await new Promise<{ published: number; acked: number; faults: number; seconds: number }>(
      (resolve, reject) => {
        child.on('message', (m: { type: string }) => {
          if (m.type === 'connected') console.log('fleet connected');
          if (m.type === 'done') resolve(m as never);
        });
        child.on('exit', (code) => code !== 0 && reject(new Error(`fleet exited with ${code}`)));
        setTimeout(() => reject(new Error('fleet did not finish in time')), (duration + 180) * 1000).unref();
      },
    );
    await platform.diagnostics.idle();
    const cpu = process.cpuUsage(cpuStart);
    const stored = await platform.telemetry.count();
    const tickets = await platform.diagnostics.tickets.list({ limit: 100_000 });
    const sorted = [...latencies].sort((x, y) => x - y);
    const figures = {
      vehicles,
      seconds: Math.round(result.seconds),
      framesPerS: Math.round(result.acked / result.seconds),
      framesStored: stored,
      framesAcked: result.acked,
      faults: result.faults,
      tickets: tickets.length,
      p50Ms: pct(sorted, 50),
      p99Ms: pct(sorted, 99),
      maxMs: sorted[sorted.length - 1] ?? NaN,
      platformCpuPct: Math.round(((cpu.user + cpu.system) / 1000 / (Date.now() - t0)) * 100),
      rssMB: Math.round(process.memoryUsage().rss / 1048576),
    };
    console.log('');
    console.log(
      `frames: ${figures.framesAcked} acknowledged, ${figures.framesStored} stored (${figures.framesPerS}/s)`,
    );
    console.log(`faults injected: ${figures.faults}; emergency tickets opened: ${figures.tickets}`);
    console.log(
      `fault frame published → ticket exists: p50 ${figures.p50Ms} ms, p99 ${figures.p99Ms} ms, max ${figures.maxMs} ms (target: p99 < 200 ms)`,
    );
    console.log(`platform process: CPU ${figures.platformCpuPct} % of one core, RSS ${figures.rssMB} MB`);
    console.log(figures.p99Ms < 200 && figures.tickets === figures.faults ? 'PASS' : 'FAIL');
    console.log(JSON.stringify(figures));
  } finally {
    await platform.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
