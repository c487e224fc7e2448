import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { SUPPLIER_STATUSES } from '../../resources/suppliers/suppliers.ts';
import { who, auditFrom } from '../auth/guard.ts';
import type { WebContext } from '../context.ts';
import { noteOnTicket } from '../ticket-notes.ts';
import { AUTHED, errors, instant, numericIdSchema, numericParams, text } from '../schemas.ts';
import {
  epochMs,
  QUALITY_EDIT,
  rating,
  REGISTER_READ,
  registerId,
  SUPPLIERS_EDIT,
  SUPPLIERS_READ,
} from './resource-schemas.ts';

export const supplierOut = z
  .object({
    id: z.string(),
    name: z.string(),
    nameZh: z.string().nullable(),
    contact: z.string(),
    certification: z.string().nullable(),
    certifiedUntil: z.number().nullable(),
    lastAuditAt: z.number().nullable(),
    nextAuditAt: z.number().nullable(),
    status: z.enum(SUPPLIER_STATUSES),
    certificationExpired: z.boolean(),
    auditOverdue: z.boolean(),
    lastScore: z.number().nullable().meta({ description: 'mean of the latest evaluation’s three 1–5 scores' }),
    updatedAt: z.number(),
  })
  .meta({ id: 'Supplier' });

const evaluationOut = z
  .object({
    id: z.number(),
    at: z.number(),
    by: z.string(),
    quality: z.number(),
    delivery: z.number(),
    service: z.number(),
    note: z.string().nullable(),
  })
  .meta({ id: 'SupplierEvaluation' });

const qualityRecordOut = z
  .object({
    id: z.number(),
    ticketId: z.number(),
    vehicleId: z.string().nullable(),
    faultCode: z.string().nullable(),
    partNumber: z.string(),
    supplierId: z.string(),
    failedAt: z.number().meta({ description: 'the ticket’s receipt time' }),
    note: z.string().nullable(),
    recordedBy: z.string(),
    recordedAt: z.number(),
  })
  .meta({ id: 'QualityRecord' });

const feedbackOut = z
  .object({
    id: z.number(),
    supplierId: z.string(),
    partNumber: z.string().nullable(),
    recordIds: z.array(z.number()),
    subject: z.string(),
    text: z.string(),
    sentAt: z.number(),
    sentBy: z.string(),
    answerDueAt: z.number().nullable(),
    answer: z.string().nullable(),
    answeredAt: z.number().nullable(),
    state: z.enum(['open', 'overdue', 'answered']),
  })
  .meta({ id: 'QualityFeedback' });

const failureRateOut = z
  .object({
    supplierId: z.string(),
    partNumber: z.string(),
    failures: z.number(),
    fleetHours: z.number(),
    exposure: z
      .enum(['fitted_models', 'whole_fleet'])
      .describe('fleetHours counts the vehicles of the models the catalogue says the part fits, or the whole fleet'),
    per1000Hours: z.number().nullable(),
    mtbfHours: z.number().nullable(),
  })
  .meta({ id: 'FailureRate' });

const supplierParams = z.object({ id: registerId('id') });
const status = z.enum(SUPPLIER_STATUSES, { error: `status must be one of ${SUPPLIER_STATUSES.join(', ')}` });
const supplierFields = {
  name: text('name', 200),
  nameZh: text('nameZh', 200).nullable().optional(),
  contact: text('contact', 500),
  certification: text('certification', 200).nullable().optional(),
  certifiedUntil: epochMs.nullable().optional(),
  lastAuditAt: epochMs.nullable().optional(),
  nextAuditAt: epochMs.nullable().optional(),
  status: status.optional(),
};

