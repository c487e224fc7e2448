import { z } from 'zod';
import { ERROR_CODES } from './errors.ts';
import { ALARM_SEVERITIES } from '../diagnostics/rules/schema.ts';
import { NOTE_VISIBILITIES } from '../diagnostics/visibility.ts';
import {
  SERVICE_MODES,
  TICKET_LEVELS,
  TICKET_STATUSES,
  TRANSITIONS,
  type TicketAction,
} from '../diagnostics/tickets/status.ts';
import { NUMERIC_FIELD_PATHS, POWER_SOURCES, type NumericFieldPath } from '../protocol/index.ts';
import { ROLES } from './auth/roles.ts';
import { COMMAND_STATES } from '../commands/types.ts';
import { PARTICIPANT_ROLES, SESSION_OUTCOMES, SESSION_STATUSES, TIMELINE_KINDS } from '../remote/types.ts';

/**
 * The zod schemas of the console's API. Each one validates requests, types the handlers and
 * describes the route in the OpenAPI document (`/docs/json`).
 */

// ---------- building blocks for requests

/** A time in a query: epoch milliseconds or an ISO 8601 date-time. */
export const instant = z
  .string()
  .trim()
  .transform((s, ctx) => {
    const n = /^\d{1,15}$/.test(s) ? Number(s) : Date.parse(s);
    if (!Number.isFinite(n)) {
      ctx.addIssue({ code: 'custom', message: 'must be epoch milliseconds or an ISO 8601 date-time' });
      return z.NEVER;
    }
    return n;
  })
  .meta({ description: 'epoch milliseconds or ISO 8601 date-time', example: '2026-05-01T08:00:00Z' });

/** A comma-separated list in a query, each item from `values`. */
export function csvOf<const T extends readonly [string, ...string[]]>(values: T, what: string) {
  return z
    .string()
    .transform((s) =>
      s
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean),
    )
    .pipe(
      z
        .array(z.enum(values, { error: `each ${what} must be one of ${values.join(', ')}` }))
        .min(1, { error: `name at least one ${what}` }),
    )
    .meta({ description: `comma-separated: ${values.join(', ')}` });
}

export const queryBool = z.enum(['true', 'false'], { error: 'must be true or false' }).transform((v) => v === 'true');

export const intQuery = (name: string, min: number, max: number) =>
  z.coerce
    .number({ error: `${name} must be a number` })
    .int({ error: `${name} must be a whole number` })
    .min(min, { error: `${name} must be at least ${min}` })
    .max(max, { error: `${name} must be at most ${max}` });

export const vehicleIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, { error: 'must be 1–64 characters of A-Z a-z 0-9 _ -' });
export const customerIdSchema = vehicleIdSchema;
export const accountIdSchema = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[a-z0-9][a-z0-9._-]{1,63}$/, {
    error: 'must be 2–64 characters of a-z 0-9 . _ -, starting with a letter or digit',
  });
export const numericIdSchema = z.coerce
  .number({ error: 'must be a number' })
  .int({ error: 'must be a whole number' })
  .min(1, { error: 'must be a positive number' })
  .max(Number.MAX_SAFE_INTEGER);
export const text = (name: string, max: number) =>
  z
    .string({ error: `${name} must be text` })
    .trim()
    .min(1, { error: `${name} must not be empty` })
    .max(max, { error: `${name} has at most ${max} characters` });
export const passwordSchema = z
  .string({ error: 'must be text' })
  .min(1, { error: 'must not be empty' })
  .max(256, { error: 'has at most 256 characters' });

export const vehicleParams = z.object({ id: vehicleIdSchema });
export const numericParams = z.object({ id: numericIdSchema });
export const accountParams = z.object({ id: accountIdSchema });
export const customerParams = z.object({ id: customerIdSchema });

export const roleSchema = z.enum(ROLES, { error: `must be one of ${ROLES.join(', ')}` });
export const levelSchema = z.enum(TICKET_LEVELS, { error: `must be one of ${TICKET_LEVELS.join(', ')}` });
export const provinceSchema = z
  .enum(['in', 'out'], { error: 'must be in (省内) or out (省外)' })
  .meta({ description: 'in: 省内 (in province); out: 省外 (out of province)' });
