import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { PlatformError } from '../../core/errors.ts';
import { ROLES } from '../auth/accounts.ts';
import { who, auditFrom } from '../auth/guard.ts';
import type { WebContext } from '../context.ts';
import { accountParams, AUTHED, errors } from '../schemas.ts';

/** One's own second factor: allowed while the deployment still requires enrolment, and right after a password change. */
const OWN = { roles: ROLES, duringTwoFactorEnrolment: true } as const;

const statusOut = z
  .object({
    enabled: z.boolean(),
    pending: z.boolean().meta({ description: 'an enrolment was started and not confirmed yet' }),
    required: z.boolean().meta({ description: 'the deployment requires it for this role (REQUIRE_2FA_ROLES)' }),
    recoveryCodesLeft: z.number(),
  })
  .meta({ id: 'TwoFactorStatus' });
const recoveryOut = z.object({
  recoveryCodes: z.array(z.string()).meta({ description: 'ten single-use codes; shown this once' }),
});
const codeSchema = z
  .string()
  .trim()
  .regex(/^\d{6}$/, { error: 'must be the 6 digits your authenticator app shows' });

/** TOTP enrolment (QR code), confirmation, recovery codes, turning it off; an admin's reset for a lost device. */
export function twoFactorRoutes(ctx: WebContext): FastifyPluginAsyncZod {
  const { twoFactor, audit, accounts, throttle } = ctx;
  const required = (role: (typeof ROLES)[number]) => !!ctx.sessions.options.requireTwoFactorRoles?.includes(role);
  return async (app) => {
    app.get(
      '/api/auth/two-factor',
      {
        config: { access: OWN },
        schema: {
          tags: ['security'],
          summary: 'Whether two-factor authentication is on, required, and how many recovery codes are left',
          response: { 200: statusOut, ...errors(...AUTHED) },
        },
      },
      async (req) => {
        const me = who(req);
        return { ...(await twoFactor.status(me.id)), required: required(me.role) };
      },
    );

    app.post(
      '/api/auth/two-factor/enrol',
      {
        config: { access: { ...OWN, recentAuth: true } },
        schema: {
          tags: ['security'],
          summary: 'Start TOTP enrolment: the secret as an otpauth:// URI and a QR code, shown this once',
          description:
            'Not in force until confirmed with a code (POST /api/auth/two-factor/confirm). Starting again replaces an unconfirmed secret. 409 TWO_FACTOR_STATE when already on.',
          response: {
            200: z.object({
              otpauthUri: z.string(),
              qrDataUrl: z.string().meta({ description: 'data:image/svg+xml;base64,…' }),
            }),
            ...errors(...AUTHED, 409),
          },
        },
      },
      async (req) => {
        const me = who(req);
        const enrolment = await twoFactor.enrol(me.id);
        await audit.record({
          actor: me.id,
          action: 'two_factor.enrolment_started',
          subject: `account:${me.id}`,
          ...auditFrom(req),
        });
        return enrolment;
      },
    );

    app.post(
      '/api/auth/two-factor/confirm',
      {
        config: { access: OWN },
        schema: {
          tags: ['security'],
          summary:
            'Confirm enrolment with a code from the app: two-factor authentication is on; returns 10 recovery codes once',
          body: z.strictObject({ code: codeSchema }),
          response: { 200: recoveryOut, ...errors(400, ...AUTHED, 409, 429) },
        },
      },
      async (req) => {
        const me = who(req);
        const wait = throttle.check(me.id, req.ip);
        if (wait > 0)
          throw new PlatformError('RATE_LIMITED', `too many wrong codes; try again in ${wait} s`, {
            details: { retryAfterS: wait },
          });
        const codes = await twoFactor.confirm(me.id, req.body.code);
        if (!codes) {
          throttle.fail(me.id, req.ip);
          throw new PlatformError(
            'TWO_FACTOR_FAILED',
            'wrong code: check the clock of the device and try the next one',
          );
        }
        await audit.record({
          actor: me.id,
          action: 'two_factor.enabled',
          subject: `account:${me.id}`,
          ...auditFrom(req),
        });
        return { recoveryCodes: codes };
      },
    );

    app.post(
      '/api/auth/two-factor/recovery-codes',
      {
        config: { access: { roles: ROLES, recentAuth: true } },
        schema: {
          tags: ['security'],
          summary: 'New recovery codes (the old ones stop working); shown this once',
          response: { 200: recoveryOut, ...errors(...AUTHED, 409) },
        },
      },
      async (req) => {
        const me = who(req);
        const codes = await twoFactor.regenerateRecoveryCodes(me.id);
        await audit.record({
          actor: me.id,
          action: 'two_factor.recovery_codes_renewed',
          subject: `account:${me.id}`,
          ...auditFrom(req),
        });
        return { recoveryCodes: codes };
      },
    );

    app.delete(
      '/api/auth/two-factor',
      {
        config: { access: { roles: ROLES, recentAuth: true } },
        schema: {
          tags: ['security'],
          summary: 'Turn one’s own two-factor authentication off (needs a recent password or code)',
          response: { 204: z.null(), ...errors(...AUTHED, 409) },
        },
      },
      async (req, reply) => {
        const me = who(req);
        if (!(await twoFactor.disable(me.id)))
          throw new PlatformError('TWO_FACTOR_STATE', 'two-factor authentication is not on');
        await audit.record({
          actor: me.id,
          action: 'two_factor.disabled',
          subject: `account:${me.id}`,
          ...auditFrom(req),
        });
        return reply.code(204).send(null);
      },
    );

    app.delete(
      '/api/admin/accounts/:id/two-factor',
      {
        config: { access: { roles: ['admin'], recentAuth: true } },
        schema: {
          tags: ['security'],
          summary: 'An admin turns an account’s two-factor authentication off (a lost device); ends its sessions',
          params: accountParams,
          response: { 204: z.null(), ...errors(400, ...AUTHED, 404, 409) },
        },
      },
      async (req, reply) => {
        const me = who(req);
        const target = await accounts.require(req.params.id);
        if (!(await twoFactor.disable(target.id)))
          throw new PlatformError('TWO_FACTOR_STATE', `two-factor authentication is not on for ${target.id}`);
        await ctx.sessions.endAllOf(target.id);
        await audit.record({
          actor: me.id,
          action: 'two_factor.reset_by_admin',
          subject: `account:${target.id}`,
          ...auditFrom(req),
        });
        return reply.code(204).send(null);
      },
    );
  };
}
