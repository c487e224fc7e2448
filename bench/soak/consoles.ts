/**
 * Live web consoles for the soak, run as its own process by bench/soak/run.ts (never on its own):
 * each login goes through POST /api/auth/login and opens a real socket.io-client connection
 * (WebSocket, the session cookie at the handshake, as a browser sends it). Being staff, each one
 * receives the fleet view of every vehicle (`fleet`, batched every second), every alarm and every
 * ticket; each also subscribes to a few vehicles' frames. Every `ticket` "opened" message is passed
 * to the orchestrator with its arrival time (the ticket exists and an operator can see it). A
 * connection that drops is opened again (log in again), at most 20 times in all.
 *
 *   --base URL --logins FILE --watch FILE (vehicle ids to subscribe to, spread over the consoles)
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { exitWithParent } from '../shared/child.ts';
import { login, openLive, type ConsoleSocket as Client } from '../shared/console-client.ts';
import { sendToParent, type ConsoleFigures, type ParentToConsoles } from './ipc.ts';
import type { ConsoleLogin } from './provision.ts';

const { values: a } = parseArgs({
  options: { base: { type: 'string' }, logins: { type: 'string' }, watch: { type: 'string' } },
});
exitWithParent();

const base = a.base!;
const logins = JSON.parse(readFileSync(a.logins!, 'utf8')) as ConsoleLogin[];
const watch = a.watch ? (JSON.parse(readFileSync(a.watch, 'utf8')) as string[]) : [];
const MAX_RELOGINS = 20;

const f: ConsoleFigures = {
  consoles: logins.length,
  connected: 0,
  fleetMessages: 0,
  fleetEntries: 0,
  frames: 0,
  alarms: 0,
  tickets: 0,
  disconnects: 0,
  relogins: 0,
};
const sockets = new Set<Client>();
const seenTickets = new Set<number>();
let stopping = false;

async function open(c: number): Promise<void> {
  const cookie = await login(base, logins[c]!);
  const { socket } = await openLive(base, cookie, `console ${c}`);
  sockets.add(socket);
  f.connected++;
  socket.on('fleet', (m) => {
    f.fleetMessages++;
    f.fleetEntries += m.vehicles.length + (m.seen?.length ?? 0);
  });
  socket.on('frame', () => f.frames++);
  socket.on('alarm', () => f.alarms++);
  socket.on('ticket', (m) => {
    if (m.kind !== 'opened') return;
    const arrivedAt = Date.now();
    f.tickets++;
    if (seenTickets.has(m.ticket.id)) return; // every console gets it: the first arrival counts
    seenTickets.add(m.ticket.id);
    void sendToParent({
      type: 'ticket',
      ticket: {
        ticketId: m.ticket.id,
        vehicleId: m.ticket.vehicleId,
        faultCode: m.ticket.faultCode,
        receivedAt: m.ticket.receivedAt,
        arrivedAt,
      },
    });
  });
  socket.on('disconnect', (reason) => {
    sockets.delete(socket);
    f.connected--;
    if (stopping) return;
    f.disconnects++;
    f.firstError ??= `console ${c} disconnected: ${reason}`;
    if (f.relogins >= MAX_RELOGINS) return;
    f.relogins++;
    setTimeout(() => void open(c).catch((err: unknown) => (f.firstError ??= (err as Error).message)), 1000);
  });
  // this console's share of the watched vehicles
  const mine = watch.filter((_, i) => i % logins.length === c);
  for (const vehicleId of mine) {
    const res = await socket.timeout(30_000).emitWithAck('subscribe', { vehicleId });
    if (!res.ok) f.firstError ??= `subscribe ${vehicleId}: ${res.error.code} ${res.error.message}`;
  }
}

process.on('message', (m: ParentToConsoles) => {
  if (m.type === 'stats') void sendToParent({ type: 'stats', id: m.id, figures: { ...f } });
  else if (m.type === 'stop') {
    stopping = true;
    const figures = { ...f };
    for (const s of sockets) s.disconnect();
    void sendToParent({ type: 'stopped', id: m.id, figures }).then(() => process.exit(0));
  }
});

async function main() {
  const started = Date.now();
  // each login is a scrypt at the production cost on the platform: one at a time
  for (let c = 0; c < logins.length; c++) await open(c);
  await sendToParent({ type: 'ready', consoles: f.connected, ms: Date.now() - started });
}

main().catch(async (err: unknown) => {
  await sendToParent({ type: 'fatal', message: err instanceof Error ? err.message : String(err) });
  process.exit(1);
});