/** Suppliers (供应商管理) and quality information (质量信息反馈): staff only. */
export function supplierRoutes(ctx: WebContext): FastifyPluginAsyncZod {
  const { deps, audit, tenancy } = ctx;
  const { suppliers, quality } = deps.resourceRegister;
  return async (app) => {
    app.get(
      '/api/suppliers',
      {
        config: { access: { roles: SUPPLIERS_READ } },
        schema: {
          tags: ['resources'],
          summary: 'Suppliers with certification, audit and latest evaluation',
          response: { 200: z.object({ suppliers: z.array(supplierOut) }), ...errors(...AUTHED) },
        },
      },
      async () => ({ suppliers: await suppliers.list() }),
    );

    app.get(
      '/api/suppliers/:id',
      {
        config: { access: { roles: SUPPLIERS_READ } },
        schema: {
          tags: ['resources'],
          summary: 'A supplier with its evaluations, quality records and quality feedback',
          params: supplierParams,
          response: {
            200: z.object({
              supplier: supplierOut,
              evaluations: z.array(evaluationOut),
              records: z.array(qualityRecordOut),
              feedback: z.array(feedbackOut),
            }),
            ...errors(400, ...AUTHED, 404),
          },
        },
      },
      async (req) => ({
        supplier: await suppliers.get(req.params.id),
        evaluations: await suppliers.evaluations(req.params.id),
        records: await quality.records({ supplierId: req.params.id }),
        feedback: await quality.feedback({ supplierId: req.params.id }),
      }),
    );

    app.post(
      '/api/suppliers',
      {
        config: { access: { roles: SUPPLIERS_EDIT } },
        schema: {
          tags: ['resources'],
          summary: 'Add a supplier (a candidate unless status says otherwise)',
          body: z.strictObject({ id: registerId('id'), ...supplierFields }),
          response: { 201: z.object({ supplier: supplierOut }), ...errors(400, ...AUTHED, 409) },
        },
      },
      async (req, reply) => {
        const me = who(req);
        const supplier = await suppliers.add(req.body);
        await audit.record({
          actor: me.id,
          action: 'supplier.added',
          subject: `supplier:${supplier.id}`,
          ...auditFrom(req),
        });
        return reply.code(201).send({ supplier });
      },
    );

    app.patch(
      '/api/suppliers/:id',
      {
        config: { access: { roles: SUPPLIERS_EDIT } },
        schema: {
          tags: ['resources'],
          summary: 'Change a supplier: certification, audit dates, status (approve, suspend)',
          params: supplierParams,
          body: z
            .strictObject({
              ...supplierFields,
              name: supplierFields.name.optional(),
              contact: supplierFields.contact.optional(),
            })
            .refine((b) => Object.keys(b).length > 0, { error: 'change at least one field' }),
          response: { 200: z.object({ supplier: supplierOut }), ...errors(400, ...AUTHED, 404) },
        },
      },
      async (req) => {
        const me = who(req);
        const supplier = await suppliers.update(req.params.id, req.body);
        await audit.record({
          actor: me.id,
          action: 'supplier.changed',
          subject: `supplier:${supplier.id}`,
          ...auditFrom(req),
          details: { fields: Object.keys(req.body) },
        });
        return { supplier };
      },
    );

    app.post(
      '/api/suppliers/:id/evaluations',
      {
        config: { access: { roles: SUPPLIERS_EDIT } },
        schema: {
          tags: ['resources'],
          summary: 'Evaluate a supplier: quality, delivery, service (1–5 each)',
          params: supplierParams,
          body: z.strictObject({
            quality: rating('quality'),
            delivery: rating('delivery'),
            service: rating('service'),
            note: z.string().trim().max(2000).nullable().optional(),
          }),
          response: { 201: z.object({ evaluation: evaluationOut }), ...errors(400, ...AUTHED, 404) },
        },
      },
      async (req, reply) => {
        const me = who(req);
        const evaluation = await suppliers.evaluate(req.params.id, { ...req.body, by: me.id });
        await audit.record({
          actor: me.id,
          action: 'supplier.evaluated',
          subject: `supplier:${req.params.id}`,
          ...auditFrom(req),
        });
        return reply.code(201).send({ evaluation });
      },
    );

    app.post(
      '/api/tickets/:id/quality-records',
      {
        config: { access: { roles: QUALITY_EDIT } },
        schema: {
          tags: ['resources'],
          summary: 'Attribute a ticket’s cause to a supplier’s part: a quality record against the supplier',
          params: numericParams,
          body: z.strictObject({
            partNumber: registerId('partNumber'),
            supplierId: registerId('supplierId'),
            note: z.string().trim().max(2000).nullable().optional(),
          }),
          response: { 201: z.object({ record: qualityRecordOut }), ...errors(400, ...AUTHED, 404, 409) },
        },
      },
      async (req, reply) => {
        const me = who(req);
        const t = await tenancy.ticket(me, req.params.id);
        const record = await quality.attribute(
          { id: t.id, vehicleId: t.vehicleId, faultCode: t.faultCode, receivedAt: t.receivedAt },
          { ...req.body, by: me.id },
        );
        await audit.record({
          actor: me.id,
          action: 'quality.attributed',
          subject: `ticket:${t.id}`,
          ...auditFrom(req),
          details: { partNumber: record.partNumber, supplierId: record.supplierId },
        });
        await noteOnTicket(ctx, t.id, {
          actor: me.id,
          action: 'quality_attributed',
          note: `cause attributed to part ${record.partNumber} of supplier ${record.supplierId}`,
        });
        return reply.code(201).send({ record });
      },
    );

    app.get(
      '/api/tickets/:id/quality-records',
      {
        config: { access: { roles: REGISTER_READ } },
        schema: {
          tags: ['resources'],
          summary: 'The parts a ticket’s cause is attributed to',
          params: numericParams,
          response: { 200: z.object({ records: z.array(qualityRecordOut) }), ...errors(400, ...AUTHED, 404) },
        },
      },
      async (req) => {
        const t = await tenancy.ticket(who(req), req.params.id);
        return { records: await quality.records({ ticketId: t.id }) };
      },
    );

    app.get(
      '/api/quality/failure-rates',
      {
        config: { access: { roles: SUPPLIERS_READ } },
        schema: {
          tags: ['resources'],
          summary: 'Failures per supplier part over the fleet’s hours in a window (docs/resources-register.md)',
          querystring: z.strictObject({
            from: instant.optional().meta({ description: 'default: 365 days ago' }),
            to: instant.optional().meta({ description: 'default: now' }),
          }),
          response: {
            200: z.object({ from: z.number(), to: z.number(), fleetHours: z.number(), rates: z.array(failureRateOut) }),
            ...errors(400, ...AUTHED),
          },
        },
      },
      async (req) => {
        const to = req.query.to ?? ctx.now();
        const from = req.query.from ?? to - 365 * 86_400_000;
        return { from, to, ...(await quality.failureRates({ from, to })) };
      },
    );

    app.post(
      '/api/suppliers/:id/feedback',
      {
        config: { access: { roles: SUPPLIERS_EDIT } },
        schema: {
          tags: ['resources'],
          summary: 'Send quality feedback to a supplier about its quality records; its answer is tracked',
          params: supplierParams,
          body: z.strictObject({
            partNumber: registerId('partNumber').nullable().optional(),
            recordIds: z.array(numericIdSchema).max(200).default([]),
            subject: text('subject', 200),
            text: text('text', 4000),
            answerDueAt: epochMs.nullable().optional(),
          }),
          response: { 201: z.object({ feedback: feedbackOut }), ...errors(400, ...AUTHED, 404) },
        },
      },
      async (req, reply) => {
        const me = who(req);
        const feedback = await quality.sendFeedback({ ...req.body, supplierId: req.params.id, by: me.id });
        await audit.record({
          actor: me.id,
          action: 'quality.feedback_sent',
          subject: `supplier:${req.params.id}`,
          ...auditFrom(req),
          details: { feedbackId: feedback.id },
        });
        return reply.code(201).send({ feedback });
      },
    );

    app.post(
      '/api/quality-feedback/:id/answer',
      {
        config: { access: { roles: SUPPLIERS_EDIT } },
        schema: {
          tags: ['resources'],
          summary: 'Record the supplier’s answer to a quality feedback',
          params: numericParams,
          body: z.strictObject({ answer: text('answer', 4000) }),
          response: { 200: z.object({ feedback: feedbackOut }), ...errors(400, ...AUTHED, 404, 409) },
        },
      },
      async (req) => {
        const me = who(req);
        const feedback = await quality.answer(req.params.id, { answer: req.body.answer, by: me.id });
        await audit.record({
          actor: me.id,
          action: 'quality.feedback_answered',
          subject: `quality_feedback:${feedback.id}`,
          ...auditFrom(req),
        });
        return { feedback };
      },
    );
  };
}