export const serviceModeSchema = z.enum(SERVICE_MODES, { error: `must be one of ${SERVICE_MODES.join(', ')}` });
export const TICKET_ACTIONS = Object.keys(TRANSITIONS) as [TicketAction, ...TicketAction[]];
export const ticketActionSchema = z.enum(TICKET_ACTIONS, { error: `must be one of ${TICKET_ACTIONS.join(', ')}` });
/** Keyset paging: the opaque position after the previous page. */
export const cursorQuery = z
  .string()
  .meta({ description: 'the nextCursor of the previous page (opaque); omit for the first page' });
export const nextCursorOut = z
  .string()
  .nullable()
  .meta({ description: 'pass as cursor (with the same filters) for the next page; null on the last page' });
export const fieldsQuery = csvOf(NUMERIC_FIELD_PATHS as unknown as [string, ...string[]], 'field');

export const contactInput = z.strictObject({
  name: text('name', 100),
  phone: z
    .string({ error: 'phone must be text' })
    .trim()
    .regex(/^[0-9+()\- ]{3,40}$/, { error: 'phone must be 3–40 digits, spaces, + - ( )' }),
  role: text('role', 100).optional(),
});

// ---------- responses

export const errorBody = z
  .object({
    error: z.object({
      code: z.enum(ERROR_CODES),
      message: z.string(),
      fields: z
        .array(z.object({ path: z.string(), message: z.string() }))
        .optional()
        .meta({ description: 'VALIDATION_FAILED: each field that is wrong (`body.contacts.0.phone`) and why' }),
    }),
  })
  .meta({ id: 'Error', description: 'Every error: a stable code to branch on and a message for people.' });

export const localized = z.object({ en: z.string(), zh: z.string() });

export const accountOut = z
  .object({
    id: z.string(),
    name: z.string(),
    displayName: z
      .string()
      .nullable()
      .meta({ description: 'what customers see for a staff member; null: a role label, never the login id' }),
    role: z.enum(ROLES),
    customerId: z.string().nullable(),
    mustChangePassword: z.boolean(),
    disabled: z.boolean(),
    createdAt: z.number(),
    updatedAt: z.number(),
    lastLoginAt: z.number().nullable(),
    twoFactor: z.boolean().meta({ description: 'a TOTP second factor is enrolled' }),
  })
  .meta({ id: 'Account' });

export const sessionOut = z
  .object({
    account: accountOut,
    csrfToken: z
      .string()
      .meta({ description: `send it in the x-csrf-token header of every POST, PATCH, PUT and DELETE` }),
    expiresAt: z.number(),
    idleExpiresAt: z.number(),
    authenticatedAt: z
      .number()
      .meta({ description: 'when this session last proved its password or TOTP code (admin actions need it recent)' }),
    twoFactorRequired: z
      .boolean()
      .meta({ description: 'the deployment requires a second factor for this role and none is enrolled yet' }),
  })
  .meta({ id: 'Session' });

export const customerOut = z
  .object({ id: z.string(), name: z.string(), createdAt: z.number(), vehicleCount: z.number() })
  .meta({ id: 'Customer' });

const profileOut = z.object({
  hasGenerator: z.boolean(),
  battery: z.object({ nominalV: z.number(), capacityAh: z.number() }),
  mains: z.object({ nominalV: z.number(), frequencyHz: z.number() }),
});

export const frameOut = z
  .looseObject({ v: z.number(), seq: z.number(), ts: z.number(), source: z.enum(POWER_SOURCES) })
  .meta({ id: 'TelemetryFrame', description: 'A frame as the vehicle sent it; see docs/protocol.md.' });

export const alarmOut = z
  .object({
    id: z.number(),
    vehicleId: z.string(),
    ruleId: z.string(),
    code: z.string(),
    severity: z.enum(ALARM_SEVERITIES),
    title: localized,
    state: z.enum(['active', 'acknowledged', 'cleared']),
    raisedAt: z.number(),
    clearedAt: z.number().nullable(),
    acknowledgedAt: z.number().nullable(),
    acknowledgedBy: z.string().nullable(),
    raiseCount: z.number(),
    live: z.boolean(),
    incidentId: z.number().nullable(),
    causedByAlarmId: z.number().nullable(),
  })
  .meta({ id: 'Alarm' });

/** Who may read a note (diagnostics/visibility.ts): staff only, or the customer unit too. */
export const visibilityOut = z.enum(NOTE_VISIBILITIES).meta({
  description:
    'internal: staff only; customer: staff and the customer unit. A customer is sent only what it may read, so always customer.',
});

