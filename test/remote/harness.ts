import pino from 'pino';
import { createInProcessBus } from '../../core/bus.ts';
import { createCounters } from '../../core/counters.ts';
import type { PlatformEvents } from '../../core/events.ts';
import { loadConfig } from '../../platform/config.ts';
import { createDiagnosticsStage } from '../../platform/diagnostics.ts';
import { type RecordsDb } from '../../records/db.ts';
import { openTestRecords } from '../helpers/records.ts';
import { createCustomers } from '../../registry/customers.ts';
import { createVehicleRegistry } from '../../registry/vehicles.ts';
import { createRemoteSessions, type RemoteSessionsOptions } from '../../remote/sessions.ts';
import type { SessionPrincipal } from '../../remote/types.ts';
import { createMemoryTelemetryStore } from '../../telemetry/memory-store.ts';
import { createAccounts } from '../../web/auth/accounts.ts';
import { sessionPeople } from '../../web/public-names.ts';
import { PLANS, RULES, TEST_COST } from '../web/helpers.ts';

export const RING_MS = 180_000;
export const ABANDON_MS = 600_000;

/**
 * The session records over a real SQLite file or memory database, the real ticket service and
 * accounts, on the clock `now` (Date.now, which the tests fake): units CA (vehicle VA1, crew
 * cust-a) and CB (VB1, cust-b), engineers eng-1, eng-2, eng-3, lead-1 and the dispatcher.
 */
export async function startSessions(
  opts: { db?: RecordsDb; file?: string; options?: Partial<RemoteSessionsOptions>; seed?: boolean } = {},
) {
  const db = opts.db ?? (await openTestRecords({ file: opts.file ?? ':memory:' }));
  const log = pino({ level: 'silent' });
  const bus = createInProcessBus<PlatformEvents>(log);
  const now = () => Date.now();
  const telemetry = createMemoryTelemetryStore();
  const vehicles = createVehicleRegistry({ db, now });
  const customers = createCustomers({ db, now });
  const accounts = createAccounts({ db, now }, { passwordCost: TEST_COST });
  const stage = createDiagnosticsStage(
    { bus, records: db, log, counters: createCounters(), now, vehicles, telemetry, rules: RULES, plans: PLANS },
    loadConfig({}),
  );
  const events: { [K in keyof PlatformEvents]?: PlatformEvents[K][] } = {};
  for (const e of ['remote.ringing', 'remote.timeline', 'remote.session.changed'] as const)
    bus.on(e, (p) => void (events[e] ??= [] as never[]).push(p as never));
  const sessions = createRemoteSessions(
    {
      db,
      bus,
      log,
      now,
      tickets: stage.tickets,
      vehicles,
      people: sessionPeople(accounts),
      frames: (v, from, to, limit) => telemetry.frames(v, from, to, limit),
    },
    { ringMs: RING_MS, abandonMs: ABANDON_MS, timeZone: 'Asia/Shanghai', dutyLead: 'lead-1', ...opts.options },
  );
  if (opts.seed !== false) {
    await customers.add({ id: 'CA', name: 'Unit A' });
    await customers.add({ id: 'CB', name: 'Unit B' });
    await vehicles.add({ id: 'VA1', customerId: 'CA', name: 'Shelter A1', model: 'XJ-24' });
    await vehicles.add({ id: 'VB1', customerId: 'CB', name: 'Shelter B1', model: 'XJ-24' });
    const password = 'correct horse battery staple';
    for (const id of ['eng-1', 'eng-2', 'eng-3'])
      await accounts.add({ id, name: id, displayName: `Engineer ${id.slice(-1)}`, role: 'engineer', password });
    await accounts.add({ id: 'lead-1', name: 'lead', displayName: 'Duty Lead Wang', role: 'dispatcher', password });
    await accounts.add({ id: 'dispatcher', name: 'dispatcher', role: 'dispatcher', password });
    await accounts.add({ id: 'cust-a', name: 'crew a', role: 'customer', customerId: 'CA', password });
    await accounts.add({ id: 'cust-b', name: 'crew b', role: 'customer', customerId: 'CB', password });
  }
  const principal = (id: string): SessionPrincipal => {
    if (id.startsWith('cust-')) return { id, role: 'customer', customerId: id === 'cust-a' ? 'CA' : 'CB' };
    return { id, role: id === 'lead-1' || id === 'dispatcher' ? 'dispatcher' : 'engineer', customerId: null };
  };
  return {
    db,
    bus,
    telemetry,
    tickets: stage.tickets,
    sessions,
    events,
    principal,
    async close() {
      await sessions.stop();
      if (!opts.db) await db.destroy();
    },
  };
}
