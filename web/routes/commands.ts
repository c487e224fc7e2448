import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { checkCommand, COMMAND_ID_PATTERN, OPERATOR_COMMANDS } from '../../commands/catalogue.ts';
import { isPlatformError, PlatformError } from '../../core/errors.ts';
import { STAFF_ROLES, type Account } from '../auth/accounts.ts';
import { who, auditFrom } from '../auth/guard.ts';
import type { WebContext } from '../context.ts';
import { principalOf } from './sessions.ts';
import { AUTHED, commandOut, cursorQuery, errors, intQuery, nextCursorOut, vehicleParams } from '../schemas.ts';

const commandId = z.string({ error: 'must be text' }).regex(COMMAND_ID_PATTERN, {
  error: 'must be 1–64 characters of A-Z a-z 0-9 _ . : -, starting with a letter or digit',
});

const commandBody = z.strictObject({
  id: commandId.optional().meta({
    description: 'your id for the command: sending it again returns the first one’s record, never sends twice',
  }),
  name: z
    .string({ error: 'name must be text' })
    .max(64)
    .meta({ description: `one of ${OPERATOR_COMMANDS.join(', ')}` }),
  args: z
    .record(z.string(), z.unknown())
    .optional()
    .meta({ description: 'the command’s arguments (docs/remote-sessions.md)' }),
  confirmed: z
    .boolean({ error: 'confirmed must be true or false' })
    .optional()
    .meta({ description: 'true once the operator confirmed a power-changing command a second time' }),
  sessionId: z
    .number({ error: 'sessionId must be a number' })
    .int({ error: 'sessionId must be a whole number' })
    .positive({ error: 'sessionId must be positive' })
    .optional()
    .meta({
      description: 'the live remote session on this vehicle the command is sent from (its timeline records it)',
    }),
});

/** Operator commands: send one (and wait for the gateway's answer), a vehicle's recent commands, one command. */
export function commandRoutes(ctx: WebContext): FastifyPluginAsyncZod {
  const { deps, tenancy, audit } = ctx;
  const { service, policy } = deps.commands;
  /** A command sent from a session: the caller is one of its engineers and it is live on this vehicle. */
  async function fromSession(me: Account, sessionId: number, vehicleId: string): Promise<void> {
    const a = await deps.remote.access(principalOf(me), sessionId);
    if (!a) throw new PlatformError('SESSION_NOT_FOUND', `remote session ${sessionId} not found`);
    if (a.session.vehicleId !== vehicleId)
      throw new PlatformError('SESSION_INVALID_STATE', `remote session ${sessionId} is not on vehicle ${vehicleId}`);
    if (a.session.status !== 'live')
      throw new PlatformError('SESSION_INVALID_STATE', `remote session ${sessionId} is ${a.session.status}, not live`);
  }
  return async (app) => {
    app.post(
      '/api/vehicles/:id/commands',
      {
        config: { access: { roles: STAFF_ROLES } },
        schema: {
          tags: ['vehicles'],
          summary: 'Send a command to a vehicle and wait for its answer',
          description:
            'Answers 200 with the command once settled: state done (result), refused (error: the gateway’s reason) or no_answer (no ack within COMMAND_ACK_TIMEOUT_MS). Power-changing commands need confirmed: true and the duty lead or an engineer in a live session on the vehicle.',
          params: vehicleParams,
          body: commandBody,
          response: { 200: commandOut, ...errors(400, ...AUTHED, 404, 409, 428) },
        },
      },
      async (req) => {
        const me = who(req);
        const vehicleId = req.params.id;
        const { name, args, confirmed, id, sessionId } = req.body;
        try {
          await tenancy.vehicle(me, vehicleId);
          const checked = checkCommand(name, args ?? {});
          if (sessionId !== undefined) await fromSession(me, sessionId, vehicleId);
          await policy(me, vehicleId, checked, confirmed === true);
          return await service.send({
            vehicleId,
            name,
            args: checked.args,
            actor: me.id,
            ...(id ? { id } : {}),
            ...(sessionId !== undefined ? { sessionId } : {}),
          });
        } catch (err) {
          if (isPlatformError(err) && err.code !== 'VEHICLE_NOT_FOUND')
            await audit.record({
              actor: me.id,
              action: 'command.not_sent',
              subject: `vehicle:${vehicleId}`,
              ...auditFrom(req),
              details: { id: id ?? null, name, code: err.code },
            });
          throw err;
        }
      },
    );

    app.get(
      '/api/vehicles/:id/commands',
      {
        config: { access: { roles: STAFF_ROLES } },
        schema: {
          tags: ['vehicles'],
          summary: 'A vehicle’s commands, newest first',
          description: 'Paged: when nextCursor is not null, ask again with cursor=nextCursor for the next page.',
          params: vehicleParams,
          querystring: z.strictObject({
            limit: intQuery('limit', 1, 500).default(50),
            cursor: cursorQuery.optional(),
          }),
          response: {
            200: z.object({ commands: z.array(commandOut), nextCursor: nextCursorOut }),
            ...errors(400, ...AUTHED, 404),
          },
        },
      },
      async (req) => {
        await tenancy.vehicle(who(req), req.params.id);
        return service.page(req.params.id, req.query.limit, req.query.cursor);
      },
    );

    app.get(
      '/api/commands/:id',
      {
        config: { access: { roles: STAFF_ROLES } },
        schema: {
          tags: ['vehicles'],
          summary: 'One command and its outcome',
          params: z.object({ id: commandId }),
          response: { 200: commandOut, ...errors(400, ...AUTHED, 404) },
        },
      },
      async (req) => {
        const command = await service.get(req.params.id);
        if (!command) throw new PlatformError('COMMAND_NOT_FOUND', `command ${req.params.id} not found`);
        return command;
      },
    );
  };
}
