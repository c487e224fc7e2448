import type { EventBus } from '../core/bus.ts';
import type { PlatformEvents } from '../core/events.ts';
import type { Logger } from '../core/logger.ts';
import type { TicketService } from '../diagnostics/tickets/service.ts';
import type { RecordsDb } from '../records/db.ts';
import type { VehicleRegistry } from '../registry/vehicles.ts';
import type { CommandSender } from '../commands/types.ts';
import { isPlatformError, PlatformError } from '../core/errors.ts';
import type { Producer } from '../notifications/producer.ts';
import { createRemoteSessions, type RemoteSessions, type SessionNotifications } from '../remote/sessions.ts';
import { createStepRunner, type SessionPlan } from '../remote/steps.ts';
import { createSessionInvites, INVITE_MAX_TTL_MS } from '../remote/invites.ts';
import { createSessionPhotos } from '../remote/photos.ts';
import { createSessionTelemetryRate } from '../remote/telemetry-rate.ts';
import type { ParticipantRole } from '../remote/types.ts';
import type { TelemetryStore } from '../telemetry/store.ts';
import { createAccounts } from '../web/auth/accounts.ts';
import { sessionPeople } from '../web/public-names.ts';
import type { PlatformConfig } from './config.ts';

export type RemoteConfig = Pick<
  PlatformConfig,
  'SESSION_RING_MS' | 'SESSION_ABANDON_MS' | 'SERVICE_TIME_ZONE' | 'DUTY_LEAD'
>;

/**
 * The remote session records (remote/sessions.ts) wired from the configuration and the platform's
 * parts: the ticket service, the registry, the console accounts (who is staff, how people are
 * named) and the telemetry store's raw frames. The one way they are built, by the platform and the tests.
 */
export function createRemoteStage(
  deps: {
    bus: EventBus<PlatformEvents>;
    records: RecordsDb;
    log: Logger;
    now?: () => number;
    tickets: TicketService;
    vehicles: Pick<VehicleRegistry, 'get'>;
    telemetry: Pick<TelemetryStore, 'frames'>;
    /** The notifications' producer: a request tells the unit, a ring tells the engineers rung (in the session's transaction). */
    producer?: Pick<Producer, 'sessionRequested' | 'sessionRinging'>;
    /** Cluster mode: rings and abandons fire on the leader only (cluster/leader.ts). */
    gate?: () => boolean;
    gatePollMs?: number;
    /** Cluster mode: the fence of a timed ring's transaction (cluster/leader.ts). */
    fence?: (tx: RecordsDb) => Promise<boolean>;
  },
  config: RemoteConfig,
) {
  const now = deps.now ?? Date.now;
  const { producer } = deps;
  const notify: SessionNotifications | undefined = producer && {
    requested: async (tx, s) =>
      producer.sessionRequested(tx, { sessionId: s.sessionId, ticket: await deps.tickets.getIn(tx, s.ticketId) }),
    ringing: async (tx, s) => producer.sessionRinging(tx, { ...s, ticket: await deps.tickets.getIn(tx, s.ticketId) }),
  };
  const accounts = createAccounts({ db: deps.records, now });
  return createRemoteSessions(
    {
      db: deps.records,
      bus: deps.bus,
      log: deps.log.child({ module: 'remote' }),
      now,
      tickets: {
        get: (id) => deps.tickets.get(id),
        list: (q) => deps.tickets.list(q),
        open: (request, actor) => deps.tickets.open(request, actor),
        transition: (id, action, actor, note) => deps.tickets.transition(id, action, actor, note),
        setServiceMode: (id, mode, actor) => deps.tickets.setServiceMode(id, mode, actor),
        comment: (id, actor, text) => deps.tickets.comment(id, actor, text),
      },
      vehicles: deps.vehicles,
      people: sessionPeople(accounts),
      frames: (vehicleId, from, to, limit) => deps.telemetry.frames(vehicleId, from, to, limit),
      ...(notify ? { notify } : {}),
      ...(deps.gate ? { gate: deps.gate } : {}),
      ...(deps.gatePollMs ? { gatePollMs: deps.gatePollMs } : {}),
      ...(deps.fence ? { fence: deps.fence } : {}),
    },
    {
      ringMs: config.SESSION_RING_MS,
      abandonMs: config.SESSION_ABANDON_MS,
      timeZone: config.SERVICE_TIME_ZONE,
      dutyLead: config.DUTY_LEAD,
    },
  );
}

