import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { DEPARTMENTS, SKILLS } from '../../resources/people/people.ts';
import { who, auditFrom } from '../auth/guard.ts';
import type { WebContext } from '../context.ts';
import { accountIdSchema, AUTHED, errors, numericParams, queryBool, text } from '../schemas.ts';
import { epochMs, PEOPLE_EDIT, REGISTER_READ, registerId } from './resource-schemas.ts';

const skill = z.enum(SKILLS, { error: `skill must be one of ${SKILLS.join(', ')}` });
const department = z.enum(DEPARTMENTS, { error: `department must be one of ${DEPARTMENTS.join(', ')}` });

export const personOut = z
  .object({
    id: z.string(),
    name: z.string(),
    department: z.enum(DEPARTMENTS),
    accountId: z.string().nullable(),
    phone: z.string().nullable(),
    available: z.boolean(),
    availabilityNote: z.string().nullable(),
    qualifications: z.array(
      z.object({
        skill: z.enum(SKILLS),
        certificate: z.string().nullable(),
        expiresAt: z.number().nullable(),
        valid: z.boolean().meta({ description: 'not expired' }),
      }),
    ),
    updatedAt: z.number(),
  })
  .meta({ id: 'Person' });

const personFields = {
  name: text('name', 200),
  department,
  accountId: accountIdSchema.nullable().optional(),
  phone: z
    .string()
    .trim()
    .regex(/^[0-9+()\- ]{3,40}$/, { error: 'phone must be 3–40 digits, spaces, + - ( )' })
    .nullable()
    .optional(),
  available: z.boolean().optional(),
  availabilityNote: z.string().trim().max(500).nullable().optional(),
  qualifications: z
    .array(
      z.strictObject({
        skill,
        certificate: text('certificate', 200).nullable().optional(),
        expiresAt: epochMs.nullable().optional(),
      }),
    )
    .max(30)
    .optional(),
};

/** People: skills and qualifications, department, availability; the team suggestion for a ticket. Staff only. */
export function peopleRoutes(ctx: WebContext): FastifyPluginAsyncZod {
  const { deps, audit, tenancy } = ctx;
  const people = deps.resourceRegister.people;
  return async (app) => {
    app.get(
      '/api/people',
      {
        config: { access: { roles: REGISTER_READ } },
        schema: {
          tags: ['resources'],
          summary: 'People with their skills, qualifications (expiry) and availability',
          querystring: z.strictObject({
            department: department.optional(),
            skill: skill.optional().meta({ description: 'with an unexpired qualification in it' }),
            available: queryBool.optional(),
          }),
          response: { 200: z.object({ people: z.array(personOut) }), ...errors(400, ...AUTHED) },
        },
      },
      async (req) => ({
        people: await people.list({
          ...(req.query.department ? { department: req.query.department } : {}),
          ...(req.query.skill ? { skill: req.query.skill } : {}),
          ...(req.query.available !== undefined ? { available: req.query.available } : {}),
        }),
      }),
    );

    app.post(
      '/api/people',
      {
        config: { access: { roles: PEOPLE_EDIT } },
        schema: {
          tags: ['resources'],
          summary: 'Add a person (the service team, or seconded from another department)',
          body: z.strictObject({ id: registerId('id'), ...personFields }),
          response: { 201: z.object({ person: personOut }), ...errors(400, ...AUTHED, 409) },
        },
      },
      async (req, reply) => {
        const me = who(req);
        const person = await people.add(req.body);
        await audit.record({ actor: me.id, action: 'person.added', subject: `person:${person.id}`, ...auditFrom(req) });
        return reply.code(201).send({ person });
      },
    );

    app.patch(
      '/api/people/:id',
      {
        config: { access: { roles: PEOPLE_EDIT } },
        schema: {
          tags: ['resources'],
          summary: 'Change a person: availability, department, qualifications (the list replaces the old one)',
          params: z.object({ id: registerId('id') }),
          body: z
            .strictObject({ ...personFields, name: personFields.name.optional(), department: department.optional() })
            .refine((b) => Object.keys(b).length > 0, { error: 'change at least one field' }),
          response: { 200: z.object({ person: personOut }), ...errors(400, ...AUTHED, 404) },
        },
      },
      async (req) => {
        const me = who(req);
        const person = await people.update(req.params.id, req.body);
        await audit.record({
          actor: me.id,
          action: 'person.changed',
          subject: `person:${person.id}`,
          ...auditFrom(req),
          details: { fields: Object.keys(req.body) },
        });
        return { person };
      },
    );

    app.get(
      '/api/tickets/:id/team-suggestion',
      {
        config: { access: { roles: REGISTER_READ } },
        schema: {
          tags: ['resources'],
          summary: 'Qualified, available people for a ticket: the skill its fault needs, unexpired qualifications',
          params: numericParams,
          querystring: z.strictObject({ skill: skill.optional().meta({ description: 'instead of the fault’s' }) }),
          response: {
            200: z.object({
              ticketId: z.number(),
              skill: z.enum(SKILLS),
              suggested: z.array(personOut),
              unavailable: z.array(personOut),
            }),
            ...errors(400, ...AUTHED, 404),
          },
        },
      },
      async (req) => {
        const t = await tenancy.ticket(who(req), req.params.id);
        const s = await people.suggestTeam(
          t.faultCode ?? t.planRef?.code ?? null,
          req.query.skill ? { skill: req.query.skill } : {},
        );
        return { ticketId: t.id, ...s };
      },
    );
  };
}
