import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger } from '../core/logger.ts';
import { loadConfigOrExit } from '../platform/startup.ts';
import { createPlatform } from '../platform/platform.ts';
import { createScaledClock } from './clock.ts';
import { DEMO_CUSTOMERS, seedDemoAccounts } from './demo-accounts.ts';
import { seedDemoStock } from './demo-stock.ts';
import { seedDemoResources } from './demo-resources.ts';
import { readCredentialsFile, writeCredentialsFile } from './fleet/credentials-file.ts';
import { createFleet } from './fleet/fleet.ts';
import { provisionFleet } from './fleet/provision.ts';
import { formatStatus } from './fleet/status-line.ts';
import { DEMO_FAULT_EVERY_S, demoSchedule } from './demo-schedule.ts';
import { scenario } from './scenarios/catalogue.ts';

/**
 * `npm run demo`: the platform on its embedded defaults plus a fleet of 20 simulated vehicles of
 * three customers, a new fault every few minutes, and a running commentary. MQTT defaults to port
 * 1884 here (1883 is often taken by a system Mosquitto). Ctrl-C stops everything cleanly; run it
 * again and the same vehicles come back (credentials are kept in DATA_DIR/demo-credentials.json).
 */
const VEHICLES = 20;
const CUSTOMERS = DEMO_CUSTOMERS.length;
const hhmmss = (ts: number) => new Date(ts).toTimeString().slice(0, 8);