/** Who may read a note staff write: internal (staff only, the default) or customer (the unit too). */
export const visibilityIn = z
  .enum(NOTE_VISIBILITIES, { error: `must be one of ${NOTE_VISIBILITIES.join(', ')}` })
  .meta({
    description:
      'internal (default for staff): staff only, never sent to the customer unit; customer: the unit reads it too. A customer’s own comments are always customer.',
  });

export const alarmNoteOut = z.object({
  at: z.number(),
  actor: z.string(),
  kind: z.enum(['raised', 'reraised', 'acknowledged', 'cleared', 'comment']),
  text: z.string().nullable(),
  visibility: visibilityOut,
});

export const fieldLimitOut = z
  .object({
    field: z.enum(NUMERIC_FIELD_PATHS as [NumericFieldPath, ...NumericFieldPath[]]),
    low: z.number().nullable().meta({ description: 'the alarm is raised below this value' }),
    high: z.number().nullable().meta({ description: 'the alarm is raised above this value' }),
    ruleId: z.string(),
    code: z.string(),
    severity: z.enum(ALARM_SEVERITIES),
    title: localized,
    onlyWhile: z
      .array(
        z.object({
          field: z.string(),
          op: z.enum(['<', '<=', '>', '>=', '==', '!=']),
          value: z.union([z.number(), z.boolean(), z.string()]),
        }),
      )
      .meta({ description: 'the limit counts only while these hold (e.g. generator.running == true)' }),
  })
  .meta({ id: 'FieldLimit', description: 'Where one rule raises its alarm on one telemetry field, for this vehicle' });

export const vehicleLimitsOut = z.object({
  vehicleId: z.string(),
  profile: profileOut,
  limits: z.array(fieldLimitOut),
});

export const vehicleStateOut = z
  .object({
    id: z.string(),
    name: z.string(),
    model: z.string(),
    customerId: z.string(),
    profile: profileOut,
    createdAt: z.number(),
    online: z.boolean(),
    presenceChangedAt: z.number().nullable(),
    disconnectReason: z.string().nullable(),
    latest: z
      .object({
        receivedAt: z.number(),
        ts: z.number(),
        source: z.enum(POWER_SOURCES),
        batterySocPct: z.number().nullable(),
        timeToEmptyMin: z.number().nullable(),
        frame: frameOut.optional().meta({
          description: 'the whole latest frame: always for one vehicle, in the fleet list only with ?frames=true',
        }),
      })
      .nullable(),
    openTickets: z.number().meta({ description: 'open tickets of the vehicle (its current unit’s)' }),
    openTicket: z
      .object({
        id: z.number(),
        number: z.string(),
        level: z.string(),
        status: z.string(),
        nextDueAt: z.number().nullable(),
      })
      .nullable()
      .meta({ description: 'the most pressing open ticket (next deadline first), or null' }),
    activeAlarms: z.number(),
    worstAlarm: z
      .object({ id: z.number(), code: z.string(), severity: z.enum(ALARM_SEVERITIES), title: localized })
      .nullable(),
  })
  .meta({
    id: 'VehicleState',
    description: 'A vehicle with its current state: presence, latest frame, worst active alarm.',
  });

const fieldSeries = z.object({
  min: z.array(z.number().nullable()),
  max: z.array(z.number().nullable()),
  avg: z.array(z.number().nullable()),
});
export const seriesOut = z
  .object({
    vehicleId: z.string(),
    from: z.number(),
    to: z.number(),
    bucketMs: z.number().meta({ description: '0: every frame as is; else the bucket width (ts is the bucket start)' }),
    ts: z.array(z.number()),
    count: z.array(z.number()),
    fields: z.record(z.string(), fieldSeries),
  })
  .meta({ id: 'Series', description: 'Column-oriented telemetry, ready for uPlot.' });

/** What was found and done (diagnostics/tickets/resolution.ts). */
export const resolutionOut = z.object({
  rootCause: z.string(),
  workDone: z.string(),
  partsUsed: z.array(z.string()).meta({ description: 'free lines for now (a later issue reserves real parts)' }),
});
export const resolutionIn = z.strictObject({
  rootCause: text('rootCause', 2000),
  workDone: text('workDone', 4000),
  partsUsed: z.array(text('partsUsed', 200)).max(50).default([]),
});

