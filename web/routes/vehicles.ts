import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { PlatformError } from '../../core/errors.ts';
import { NUMERIC_FIELD_PATHS, powerProfileSchema, type NumericFieldPath } from '../../protocol/index.ts';
import { FIELD_ROLES } from '../auth/accounts.ts';
import { who, auditFrom } from '../auth/guard.ts';
import type { WebContext } from '../context.ts';
import {
  AUTHED,
  customerIdSchema,
  errors,
  fieldsQuery,
  fleetCountsOut,
  instant,
  intQuery,
  queryBool,
  seriesOut,
  text,
  vehicleIdSchema,
  vehicleLimitsOut,
  vehicleParams,
  vehicleStateOut,
} from '../schemas.ts';
import { emptySeries } from '../../telemetry/store.ts';
import { createFleetBytes, fleetSerializerCompiler } from '../fleet-json.ts';
import { seriesSerializerCompiler } from '../series-json.ts';
import { vehicleStates } from '../vehicle-state.ts';

/** Longest history one query may span. */
export const MAX_HISTORY_RANGE_MS = 92 * 86_400_000;
export const MAX_POINTS = 5000;

/** The power profile as the protocol defines it (protocol/power-profile.ts), each part optional, unknown fields refused. */
const { battery, mains } = powerProfileSchema.shape;
const profileInput = z
  .strictObject({
    hasGenerator: z.boolean().optional(),
    battery: z.strictObject(battery.unwrap().shape).optional(),
    mains: z.strictObject(mains.unwrap().shape).optional(),
  })
  .optional();