async function main(env: Record<string, string | undefined>) {
  const demoEnv = { ...env, MQTT_PORT: env.MQTT_PORT || '1884', LOG_LEVEL: env.LOG_LEVEL || 'warn' };
  const config = loadConfigOrExit(demoEnv);
  const log = createLogger({ level: config.LOG_LEVEL, pretty: config.LOG_PRETTY });
  const platform = await createPlatform(config, { log });

  // Vehicles, customer units and console accounts before the platform starts taking connections.
  const credsFile = join(config.dataDir, 'demo-credentials.json');
  const known = existsSync(credsFile) ? readCredentialsFile(credsFile) : [];
  const prov = await provisionFleet(platform.vehicles, {
    count: VEHICLES,
    prefix: 'DEMO',
    customers: CUSTOMERS,
    customerIds: DEMO_CUSTOMERS.map((c) => c.id),
    seed: 'demo',
    known,
  });
  writeCredentialsFile(credsFile, prov.vehicles);
  const demoAccounts = await seedDemoAccounts({ records: platform.records, customers: platform.customers });
  // spare parts: a catalogue of the plans' parts, a central store and two service-point stores with stock
  await seedDemoStock({ stock: platform.stock, vehicleIds: prov.vehicles.map((v) => v.id) });
  await seedDemoResources(platform.resourceRegister);
  // 7×24: the demo engineer is on duty around the clock, the dispatcher is the duty lead — a customer's
  // "request remote support" rings the engineer's console (docs/remote-sessions.md)
  if ((await platform.remote.roster.list()).length === 0)
    for (let weekday = 0; weekday < 7; weekday++)
      await platform.remote.roster.add({
        weekday,
        date: null,
        start: '00:00',
        end: '00:00',
        primary: 'engineer',
        secondary: null,
        dutyLead: 'dispatcher',
      });

  let ports: { mqtt: number; http: number };
  try {
    ports = await platform.start();
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { port?: number };
    console.error(
      e.code === 'EADDRINUSE'
        ? `port ${e.port ?? ''} is in use; set MQTT_PORT / HTTP_PORT to free ports (e.g. MQTT_PORT=1885 HTTP_PORT=8081 npm run demo)`
        : err,
    );
    await platform.stop().catch(() => undefined);
    process.exit(1);
  }
  const host = config.MQTT_HOST === '0.0.0.0' ? '127.0.0.1' : config.MQTT_HOST;
  const httpHost = config.HTTP_HOST === '0.0.0.0' ? 'localhost' : config.HTTP_HOST;
  console.log(`PowerWatch demo
  console       http://${httpHost}:${ports.http}/        (HTTP_PORT; API docs at /docs, probes /healthz, /metrics for staff)
  MQTT broker   mqtt://${host}:${ports.mqtt}   (MQTT_PORT; the demo defaults to 1884)
  data          ${config.dataDir}
  vehicles      ${VEHICLES} (DEMO0001–DEMO${String(VEHICLES).padStart(4, '0')}) for ${CUSTOMERS} customers: ${prov.added} new, ${prov.reused} reused, ${prov.rotated} re-keyed; credentials in ${credsFile}

  Console accounts (demo only: new passwords at every start):
${demoAccounts.map((a) => `    ${a.id.padEnd(11)} ${a.password}   ${a.role}${a.customerId ? ` of ${a.customerId}` : ''}`).join('\n')}
`);

  // A new fault every few minutes, round the catalogue and round the fleet, for a day.
  const entries = demoSchedule(prov.vehicles);

  const startTs = Date.now();
  const clock = createScaledClock({ startTs, speed: 1 });
  const fleet = createFleet(
    { clock, log: { info: () => undefined, warn: (m) => console.log(`${hhmmss(Date.now())}  gateway: ${m}`) } },
    {
      vehicles: prov.vehicles,
      brokerUrl: `mqtt://127.0.0.1:${ports.mqtt}`,
      rateHz: 1,
      seed: 'demo',
      startTs,
      scenarios: entries,
    },
  );
  const customerOf = new Map(prov.vehicles.map((v) => [v.id, v.customerId ?? '?']));

  platform.bus.on('vehicle.event', (e) => {
    if (e.event.severity !== 'info' || e.event.code === 'SOURCE_CHANGED' || e.event.code === 'GATEWAY_BOOT') {
      console.log(
        `${hhmmss(e.receivedAt)}  ${e.vehicleId} reports ${e.event.code} (${e.event.severity})${e.event.message ? `: ${e.event.message}` : ''}`,
      );
    }
  });
  let stopping = false;
  platform.bus.on('vehicle.status', (e) => {
    if (!e.status.online && !stopping) console.log(`${hhmmss(e.receivedAt)}  ${e.vehicleId} is offline (status)`);
  });
  platform.bus.on('alarm.raised', (e) => {
    const a = e.alarm;
    if (a.live)
      console.log(
        `${hhmmss(Date.now())}  ALARM ${a.severity} ${a.code} on ${a.vehicleId}: ${a.title.en} / ${a.title.zh}`,
      );
  });
  platform.bus.on('alarm.cleared', (e) =>
    console.log(`${hhmmss(Date.now())}  cleared ${e.alarm.code} on ${e.alarm.vehicleId}`),
  );
  platform.bus.on('ticket.opened', (e) => {
    const t = e.ticket;
    const level = t.level === 'extra_urgent' ? '特急 extra urgent' : '加急 urgent';
    console.log(`${hhmmss(t.receivedAt)}  TICKET ${t.number} ${level} for ${t.customerId}: ${t.title}
           work content due ${hhmmss(t.workContentDueAt)}; plan ${t.planRef?.code ?? '—'}, mode ${t.serviceMode ?? '—'}`);
  });
  platform.bus.on('ticket.updated', (e) => {
    if (e.action === 'level_raised')
      console.log(`${hhmmss(Date.now())}  TICKET ${e.ticket.number} raised to ${e.ticket.level}`);
  });
  platform.bus.on('ticket.deadline_breached', (e) =>
    console.log(
      `${hhmmss(Date.now())}  DEADLINE missed on ${e.ticket.number} (${e.deadline}); escalated to ${e.escalatedAccounts.join(', ')}`,
    ),
  );
  platform.bus.on('ingest.rejected', (e) =>
    console.log(
      `${hhmmss(Date.now())}  platform refused a message from ${e.vehicleId}: ${e.error.code} ${e.error.message}`,
    ),
  );

  fleet.start();
  console.log(
    `${hhmmss(Date.now())}  fleet streaming at 1 Hz; first fault now: a generator that does not start after a mains outage, an extra-urgent ticket in about 2 min; then a new fault every ${DEMO_FAULT_EVERY_S / 60} min. Ctrl-C to stop.\n`,
  );

  const announced = new Set<string>();
  let lastAcked = 0;
  let lastStatus = Date.now();
  const commentary = setInterval(() => {
    const now = clock.now();
    for (const [vehicleId, planned] of fleet.plan) {
      for (const p of planned) {
        const key = `${vehicleId}:${p.id}`;
        if (p.startTs <= now && !announced.has(key)) {
          announced.add(key);
          const def = scenario(p.name);
          console.log(
            `${hhmmss(now)}  FAULT ${def.title} on ${vehicleId} (customer ${customerOf.get(vehicleId)})${p.endTs ? ` for ${Math.round((p.endTs - p.startTs) / 60000)} min` : ''}\n           expect: ${def.finding}`,
          );
        }
      }
    }
    if (Date.now() - lastStatus >= 15_000) {
      const s = fleet.stats();
      const fps = ((s.framesAcked - lastAcked) * 1000) / (Date.now() - lastStatus);
      lastAcked = s.framesAcked;
      lastStatus = Date.now();
      console.log(`${hhmmss(Date.now())}  ${formatStatus(s, fps, now).slice(21)}`);
    }
  }, 1000);

  const shutdown = async (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    console.log(`\n${signal}: stopping the fleet and the platform…`);
    clearInterval(commentary);
    await fleet.stop(5000);
    await platform.stop();
    log.flush();
    const s = fleet.stats();
    console.log(`stopped. ${s.framesAcked} frames delivered, ${s.buffered} unsent.`);
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

void main(process.env);