export const ticketOut = z
  .object({
    id: z.number(),
    number: z.string(),
    source: z.enum(['rule', 'hotline', 'customer']),
    vehicleId: z.string().nullable(),
    customerId: z.string().nullable(),
    level: z.enum(TICKET_LEVELS),
    status: z.enum(TICKET_STATUSES),
    title: z.string(),
    need: z.string(),
    contacts: z.array(z.object({ name: z.string(), phone: z.string().optional(), role: z.string().optional() })),
    faultCode: z.string().nullable(),
    incidentId: z.number().nullable(),
    serviceMode: z.enum(SERVICE_MODES).nullable(),
    assignee: z.string().nullable(),
    escalatedTo: z.string().nullable(),
    receivedAt: z.number(),
    workContentDueAt: z.number(),
    workContentDoneAt: z.number().nullable(),
    planDueAt: z.number().nullable(),
    planDoneAt: z.number().nullable(),
    breaches: z.array(z.enum(['work_content', 'plan'])),
    planRef: z.object({ code: z.string(), version: z.number() }).nullable(),
    eta: z
      .number()
      .nullable()
      .meta({ description: 'when help is expected (epoch ms), as staff last said; null: not given' }),
    etaNote: z.string().nullable(),
    updatedAt: z.number(),
    proposedLevel: z
      .enum(TICKET_LEVELS)
      .nullable()
      .meta({ description: 'what the customer or the rule proposed; the duty desk (市场部) classifies' }),
    levelConfirmedAt: z.number().nullable().meta({ description: 'when the duty desk classified it; null: not yet' }),
    levelConfirmedBy: z.string().nullable(),
    place: z.string().nullable().meta({ description: 'where help is needed, as the duty desk confirmed it' }),
    province: z.enum(['in', 'out']).nullable().meta({ description: '省内 in / 省外 out; null: not recorded' }),
    deadlinesApply: z
      .boolean()
      .meta({ description: 'false: the 30-minute rule does not apply (configured for in-province tasks only)' }),
    serviceOrderId: z
      .number()
      .nullable()
      .meta({ description: 'a former 常规 (routine) ticket: the service order it became' }),
    nextDueAt: z
      .number()
      .nullable()
      .meta({ description: 'the earliest deadline still to meet (open tickets), else null' }),
    mergedInto: z
      .number()
      .nullable()
      .meta({ description: 'the id of the ticket this one was merged into (status merged), else null' }),
    repairedBy: z.string().nullable().meta({ description: 'who marked it repaired (the verifier is someone else)' }),
    resolution: resolutionOut.nullable().meta({ description: 'given when marked repaired' }),
    escalatedAccounts: z
      .array(z.string())
      .meta({ description: 'every account the last missed deadline escalated to (escalatedTo is the first)' }),
  })
  .meta({ id: 'Ticket' });

/** A ticket's alarm (its incident's, or of a ticket merged into it). */
export const ticketAlarmOut = z.object({
  id: z.number(),
  ruleId: z.string(),
  code: z.string(),
  severity: z.string(),
  state: z.enum(['active', 'acknowledged', 'cleared']),
  raisedAt: z.number(),
  clearedAt: z.number().nullable(),
  ticketId: z.number(),
});

export const timelineOut = z.object({
  at: z.number(),
  actor: z.string(),
  actorName: z.string().nullable().meta({
    description:
      'for staff: the actor account’s display name, else its name (the login id stays in `actor`); null for a customer (whose `actor` is a public name already), `system` and ids that are no account',
  }),
  action: z.string(),
  fromStatus: z.string().nullable(),
  toStatus: z.string().nullable(),
  note: z.string().nullable(),
  visibility: visibilityOut,
});

/** A guided step of a plan (remote sessions): docs/remote-sessions.md "Guided steps". */
export const planStepOut = z
  .object({
    id: z.string(),
    actor: z.enum(['crew', 'engineer']),
    instruction: localized,
    expect: z
      .object({
        condition: z.union([z.string(), z.record(z.string(), z.unknown())]),
        withinS: z.number(),
        text: z.string(),
      })
      .optional(),
    command: z.object({ name: z.string(), args: z.record(z.string(), z.unknown()) }).optional(),
    safety: localized.optional(),
  })
  .meta({ id: 'PlanStep' });

export const planOut = z
  .object({
    code: z.string(),
    version: z.number(),
    reviewedAt: z.string(),
    reviewEveryDays: z.number(),
    reviewDueAt: z.number(),
    overdue: z.boolean(),
    faultType: z.string(),
    title: localized,
    likelyCauses: z.array(localized),
    remoteChecks: z.array(localized),
    parts: z.array(z.object({ partNo: z.string(), name: localized, qty: z.number() })),
    recommendedMode: z.enum(SERVICE_MODES),
    safety: localized.optional(),
    steps: z.array(planStepOut),
  })
  .meta({ id: 'EmergencyPlan' });