/**
 * What hangs off the session records: the guided steps (remote/steps.ts, the ticket's emergency plan),
 * the 10 Hz telemetry rate while a session is live (remote/telemetry-rate.ts, through the command
 * service), and the answers other parts ask of the records (who is in a live session on a vehicle —
 * the command policy; a session's timeline since a seq — the live stream's rejoin).
 */
export function createSessionParts(
  deps: {
    sessions: RemoteSessions;
    tickets: Pick<TicketService, 'get' | 'planOf'>;
    bus: EventBus<PlatformEvents>;
    records: RecordsDb;
    log: Logger;
    now?: () => number;
    commands: CommandSender;
    vehicles: Pick<VehicleRegistry, 'get'>;
  },
  config: Pick<PlatformConfig, 'SESSION_RATE_RENEW_MS'> & {
    SESSION_INVITE_TTL_MS?: number;
    /** Where the photos' files go (DATA_DIR/photos; tests: a temporary directory). */
    photoDir: string;
  },
) {
  const { sessions } = deps;
  const photos = createSessionPhotos(
    { db: deps.records, log: deps.log.child({ module: 'session-photos' }), sessions },
    { dir: config.photoDir },
  );
  const invites = createSessionInvites(
    {
      db: deps.records,
      bus: deps.bus,
      log: deps.log.child({ module: 'session-invites' }),
      ...(deps.now ? { now: deps.now } : {}),
      sessions,
    },
    { ttlMs: config.SESSION_INVITE_TTL_MS ?? INVITE_MAX_TTL_MS },
  );
  const liveSessions = async () =>
    (await sessions.list({ open: true, limit: 10_000 })).sessions.filter((s) => s.status === 'live');

  const planOfSession = async (sessionId: number): Promise<SessionPlan | null> => {
    const s = await sessions.get(sessionId).catch((err: unknown) => {
      if (isPlatformError(err, 'SESSION_NOT_FOUND')) return null;
      throw err;
    });
    if (!s) return null;
    const plan = deps.tickets.planOf(await deps.tickets.get(s.ticketId));
    return { vehicleId: s.vehicleId, planCode: plan?.code ?? null, steps: plan?.steps ?? [] };
  };

  const steps = createStepRunner({
    db: deps.records,
    bus: deps.bus,
    log: deps.log,
    ...(deps.now ? { now: deps.now } : {}),
    planOfSession,
    profileOf: async (vehicleId) => {
      const v = await deps.vehicles.get(vehicleId);
      if (!v) throw new PlatformError('VEHICLE_NOT_FOUND', `no vehicle ${vehicleId}`);
      return v.profile;
    },
  });
  const rate = createSessionTelemetryRate(
    { bus: deps.bus, commands: deps.commands, log: deps.log, liveSessions },
    { renewMs: config.SESSION_RATE_RENEW_MS },
  );

  return {
    steps,
    rate,
    photos,
    invites,
    planOfSession,
    liveSessions,
    /** The part an account plays in a live session on the vehicle (lead beats observer), if any. */
    async liveSessionRole(accountId: string, vehicleId: string): Promise<ParticipantRole | null> {
      const live = (await sessions.list({ vehicleId, open: true, limit: 1000 })).sessions.filter(
        (s) => s.status === 'live',
      );
      const roles = live.flatMap((s) =>
        s.participants.filter((p) => p.id === accountId && p.leftAt === null).map((p) => p.role),
      );
      return roles.includes('lead') ? 'lead' : (roles[0] ?? null);
    },
    /** For the live stream: who may join (the records' access check, presence) and the timeline since a seq. */
    live: {
      access: sessions,
      timeline: { since: (sessionId: number, afterSeq: number) => sessions.timeline(sessionId, afterSeq) },
    },
    async start(): Promise<void> {
      invites.start();
      await steps.start(liveSessions);
      await rate.start();
    },
    async stop(): Promise<void> {
      invites.stop();
      rate.stop();
      await steps.stop();
    },
  };
}

export type SessionParts = ReturnType<typeof createSessionParts>;