/** Vehicles with their current state, telemetry history, and provisioning (admin). */
export function vehicleRoutes(ctx: WebContext): FastifyPluginAsyncZod {
  const { deps, tenancy, audit } = ctx;
  const fleetBytes = createFleetBytes();
  return async (app) => {
    app.get(
      '/api/vehicles',
      {
        config: { access: { roles: FIELD_ROLES, token: 'vehicles:read' } },
        schema: {
          tags: ['vehicles'],
          summary:
            'Vehicles with online state, active source, SOC, time to empty and worst active alarm; counts by state',
          description: 'A customer account sees only its own unit’s vehicles.',
          querystring: z.strictObject({
            customerId: customerIdSchema.optional(),
            online: queryBool.optional(),
            q: z.string().trim().max(100).optional().meta({ description: 'search in id, name and model' }),
            frames: queryBool
              .optional()
              .meta({ description: 'include each vehicle’s whole latest frame (large for a big fleet)' }),
          }),
          response: {
            200: z.object({
              vehicles: z.array(vehicleStateOut),
              counts: fleetCountsOut,
            }),
            ...errors(400, ...AUTHED),
          },
        },
        // the 200 answer written without zod's walk, as zod would (web/fleet-json.ts): the handler
        // sends it as bytes (createFleetBytes); the serializer writes the empty list of another unit
        serializerCompiler: fleetSerializerCompiler,
      },
      async (req, reply) => {
        const me = who(req);
        const scope = tenancy.scope(me);
        const customerId = scope ?? req.query.customerId;
        if (scope && req.query.customerId && req.query.customerId !== scope)
          return { vehicles: [], counts: { total: 0, online: 0, offline: 0, bySource: {}, withAlarms: 0 } };
        const list = await deps.vehicles.list(customerId ? { customerId } : undefined);
        let states = await vehicleStates(deps, list, {
          wholeFleet: !customerId,
          withFrame: req.query.frames === true,
          sinceAssigned: me.role === 'customer',
        });
        const q = req.query.q?.toLowerCase();
        if (q)
          states = states.filter(
            (v) =>
              v.id.toLowerCase().includes(q) || v.name.toLowerCase().includes(q) || v.model.toLowerCase().includes(q),
          );
        if (req.query.online !== undefined) states = states.filter((v) => v.online === req.query.online);
        const bySource: Record<string, number> = {};
        for (const v of states) {
          const s = v.online ? (v.latest?.source ?? 'unknown') : 'offline';
          bySource[s] = (bySource[s] ?? 0) + 1;
        }
        const online = states.filter((v) => v.online).length;
        // as bytes, each vehicle's registry part kept from the last answer (web/fleet-json.ts)
        const bytes = fleetBytes({
          vehicles: states,
          counts: {
            total: states.length,
            online,
            offline: states.length - online,
            bySource,
            withAlarms: states.filter((v) => v.activeAlarms > 0).length,
          },
        });
        return reply.type('application/json; charset=utf-8').send(bytes as never);
      },
    );

    app.get(
      '/api/vehicles/:id',
      {
        config: { access: { roles: FIELD_ROLES, token: 'vehicles:read' } },
        schema: {
          tags: ['vehicles'],
          summary: 'One vehicle with its current state',
          params: vehicleParams,
          response: { 200: vehicleStateOut, ...errors(400, ...AUTHED, 404) },
        },
      },
      async (req) => {
        const me = who(req);
        const v = await tenancy.vehicle(me, req.params.id);
        return (
          await vehicleStates(deps, [v], { wholeFleet: false, withFrame: true, sinceAssigned: me.role === 'customer' })
        )[0]!;
      },
    );

    app.get(
      '/api/vehicles/:id/telemetry',
      {
        config: { access: { roles: FIELD_ROLES, token: 'telemetry:read' } },
        // the series without zod's walk over its ~110,000 numbers (same checks, same JSON): web/series-json.ts
        serializerCompiler: seriesSerializerCompiler,
        schema: {
          tags: ['vehicles'],
          summary: 'Telemetry history in a time range, downsampled to at most maxPoints (min/max/avg per bucket)',
          params: vehicleParams,
          querystring: z.strictObject({
            from: instant.optional().meta({ description: 'default: one hour before `to`' }),
            to: instant.optional().meta({ description: 'default: now' }),
            maxPoints: intQuery('maxPoints', 1, MAX_POINTS).default(1000),
            fields: fieldsQuery
              .optional()
              .meta({ description: `comma-separated, default all: ${NUMERIC_FIELD_PATHS.join(', ')}` }),
          }),
          response: { 200: seriesOut, ...errors(400, ...AUTHED, 404) },
        },
      },
      async (req, reply) => {
        const me = who(req);
        const v = await tenancy.vehicle(me, req.params.id);
        const to = req.query.to ?? ctx.now();
        const from = req.query.from ?? to - 3_600_000;
        if (from >= to) throw new PlatformError('VALIDATION_FAILED', 'query.from: must be before to');
        if (to - from > MAX_HISTORY_RANGE_MS)
          throw new PlatformError(
            'VALIDATION_FAILED',
            `query: the range may span at most ${MAX_HISTORY_RANGE_MS / 86_400_000} days`,
          );
        const fields = req.query.fields as NumericFieldPath[] | undefined;
        // a customer sees the vehicle's history only since it came to its unit: an id reused for
        // another unit, or a transferred vehicle, does not show the previous unit's telemetry
        const since = tenancy.since(me, v);
        if (since !== undefined && since > to)
          return emptySeries(
            { vehicleId: v.id, from, to, maxPoints: req.query.maxPoints },
            fields ?? NUMERIC_FIELD_PATHS,
          );
        const query = {
          vehicleId: v.id,
          from: since !== undefined ? Math.max(from, since) : from,
          to,
          maxPoints: req.query.maxPoints,
          ...(fields ? { fields } : {}),
        };
        // a day in minute points: the store writes the JSON itself, its closed minutes kept as text
        // between queries (telemetry/series-bytes.ts; the same bytes the serializer writes)
        const bytes = await deps.telemetry.seriesBytes?.(query);
        if (bytes) return reply.type('application/json; charset=utf-8').send(bytes as never);
        return deps.telemetry.series(query);
      },
    );

    app.get(
      '/api/vehicles/:id/limits',
      {
        config: { access: { roles: FIELD_ROLES, token: 'vehicles:read' } },
        schema: {
          tags: ['vehicles'],
          summary:
            "The vehicle's limits: where the rules that apply to it raise their alarms, resolved against its power profile",
          params: vehicleParams,
          response: { 200: vehicleLimitsOut, ...errors(400, ...AUTHED, 404) },
        },
      },
      async (req) => {
        const v = await tenancy.vehicle(who(req), req.params.id);
        return {
          vehicleId: v.id,
          profile: v.profile,
          limits: deps.diagnostics.limits?.(v.model, v.profile) ?? [],
        };
      },
    );

    const provisioned = z.object({
      vehicle: vehicleStateOut,
      secret: z.string().meta({ description: 'the MQTT password; shown this once, never stored in clear' }),
    });

    app.post(
      '/api/vehicles',
      {
        config: { access: { roles: ['admin'] } },
        schema: {
          tags: ['vehicles'],
          summary: 'Provision a vehicle; returns its MQTT secret once',
          body: z.strictObject({
            id: vehicleIdSchema,
            customerId: customerIdSchema,
            name: text('name', 200).optional(),
            model: text('model', 100).optional(),
            profile: profileInput,
          }),
          response: { 201: provisioned, ...errors(400, ...AUTHED, 409) },
        },
      },
      async (req, reply) => {
        const me = who(req);
        const { vehicle, secret } = await deps.vehicles.add(req.body);
        await audit.record({
          actor: me.id,
          action: 'vehicle.added',
          subject: `vehicle:${vehicle.id}`,
          ...auditFrom(req),
          details: { customerId: vehicle.customerId, model: vehicle.model },
        });
        return reply.code(201).send({
          vehicle: (await vehicleStates(deps, [vehicle], { wholeFleet: false, withFrame: true }))[0]!,
          secret,
        });
      },
    );

    app.post(
      '/api/vehicles/:id/rotate-secret',
      {
        config: { access: { roles: ['admin'] } },
        schema: {
          tags: ['vehicles'],
          summary: 'Issue a new MQTT secret (the old one stops working; connected sessions are closed); returned once',
          params: vehicleParams,
          response: { 200: z.object({ id: z.string(), secret: z.string() }), ...errors(400, ...AUTHED, 404) },
        },
      },
      async (req) => {
        const me = who(req);
        const { secret } = await deps.vehicles.rotateSecret(req.params.id);
        await audit.record({
          actor: me.id,
          action: 'vehicle.secret_rotated',
          subject: `vehicle:${req.params.id}`,
          ...auditFrom(req),
        });
        return { id: req.params.id, secret };
      },
    );

    app.post(
      '/api/vehicles/:id/transfer',
      {
        config: { access: { roles: ['admin'] } },
        schema: {
          tags: ['vehicles'],
          summary: 'Move a vehicle to another customer unit from now on',
          description:
            'What was recorded before stays with the old unit: its telemetry, alarms (open ones too), incidents and tickets. ' +
            'The new unit sees the vehicle’s telemetry only from the transfer on, and its alarms open their own incidents and tickets.',
          params: vehicleParams,
          body: z.strictObject({ customerId: customerIdSchema }),
          response: { 200: vehicleStateOut, ...errors(400, ...AUTHED, 404) },
        },
      },
      async (req) => {
        const me = who(req);
        const { vehicle, from } = await deps.vehicles.transfer(req.params.id, req.body.customerId);
        await audit.record({
          actor: me.id,
          action: 'vehicle.transferred',
          subject: `vehicle:${vehicle.id}`,
          ...auditFrom(req),
          details: { before: { customerId: from }, after: { customerId: vehicle.customerId } },
        });
        return (await vehicleStates(deps, [vehicle], { wholeFleet: false, withFrame: true }))[0]!;
      },
    );

    app.delete(
      '/api/vehicles/:id',
      {
        config: { access: { roles: ['admin'] } },
        schema: {
          tags: ['vehicles'],
          summary: 'Remove a vehicle (its telemetry stays until retention)',
          params: vehicleParams,
          response: { 204: z.null(), ...errors(400, ...AUTHED, 404) },
        },
      },
      async (req, reply) => {
        const me = who(req);
        await deps.vehicles.remove(req.params.id);
        await audit.record({
          actor: me.id,
          action: 'vehicle.removed',
          subject: `vehicle:${req.params.id}`,
          ...auditFrom(req),
        });
        return reply.code(204).send(null);
      },
    );
  };
}