export const staffMemberOut = z.object({ id: z.string(), name: z.string(), role: roleSchema });

export const fleetCountsOut = z.object({
  total: z.number(),
  online: z.number(),
  offline: z.number(),
  bySource: z.record(z.string(), z.number()),
  withAlarms: z.number(),
});

export const auditOut = z
  .object({
    id: z.number(),
    at: z.number(),
    actor: z.string(),
    action: z.string(),
    subject: z.string().nullable(),
    ip: z.string().nullable(),
    source: z
      .string()
      .nullable()
      .meta({ description: 'console, api_token, cli, mqtt or system; null on rows from before the chain' }),
    details: z.unknown(),
    prevHash: z.string().nullable().meta({ description: 'the hash of the row before (64 zeros for the first)' }),
    hash: z.string().nullable().meta({ description: 'SHA-256 over prevHash and this row’s content' }),
  })
  .meta({ id: 'AuditEntry' });

type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 413 | 415 | 428 | 429 | 503;
/** Error answers a route can give, for its response map: `{ 200: x, ...errors(400, 401) }`. */
export function errors<K extends ErrorStatus>(...statuses: K[]): Record<K, typeof errorBody> {
  return Object.fromEntries(statuses.map((s) => [s, errorBody])) as Record<K, typeof errorBody>;
}
/** The errors every signed-in route can answer. */
export const AUTHED = [401, 403] as const;

// ---------- operator commands (commands/)

export const commandOut = z
  .object({
    id: z.string(),
    vehicleId: z.string(),
    name: z.string(),
    args: z.record(z.string(), z.unknown()),
    actor: z.string(),
    sessionId: z.number().nullable(),
    sentAt: z.number(),
    state: z.enum(COMMAND_STATES).meta({
      description:
        'sent: waiting for the gateway; done: executed (result); refused: the gateway said no (error: its reason); no_answer: no ack within COMMAND_ACK_TIMEOUT_MS — never done',
    }),
    settledAt: z.number().nullable(),
    result: z.unknown().meta({ description: 'the gateway’s result when done' }),
    error: z.string().nullable(),
    lateAck: z
      .object({ at: z.number(), ok: z.boolean(), result: z.unknown(), error: z.string().nullable() })
      .nullish()
      .meta({ description: 'an answer that came after no_answer: recorded, the state stays no_answer' }),
  })
  .meta({ id: 'Command', description: 'An operator command to a vehicle and its outcome.' });
// ---------- remote sessions (远程支援) and the duty roster

export const participantOut = z.object({
  id: z.string().meta({ description: 'account id (customers see staff by their public name), or guest:<invite>' }),
  role: z.enum(PARTICIPANT_ROLES),
  name: z.string(),
  joinedAt: z.number(),
  leftAt: z.number().nullable(),
});

export const remoteSessionOut = z
  .object({
    id: z.number(),
    ticketId: z.number(),
    vehicleId: z.string(),
    customerId: z.string(),
    status: z.enum(SESSION_STATUSES),
    outcome: z.enum(SESSION_OUTCOMES).nullable(),
    description: z.string(),
    requestedBy: z.string(),
    requestedAt: z.number(),
    answeredAt: z.number().nullable(),
    answeredBy: z.string().nullable(),
    endedAt: z.number().nullable(),
    participants: z.array(participantOut),
  })
  .meta({ id: 'RemoteSession' });

export const sessionEntryOut = z
  .object({
    seq: z.number(),
    at: z.number(),
    actor: z.string(),
    actorName: z.string(),
    kind: z.enum(TIMELINE_KINDS),
    text: z.string().nullable(),
    data: z.unknown(),
  })
  .meta({ id: 'SessionTimelineEntry' });

export const dutyShiftOut = z
  .object({
    id: z.number(),
    weekday: z.number().nullable().meta({ description: '0 = Sunday … 6 = Saturday; null for a dated shift' }),
    date: z.string().nullable().meta({ description: 'YYYY-MM-DD in the service time zone; null for a weekly shift' }),
    start: z.string(),
    end: z.string().meta({ description: 'at or before start: the shift runs past midnight' }),
    primary: z.string(),
    secondary: z.string().nullable(),
    dutyLead: z.string(),
  })
  .meta({ id: 'DutyShift' });
