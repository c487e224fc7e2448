/**
 * Web consoles for bench:live, run as its own process by bench/live/run.ts (never on its own): for
 * each console account of its slice, a login through POST /api/auth/login and a real socket.io-client
 * connection (WebSocket, the session cookie at the handshake, as a browser sends it), which then
 * subscribes to a block of vehicles (at most the server's maxSubscriptions) and, as a staff
 * account, receives the `fleet` updates of every vehicle too.
 *
 * Console c of C subscribes to vehicles floor(c·V/C) … + S − 1 (mod V): with S ≥ V/C every vehicle
 * is watched by at least one console. Counts every `frame` of a frame published inside the
 * window and its publish→arrival time (now − frame.ts: one machine, one clock), and reports what
 * it counted whenever the bench asks ('report'), until it is released.
 *
 *   --base URL --logins FILE --ids FILE --from I --to J --consoles C [--subscriptions S]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { FleetUpdate, LiveFrame, LiveWelcome } from '../../web/live/events.ts';
import { fleetEntries } from '../../web/live/fleet-wire.ts';
import { exitWithParent, numberFlags } from '../shared/child.ts';
import { login, openLive, type ConsoleSocket as Client } from '../shared/console-client.ts';
import { fromParent, sendToParent, type ConsolesResult, type ParentToChild } from './ipc.ts';
import { histogramToPairs, newHistogram, record } from './stats.ts';

const { values: args } = parseArgs({
  options: {
    base: { type: 'string' },
    logins: { type: 'string' },
    ids: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    consoles: { type: 'string' },
    subscriptions: { type: 'string', default: '0' },
  },
});
const num = numberFlags(args);

exitWithParent();

const base = args.base!;
const logins = JSON.parse(readFileSync(args.logins!, 'utf8')) as { username: string; password: string }[];
const ids = JSON.parse(readFileSync(args.ids!, 'utf8')) as string[];
const indexOf = new Map(ids.map((id, i) => [id, i]));
const V = ids.length;
const C = num('consoles');
const from = num('from');
const to = num('to');

let windowStart = Infinity;
let windowEnd = -Infinity;
let measuring = true;
const framesByVehicle = new Array<number>(V).fill(0);
const frameLatency = newHistogram();
const fleetAge = newHistogram();
const r = {
  framesOutside: 0,
  fleetMessages: 0,
  fleetEntries: 0,
  fleetBytes: 0,
  disconnects: 0,
  sessionsEnded: 0,
  firstError: undefined as string | undefined,
};

function onFrame(m: LiveFrame): void {
  const now = Date.now();
  const ts = m.frame.ts;
  const i = indexOf.get(m.vehicleId);
  if (i === undefined || ts < windowStart || ts >= windowEnd) {
    r.framesOutside++;
    return;
  }
  framesByVehicle[i]!++;
  record(frameLatency, now - ts);
}

function onFleet(m: FleetUpdate): void {
  const now = Date.now();
  r.fleetMessages++;
  for (const e of fleetEntries(m)) {
    const ts = e.latest?.ts;
    if (ts === undefined || ts < windowStart || ts >= windowEnd) continue;
    r.fleetEntries++;
    record(fleetAge, now - ts);
  }
}

/** One console: log in, connect, wait for the welcome, subscribe to its block of vehicles. */
async function openConsole(
  c: number,
  subscriptions: number[],
): Promise<{ socket: Client; welcome: LiveWelcome; refused: number }> {
  const cookie = await login(base, logins[c]!);
  const { socket, welcome } = await openLive(base, cookie, `console ${c}`);
  socket.on('frame', onFrame);
  socket.on('fleet', onFleet);
  // the window's fleet messages, their size as sent (socket.io's text packet, after engine.io's type), not encoded again
  socket.io.engine.on('data', (d: unknown) => {
    if (typeof d !== 'string' || !d.startsWith('2["fleet"')) return;
    const now = Date.now();
    if (now >= windowStart && now < windowEnd) r.fleetBytes += d.length;
  });
  socket.on('session.ended', () => r.sessionsEnded++);
  socket.on('disconnect', (reason) => {
    if (!measuring) return;
    r.disconnects++;
    r.firstError ??= `console ${c} disconnected: ${reason}`;
  });
  const wanted = num('subscriptions');
  const S = Math.min(V, wanted > 0 ? Math.min(wanted, welcome.maxSubscriptions) : welcome.maxSubscriptions);
  const start = Math.floor((c * V) / C);
  let refused = 0;
  await Promise.all(
    Array.from({ length: S }, async (_, k) => {
      const v = (start + k) % V;
      try {
        const res = await socket.timeout(30_000).emitWithAck('subscribe', { vehicleId: ids[v]! });
        if (res.ok) subscriptions[v]!++;
        else {
          refused++;
          r.firstError ??= `subscribe ${ids[v]}: ${res.error.code} ${res.error.message}`;
        }
      } catch (err) {
        refused++;
        r.firstError ??= `subscribe ${ids[v]}: ${(err as Error).message}`;
      }
    }),
  );
  return { socket, welcome, refused };
}

async function main() {
  const started = Date.now();
  const go = fromParent('go', 30 * 60_000);
  const subscriptions = new Array<number>(V).fill(0);
  const opened: { socket: Client; welcome: LiveWelcome; refused: number }[] = [];
  // logins cost a scrypt each on the platform: a few at a time
  for (let c = from; c < to; c += 4) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(4, to - c) }, (_, k) => openConsole(c + k, subscriptions)),
    );
    opened.push(...batch);
  }
  const w = opened[0]?.welcome;
  await sendToParent({
    type: 'ready',
    consoles: opened.length,
    subscriptions,
    refused: opened.reduce((n, o) => n + o.refused, 0),
    maxSubscriptions: w?.maxSubscriptions ?? 0,
    maxRateHz: w?.maxRateHz ?? 0,
    ms: Date.now() - started,
    ...(r.firstError ? { firstError: r.firstError } : {}),
  });
  const { schedule } = await go;
  windowStart = schedule.windowStart;
  windowEnd = schedule.windowEnd;
  // what was counted so far, as often as the bench asks; until it releases us (bounded)
  const onReport = (m: ParentToChild) => {
    if (m.type === 'report') void sendToParent({ type: 'done', result: result(opened.length) });
  };
  process.on('message', onReport);
  await fromParent('release', schedule.stopAt - Date.now() + 10 * 60_000).catch(() => undefined);
  process.off('message', onReport);
  measuring = false;
  for (const o of opened) o.socket.disconnect();
  process.exit(0);
}

function result(consoles: number): ConsolesResult {
  return {
    consoles,
    framesByVehicle,
    framesOutside: r.framesOutside,
    frameLatency: histogramToPairs(frameLatency),
    fleetMessages: r.fleetMessages,
    fleetEntries: r.fleetEntries,
    fleetBytes: r.fleetBytes,
    fleetAge: histogramToPairs(fleetAge),
    disconnects: r.disconnects,
    sessionsEnded: r.sessionsEnded,
    ...(r.firstError ? { firstError: r.firstError } : {}),
  };
}

main().catch(async (err: unknown) => {
  await sendToParent({ type: 'fatal', message: err instanceof Error ? err.message : String(err) });
  process.exit(1);
});
