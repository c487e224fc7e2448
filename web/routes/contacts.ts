import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { PlatformError } from '../../core/errors.ts';
import { CONTACT_CHANNELS, type ContactInput, type NotificationContact } from '../../notifications/contacts.ts';
import { CUSTOMER_KINDS } from '../../notifications/kinds.ts';
import { LANGUAGES } from '../../notifications/outbox.ts';
import { FIELD_ROLES, STAFF_ROLES, type Account } from '../auth/accounts.ts';
import { who, auditFrom } from '../auth/guard.ts';
import type { WebContext } from '../context.ts';
import { AUTHED, customerParams, errors, levelSchema, numericParams, text, vehicleIdSchema } from '../schemas.ts';

const MAX_CONTACTS_PER_UNIT = 50;
const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, { error: 'must be a local time HH:MM (00:00–23:59)' });
const timeZoneSchema = z.string().refine(
  (tz) => {
    try {
      new Intl.DateTimeFormat('en', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  },
  { error: 'must be an IANA time zone like Asia/Shanghai' },
);
const email = z.email({ error: 'must be an email address' }).max(320);

const channelInput = z
  .strictObject({
    channel: z.enum(CONTACT_CHANNELS, { error: `must be one of ${CONTACT_CHANNELS.join(', ')}` }),
    target: z.string().trim().min(1, { error: 'target must not be empty' }).max(320).meta({
      description: 'email address; webhook endpoint id; DingTalk/WeCom robot id (as configured for delivery)',
    }),
  })
  .superRefine((c, ctx) => {
    if (c.channel === 'email' && !email.safeParse(c.target).success)
      ctx.addIssue({ code: 'custom', path: ['target'], message: 'an email channel’s target must be an email address' });
    if (c.channel !== 'email' && !/^[A-Za-z0-9_.-]{1,64}$/.test(c.target))
      ctx.addIssue({
        code: 'custom',
        path: ['target'],
        message: 'must be a configured id: 1–64 characters of A-Z a-z 0-9 _ . -',
      });
  });

const contactInput = z.strictObject({
  name: text('name', 100),
  role: text('role', 100).nullable().optional(),
  phone: z
    .string()
    .trim()
    .regex(/^[0-9+()\- ]{3,40}$/, { error: 'phone must be 3–40 digits, spaces, + - ( )' })
    .nullable()
    .optional(),
  email: email.nullable().optional(),
  language: z.enum(LANGUAGES, { error: 'language must be en or zh' }),
  channels: z.array(channelInput).max(10, { error: 'at most 10 channels' }),
  quietHours: z
    .strictObject({ from: hhmm, to: hhmm })
    .nullable()
    .optional()
    .meta({ description: 'routine news is held until `to`; 特急 (extra urgent) never is' }),
  timeZone: timeZoneSchema.optional().meta({ description: 'of the quiet hours and the times in messages' }),
});

const subscriptionInput = z.strictObject({
  vehicleId: vehicleIdSchema.nullable().optional().meta({ description: 'one vehicle of the unit; absent: all' }),
  kinds: z
    .array(z.enum(CUSTOMER_KINDS, { error: `each kind must be one of ${CUSTOMER_KINDS.join(', ')}` }))
    .max(CUSTOMER_KINDS.length)
    .optional()
    .meta({ description: 'absent or empty: every kind' }),
  minLevel: levelSchema.meta({ description: 'routine (一般), urgent (紧急), extra_urgent (特急)' }),
});

export const contactOut = z
  .object({
    id: z.number(),
    customerId: z.string().nullable(),
    accountId: z.string().nullable(),
    name: z.string(),
    role: z.string().nullable(),
    phone: z.string().nullable(),
    email: z.string().nullable(),
    language: z.enum(LANGUAGES),
    channels: z.array(z.object({ channel: z.enum(CONTACT_CHANNELS), target: z.string() })),
    quietHours: z.object({ from: z.string(), to: z.string() }).nullable(),
    timeZone: z.string(),
    subscriptions: z.array(
      z.object({
        id: z.number(),
        vehicleId: z.string().nullable(),
        kinds: z.array(z.enum(CUSTOMER_KINDS)),
        minLevel: levelSchema,
      }),
    ),
    updatedAt: z.number(),
  })
  .meta({ id: 'NotificationContact' });

const toInput = (b: z.infer<typeof contactInput>): ContactInput => ({
  name: b.name,
  role: b.role ?? null,
  phone: b.phone ?? null,
  email: b.email ?? null,
  language: b.language,
  channels: b.channels,
  quietHours: b.quietHours ?? null,
  ...(b.timeZone ? { timeZone: b.timeZone } : {}),
});

/**
 * Who gets what: contacts of customer units (staff for any unit, a customer for its own unit only;
 * another unit's answers like one that does not exist), their subscriptions and quiet hours, and a
 * staff account's own contact settings.
 */
export function contactRoutes(ctx: WebContext): FastifyPluginAsyncZod {
  const { deps, audit } = ctx;
  const contacts = deps.notifications.contacts;

  /** The unit `me` may manage contacts of (404 for another unit, as for one that does not exist). */
  async function unitOf(me: Account, customerId: string): Promise<string> {
    if (me.role === 'customer') {
      if (me.customerId !== customerId)
        throw new PlatformError('CUSTOMER_NOT_FOUND', `customer ${customerId} not found`);
      return customerId;
    }
    if (!(await deps.customers.get(customerId)))
      throw new PlatformError('CUSTOMER_NOT_FOUND', `customer ${customerId} not found`);
    return customerId;
  }
  /** A customer unit's contact `me` may manage (staff contacts are not managed here). */
  async function contactOf(me: Account, id: number): Promise<NotificationContact> {
    const missing = new PlatformError('CONTACT_NOT_FOUND', `contact ${id} not found`);
    const c = await contacts.get(id).catch(() => {
      throw missing;
    });
    if (c.customerId === null || (me.role === 'customer' && c.customerId !== me.customerId)) throw missing;
    return c;
  }

  return async (app) => {
    app.get(
      '/api/customers/:id/contacts',
      {
        config: { access: { roles: FIELD_ROLES } },
        schema: {
          tags: ['notifications'],
          summary:
            'The contacts of a customer unit with their subscriptions and quiet hours (a customer: its own unit)',
          params: customerParams,
          response: { 200: z.object({ contacts: z.array(contactOut) }), ...errors(400, ...AUTHED, 404) },
        },
      },
      async (req) => ({ contacts: await contacts.ofCustomer(await unitOf(who(req), req.params.id)) }),
    );

    app.post(
      '/api/customers/:id/contacts',
      {
        config: { access: { roles: FIELD_ROLES } },
        schema: {
          tags: ['notifications'],
          summary: 'Add a contact to a customer unit (staff: any unit; a customer: its own)',
          description:
            'A contact without subscriptions gets every message about its unit at every level; see PUT /api/contacts/{id}/subscriptions to narrow it.',
          params: customerParams,
          body: contactInput,
          response: { 201: z.object({ contact: contactOut }), ...errors(400, ...AUTHED, 404, 409) },
        },
      },
      async (req, reply) => {
        const me = who(req);
        const unit = await unitOf(me, req.params.id);
        if ((await contacts.ofCustomer(unit)).length >= MAX_CONTACTS_PER_UNIT)
          throw new PlatformError('INVALID_ARGUMENT', `a unit has at most ${MAX_CONTACTS_PER_UNIT} contacts`);
        const contact = await contacts.addToCustomer(unit, toInput(req.body));
        await audit.record({
          actor: me.id,
          action: 'contact.added',
          subject: `contact:${contact.id}`,
          ...auditFrom(req),
          details: { customerId: unit },
        });
        return reply.code(201).send({ contact });
      },
    );

    app.put(
      '/api/contacts/:id',
      {
        config: { access: { roles: FIELD_ROLES } },
        schema: {
          tags: ['notifications'],
          summary: 'Change a customer unit’s contact (all fields)',
          params: numericParams,
          body: contactInput,
          response: { 200: z.object({ contact: contactOut }), ...errors(400, ...AUTHED, 404) },
        },
      },
      async (req) => {
        const me = who(req);
        const before = await contactOf(me, req.params.id);
        const contact = await contacts.update(before.id, toInput(req.body));
        await audit.record({
          actor: me.id,
          action: 'contact.changed',
          subject: `contact:${contact.id}`,
          ...auditFrom(req),
        });
        return { contact };
      },
    );

    app.delete(
      '/api/contacts/:id',
      {
        config: { access: { roles: FIELD_ROLES } },
        schema: {
          tags: ['notifications'],
          summary: 'Remove a customer unit’s contact',
          params: numericParams,
          response: { 204: z.null(), ...errors(400, ...AUTHED, 404) },
        },
      },
      async (req, reply) => {
        const me = who(req);
        const c = await contactOf(me, req.params.id);
        await contacts.remove(c.id);
        await audit.record({ actor: me.id, action: 'contact.removed', subject: `contact:${c.id}`, ...auditFrom(req) });
        return reply.code(204).send(null);
      },
    );

    app.put(
      '/api/contacts/:id/subscriptions',
      {
        config: { access: { roles: FIELD_ROLES } },
        schema: {
          tags: ['notifications'],
          summary: 'Replace what a contact subscribes to (by vehicle, kind of message, minimum level)',
          description:
            'A message reaches the contact when any subscription matches: its vehicle (or none named), its kind (or none named) and a level at least minLevel. An empty list: everything of the unit at every level.',
          params: numericParams,
          body: z.strictObject({ subscriptions: z.array(subscriptionInput).max(50) }),
          response: { 200: z.object({ contact: contactOut }), ...errors(400, ...AUTHED, 404) },
        },
      },
      async (req) => {
        const me = who(req);
        const c = await contactOf(me, req.params.id);
        for (const s of req.body.subscriptions) {
          if (!s.vehicleId) continue;
          const v = await deps.vehicles.get(s.vehicleId);
          if (!v || v.customerId !== c.customerId)
            throw new PlatformError('VEHICLE_NOT_FOUND', `vehicle ${s.vehicleId} not found`);
        }
        const contact = await contacts.setSubscriptions(
          c.id,
          req.body.subscriptions.map((s) => ({
            vehicleId: s.vehicleId ?? null,
            kinds: s.kinds ?? [],
            minLevel: s.minLevel,
          })),
        );
        await audit.record({
          actor: me.id,
          action: 'contact.subscriptions_set',
          subject: `contact:${c.id}`,
          ...auditFrom(req),
        });
        return { contact };
      },
    );

    app.get(
      '/api/me/contact',
      {
        config: { access: { roles: STAFF_ROLES } },
        schema: {
          tags: ['notifications'],
          summary:
            'My own contact settings (staff): language, channels, quiet hours; the console inbox always gets everything',
          response: { 200: z.object({ contact: contactOut.nullable() }), ...errors(...AUTHED) },
        },
      },
      async (req) => ({ contact: (await contacts.ofAccount(who(req).id)) ?? null }),
    );

    app.put(
      '/api/me/contact',
      {
        config: { access: { roles: STAFF_ROLES } },
        schema: {
          tags: ['notifications'],
          summary: 'Set my own contact settings (staff); pages are never held by quiet hours',
          body: contactInput,
          response: { 200: z.object({ contact: contactOut }), ...errors(400, ...AUTHED) },
        },
      },
      async (req) => {
        const me = who(req);
        const contact = await contacts.setForAccount(me.id, toInput(req.body));
        await audit.record({ actor: me.id, action: 'contact.own_set', subject: `account:${me.id}`, ...auditFrom(req) });
        return { contact };
      },
    );
  };
}
