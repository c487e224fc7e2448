/**
 * `npm run bench:notify`: notification delivery under load (issue 12). The built platform runs as its
 * own process; a fleet streams telemetry over MQTT (bench/live/fleet.ts: QoS 1, 1 Hz, phases spread)
 * while the bench opens 特急 (extra-urgent) tickets through the API, evenly over the window, on
 * vehicles of 3 customer units with 5 contacts each, every contact on email (a local SMTP server,
 * STARTTLS + login) and on its unit's webhook endpoint (a local receiver). Measures, per delivery,
 * incident → SMTP accepted (the ticket's receivedAt to the end of the mail's DATA at the server)
 * and incident → webhook received, p50/p95/p99; lost (expected deliveries never received) and
 * duplicates (receipts of a key already received). See docs/benchmarks.md.
 *
 *   --vehicles N    streaming vehicles (default 2000; 0: no fleet)
 *   --incidents N   tickets opened in the window (default 1000)
 *   --seconds S     the window the tickets are opened in (default 60)
 *   --units N       customer units (default 3)   --contacts N   contacts per unit (default 5)
 *   --warmup S      fleet streaming before the window (default 5)
 *   --settle S      after the window: wait at most this long for the last deliveries (default 60)
 *   --keep-data     keep the temp data dir and print its path
 * Platform settings (NOTIFY_*, …) in the environment are passed on to the platform process.
 *
 * Everything runs on 127.0.0.1 with ports picked free; every child process and the temp dir are
 * removed at the end, also on an error or Ctrl-C. The last line is one JSON object.
 */
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { nextMessage, tell, type FleetToParent, type Schedule } from '../live/ipc.ts';
import { summarize, type Summary } from '../live/stats.ts';
import { startPlatform } from '../platform-process.ts';
import { numberFlags } from '../shared/child.ts';
import { login } from '../shared/console-client.ts';
import { benchLifecycle } from '../shared/lifecycle.ts';
import { fileLimits, nodeCommand, sleep } from '../shared/procs.ts';
import { provisionVehicles } from '../shared/provision.ts';
import { startSmtpReceiver, startWebhookReceiver, type Arrival } from './receivers.ts';
import { seedUnits, unitId, writeChannelsFile } from './setup.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** The issue's targets (issue 12). */
const TARGET = { smtpP99Ms: 2000, webhookP99Ms: 1000 };
/** Tickets opened at once at most (the API's answers do not hold the schedule back below this). */
const MAX_OPENING = 64;

const { values: flags } = parseArgs({
  options: {
    vehicles: { type: 'string', default: '2000' },
    incidents: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '60' },
    units: { type: 'string', default: '3' },
    contacts: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '5' },
    settle: { type: 'string', default: '60' },
    'keep-data': { type: 'boolean', default: false },
  },
});
const num = numberFlags(flags);
const say = (text = '') => process.stdout.write(text + '\n');
const lifecycle = benchLifecycle({
  name: 'bench',
  tempPrefix: 'powerwatch-bench-notify-',
  keepData: flags['keep-data'],
});
const children = lifecycle.children;

interface Opened {
  ticketId: number;
  /** The incident's time: the ticket's receivedAt (the platform's clock, the same machine clock). */
  at: number;
}

/** Deliveries per (ticket, channel) against those expected: latency of each key's first arrival, lost, duplicates. */
function account(opened: Map<number, Opened>, arrivals: Arrival[], perTicket: number) {
  const first = new Map<string, number>();
  let duplicates = 0;
  let foreign = 0;
  const byTicket = new Map<number, number>();
  for (const a of arrivals) {
    const id = Number(/^ticket:(\d+):opened:/.exec(a.key)?.[1]);
    if (!opened.has(id)) {
      foreign++;
      continue;
    }
    if (first.has(a.key)) {
      duplicates++;
      continue;
    }
    first.set(a.key, a.at);
    byTicket.set(id, (byTicket.get(id) ?? 0) + 1);
  }
  const latency: number[] = [];
  for (const [key, at] of first) latency.push(at - opened.get(Number(/^ticket:(\d+):/.exec(key)![1]))!.at);
  let lost = 0;
  for (const id of opened.keys()) lost += Math.max(0, perTicket - (byTicket.get(id) ?? 0));
  return {
    expected: opened.size * perTicket,
    received: first.size,
    lost,
    duplicates,
    foreign,
    latency: summarize(latency),
  };
}

const ms = (x: number) => (Number.isFinite(x) ? Math.round(x) : null);
const verdict = (ok: boolean) => (ok ? 'PASS' : 'FAIL');
const line = (label: string, s: Summary, target: number) =>
  `  ${label.padEnd(26)} p50 ${ms(s.p50)} ms, p95 ${ms(s.p95)} ms, p99 ${ms(s.p99)} ms, max ${ms(s.max)} ms (${s.count}) — target p99 < ${target} ms: ${verdict(s.p99 < target)}`;

async function main(): Promise<number> {
  const s = {
    vehicles: Math.floor(num('vehicles')),
    incidents: Math.max(1, Math.floor(num('incidents'))),
    seconds: Math.max(1, num('seconds')),
    units: Math.max(1, Math.floor(num('units'))),
    contacts: Math.max(1, Math.floor(num('contacts'))),
    warmup: num('warmup'),
    settle: num('settle'),
  };
  if (s.incidents > 20_000 || s.vehicles > 20_000 || s.seconds > 3600)
    throw new Error('bounded: at most 20,000 incidents and vehicles, 1 hour');
  const fdLimit = Math.min(fileLimits().hard, Math.max(fileLimits().soft, s.vehicles + 1024));
  const perTicket = s.contacts; // per channel: one delivery per contact
  say(`notify bench — ${new Date().toISOString()} — ${availableParallelism()} cores, node ${process.version}`);
  say(
    `  ${s.incidents} 特急 tickets opened through the API in ${s.seconds} s across ${s.units} units × ${s.contacts} contacts (email + webhook each), ` +
      `while ${s.vehicles} vehicles stream at 1 Hz (QoS 1)`,
  );

  const tempDir = lifecycle.tempDir();
  const dataDir = join(tempDir, 'data');
  const smtp = await startSmtpReceiver();
  const hook = await startWebhookReceiver();
  say(`provisioning ${s.vehicles} vehicles, ${s.units} units, ${s.units * s.contacts} contacts …`);
  const creds = await provisionVehicles(ROOT, dataDir, s.vehicles, undefined, (i) => unitId(i % s.units));
  const desk = await seedUnits(dataDir, s.units, s.contacts);
  const credsFile = join(tempDir, 'credentials.json');
  writeFileSync(credsFile, JSON.stringify(creds), { mode: 0o600 });
  // the platform's settings: the channels file, the public URL of the links; the rest as deployed (or from the environment)
  process.env.NOTIFY_CHANNELS_FILE = writeChannelsFile(tempDir, smtp.port, hook.url, s.units);
  process.env.PUBLIC_URL ??= 'https://powerwatch.bench.example';
  // the bench opens its tickets through one dispatcher far faster than a person may (web/rate-limits.ts)
  process.env.RATE_TICKETS_PER_MIN ??= '100000';
  process.env.RATE_TICKETS_UNIT_PER_MIN ??= '100000';

  const platform = await startPlatform(children, ROOT, dataDir, fdLimit);
  say(`platform (node dist/platform/main.js) on MQTT ${platform.mqttPort}, HTTP ${platform.httpPort}`);
  const cookie = await login(platform.baseUrl, desk);
  const csrf = await csrfOf(platform.baseUrl, cookie);

  const fleets: ChildProcess[] = [];
  if (s.vehicles > 0) {
    const half = Math.ceil(s.vehicles / 2);
    for (const [from, to] of [
      [0, half],
      [half, s.vehicles],
    ] as const) {
      if (to <= from) continue;
      const { command, args } = nodeCommand(
        join(ROOT, 'bench/live/fleet.ts'),
        [
          `--port=${platform.mqttPort}`,
          `--creds=${credsFile}`,
          `--from=${from}`,
          `--to=${to}`,
          `--total=${s.vehicles}`,
          '--rate=1',
        ],
        fdLimit,
      );
      fleets.push(
        children.spawn(`fleet ${from}-${to}`, command, args, {
          cwd: ROOT,
          stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        }),
      );
    }
    const connected = await Promise.all(
      fleets.map((f) => nextMessage<FleetToParent, 'connected'>(f, 'connected', 300_000, 'fleet')),
    );
    say(`  fleet: ${connected.reduce((n, c) => n + c.connected, 0)} vehicles connected`);
  }

  const startAt = Date.now() + 1000;
  const windowStart = startAt + s.warmup * 1000;
  const windowEnd = windowStart + s.seconds * 1000;
  const schedule: Schedule = { startAt, windowStart, windowEnd, stopAt: windowEnd + (s.settle + 5) * 1000 };
  for (const f of fleets) tell(f, { type: 'go', schedule });
  const fleetDone = Promise.all(
    fleets.map((f) => nextMessage<FleetToParent, 'done'>(f, 'done', schedule.stopAt - Date.now() + 120_000, 'fleet')),
  );
  say(`running: ${s.warmup} s of streaming, then ${s.incidents} tickets in ${s.seconds} s …`);

  // the incidents: ticket i at windowStart + i·gap, on vehicle i (round robin over the units), at most MAX_OPENING at once
  const opened = new Map<number, Opened>();
  const errors: string[] = [];
  let opening = 0;
  const gap = (s.seconds * 1000) / s.incidents;
  const pending: Promise<void>[] = [];
  for (let i = 0; i < s.incidents; i++) {
    await sleep(Math.max(0, windowStart + i * gap - Date.now()));
    while (opening >= MAX_OPENING) await sleep(5);
    opening++;
    const body = {
      ...(s.vehicles > 0 ? { vehicleId: creds[i % creds.length]!.id } : { customerId: unitId(i % s.units) }),
      level: 'extra_urgent',
      title: `Bench incident ${i + 1}`,
      need: 'Mains lost, the generator does not start (bench).',
      contacts: [{ name: 'Crew', phone: '+86 138 0000 0000' }],
    };
    pending.push(
      fetch(`${platform.baseUrl}/api/tickets`, {
        method: 'POST',
        headers: { cookie, 'x-csrf-token': csrf, 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(30_000),
      })
        .then(async (res) => {
          const text = await res.text();
          if (res.status !== 201) throw new Error(`POST /api/tickets: ${res.status} ${text.slice(0, 200)}`);
          const t = (JSON.parse(text) as { ticket: { id: number; receivedAt: number } }).ticket;
          opened.set(t.id, { ticketId: t.id, at: t.receivedAt });
        })
        .catch((err: unknown) => void errors.push((err as Error).message))
        .finally(() => opening--),
    );
  }
  await Promise.all(pending);
  const openedIn = (Date.now() - windowStart) / 1000;

  // the last deliveries: until every expected key arrived on both channels, or --settle seconds
  const expectedEach = opened.size * perTicket;
  const settleUntil = Date.now() + s.settle * 1000;
  const distinct = (a: Arrival[]) => new Set(a.map((x) => x.key)).size;
  while (Date.now() < settleUntil && (distinct(smtp.arrivals) < expectedEach || distinct(hook.arrivals) < expectedEach))
    await sleep(100);
  // a moment more, so that a repeat right after the last first arrival is counted
  await sleep(500);
  for (const f of fleets) tell(f, { type: 'release' });
  const fleetResults = fleets.length ? (await fleetDone).map((d) => d.result) : [];

  const email = account(opened, smtp.arrivals, perTicket);
  const webhook = account(opened, hook.arrivals, perTicket);
  const published = fleetResults.reduce((n, f) => n + f.published, 0);
  const acked = fleetResults.reduce((n, f) => n + f.acked, 0);

  say();
  say(
    `tickets: ${opened.size} of ${s.incidents} opened in ${openedIn.toFixed(1)} s${errors.length ? ` (${errors.length} refused; first: ${errors[0]})` : ''}`,
  );
  say(`fleet: ${published} frames published, ${acked} acknowledged`);
  say(line('incident → SMTP accepted', email.latency, TARGET.smtpP99Ms));
  say(line('incident → webhook', webhook.latency, TARGET.webhookP99Ms));
  for (const [name, a] of [
    ['email', email],
    ['webhook', webhook],
  ] as const)
    say(
      `  ${name.padEnd(8)} ${a.received} of ${a.expected} received; lost ${a.lost} (target 0: ${verdict(a.lost === 0)}), ` +
        `duplicates by key ${a.duplicates} (target 0: ${verdict(a.duplicates === 0)})`,
    );
  const warnings = platform.warnings();
  if (warnings.length) say(`platform warnings: ${platform.warningCount()} (first: ${warnings[0]!.slice(0, 300)})`);

  const pass =
    errors.length === 0 &&
    email.latency.p99 < TARGET.smtpP99Ms &&
    webhook.latency.p99 < TARGET.webhookP99Ms &&
    email.lost + webhook.lost + email.duplicates + webhook.duplicates === 0;
  say(
    JSON.stringify({
      bench: 'notify',
      settings: s,
      tickets: {
        requested: s.incidents,
        opened: opened.size,
        refused: errors.length,
        seconds: Math.round(openedIn * 10) / 10,
      },
      fleet: { vehicles: s.vehicles, published, acked },
      email: {
        expected: email.expected,
        received: email.received,
        lost: email.lost,
        duplicates: email.duplicates,
        latencyMs: email.latency,
      },
      webhook: {
        expected: webhook.expected,
        received: webhook.received,
        lost: webhook.lost,
        duplicates: webhook.duplicates,
        latencyMs: webhook.latency,
      },
      targets: { smtpP99Ms: TARGET.smtpP99Ms, webhookP99Ms: TARGET.webhookP99Ms, lost: 0, duplicates: 0 },
      pass,
    }),
  );
  await smtp.close();
  await hook.close();
  return pass ? 0 : 1;
}

/** The CSRF token of a session (cookie sessions send it with every change). */
async function csrfOf(baseUrl: string, cookie: string): Promise<string> {
  const res = await fetch(`${baseUrl}/api/auth/session`, { headers: { cookie } });
  const body = (await res.json()) as { csrfToken?: string };
  if (!body.csrfToken) throw new Error(`no CSRF token for the session (${res.status})`);
  return body.csrfToken;
}

lifecycle.run(main);
