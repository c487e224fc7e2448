import { z } from 'zod';
import {
  FINDING_SEVERITIES,
  ORDER_TEAM_ROLES,
  RECORD_TYPES,
  type OrderApplication,
  type OrderRecord,
} from '../../diagnostics/service-orders/order-records.ts';
import { text, vehicleIdSchema } from '../schemas.ts';

/** Schemas of service orders' applications, teams and records (diagnostics/service-orders/order-records.ts). */

export const epochMs = (name: string) =>
  z
    .number({ error: `${name} must be epoch milliseconds` })
    .int({ error: `${name} must be epoch milliseconds` })
    .min(0)
    .max(Number.MAX_SAFE_INTEGER)
    .meta({ description: 'epoch milliseconds' });

const lines = (name: string, max: number) =>
  z
    .array(text(name, 200))
    .min(1, { error: `name at least one ${name}` })
    .max(max);

/** The application of each kind (申请内容): the kind's own fields beside place, date, people and contacts. */
export const applicationInput = z
  .discriminatedUnion(
    'kind',
    [
      z.strictObject({
        kind: z.literal('patrol_inspection'),
        equipment: lines('equipment', 50).meta({ description: '装备类型: the vehicles or units to inspect' }),
        tools: text('tools', 2000).meta({ description: '人员设备需求: tools and instruments to bring' }),
      }),
      z.strictObject({
        kind: z.literal('training'),
        teachingUnit: text('teachingUnit', 200).meta({ description: '授课单位' }),
        topics: lines('topic', 30).meta({ description: '培训项目' }),
        materials: text('materials', 2000).meta({ description: '资料需求: the materials asked for' }),
      }),
      z.strictObject({
        kind: z.literal('accompanying_support'),
        taskSource: text('taskSource', 300).meta({ description: '任务来源' }),
        supportedUnit: text('supportedUnit', 200).meta({ description: '承保单位: the unit supported' }),
        equipment: text('equipment', 1000).meta({ description: '装备类型' }),
        assemblyAt: epochMs('assemblyAt').meta({ description: '集结时间' }),
        assemblyPlace: text('assemblyPlace', 300).meta({ description: '集结地点' }),
        start: epochMs('start').meta({ description: 'the duty’s start' }),
        end: epochMs('end').meta({ description: 'the duty’s end' }),
      }),
    ],
    { error: 'application.kind must be patrol_inspection, training or accompanying_support' },
  )
  .meta({ description: 'the kind’s application; its kind must be the order’s' });

export const applicationOut = z.union([
  z.object({ kind: z.literal('patrol_inspection'), equipment: z.array(z.string()), tools: z.string() }),
  z.object({
    kind: z.literal('training'),
    teachingUnit: z.string(),
    topics: z.array(z.string()),
    materials: z.string(),
  }),
  z.object({
    kind: z.literal('accompanying_support'),
    taskSource: z.string(),
    supportedUnit: z.string(),
    equipment: z.string(),
    assemblyAt: z.number(),
    assemblyPlace: z.string(),
    start: z.number(),
    end: z.number(),
  }),
]) satisfies z.ZodType<OrderApplication>;

export const signOffOut = z
  .object({ at: z.number(), by: z.string(), name: z.string(), note: z.string().nullable() })
  .meta({ description: 'the customer side’s sign-off (双方确认)' });

export const orderTeamInput = z.strictObject({
  members: z
    .array(
      z.strictObject({
        accountId: z
          .string()
          .trim()
          .toLowerCase()
          .regex(/^[a-z0-9][a-z0-9._-]{1,63}$/, {
            error: 'must be 2–64 characters of a-z 0-9 . _ -, starting with a letter or digit',
          }),
        role: z.enum(ORDER_TEAM_ROLES as [string, ...string[]], {
          error: `must be one of ${ORDER_TEAM_ROLES.join(', ')}`,
        }),
        duty: text('duty', 300).optional(),
      }),
    )
    .max(20),
});

export const teamOut = z.array(
  z.object({ accountId: z.string(), role: z.string(), duty: z.string().nullable(), name: z.string() }),
);

const findingInput = z.strictObject({
  text: text('finding', 1000),
  severity: z.enum(FINDING_SEVERITIES, { error: `must be one of ${FINDING_SEVERITIES.join(', ')}` }),
  needsRepair: z.boolean({ error: 'needsRepair must be true or false' }).default(false),
});
const partInput = z.strictObject({
  name: text('part', 200),
  partNo: text('partNo', 100).optional(),
  quantity: z.number({ error: 'quantity must be a number' }).positive().max(100_000).optional(),
  unit: text('unit', 20).optional(),
});
const optText = (name: string, max: number) => text(name, max).optional();

/** One record, by type: which kind of order takes it is RECORD_KIND. */
export const recordInput = z.discriminatedUnion(
  'type',
  [
    z.strictObject({
      type: z.literal('visit'),
      vehicleId: vehicleIdSchema.optional(),
      equipment: text('equipment', 300).optional().meta({ description: 'what was inspected when it is no vehicle' }),
      at: epochMs('at'),
      stateFound: text('stateFound', 2000).meta({ description: '技术状态: the state found' }),
      readings: text('readings', 2000).optional().meta({ description: 'measurements taken' }),
      findings: z.array(findingInput).max(50).default([]),
      workDone: text('workDone', 4000).optional(),
      parts: z.array(partInput).max(50).default([]).meta({ description: 'parts used, free lines' }),
      internalNote: optText('internalNote', 2000),
    }),
    z.strictObject({
      type: z.literal('material'),
      title: text('title', 300),
      note: optText('note', 1000),
      internalNote: optText('internalNote', 2000),
    }),
    z.strictObject({
      type: z.literal('attendee'),
      name: text('name', 100),
      unit: text('unit', 200),
      role: text('role', 100),
      internalNote: optText('internalNote', 2000),
    }),
    z.strictObject({
      type: z.literal('session'),
      at: epochMs('at'),
      hours: z.number({ error: 'hours must be a number' }).positive().max(24).optional(),
      topic: text('topic', 300),
      trainer: text('trainer', 100),
      place: optText('place', 300),
      internalNote: optText('internalNote', 2000),
    }),
    z.strictObject({
      type: z.literal('assessment'),
      attendeeId: z.number({ error: 'attendeeId must be a record id' }).int().min(1).max(Number.MAX_SAFE_INTEGER),
      score: z.number({ error: 'score must be a number' }).min(0).max(100).optional(),
      passed: z.boolean({ error: 'passed must be true or false' }),
      note: optText('note', 1000),
      internalNote: optText('internalNote', 2000),
    }),
    z.strictObject({
      type: z.literal('log'),
      at: epochMs('at'),
      text: text('text', 4000),
      internalNote: optText('internalNote', 2000),
    }),
  ],
  { error: `type must be one of ${RECORD_TYPES.join(', ')}` },
);

export const recordOut = z
  .object({
    id: z.number(),
    orderId: z.number(),
    at: z.number(),
    actor: z.string(),
    body: z.record(z.string(), z.unknown()).meta({ description: 'the record by its type (visit, attendee, …)' }),
    internalNote: z.string().nullable().meta({ description: 'staff only: null for a customer' }),
  })
  .meta({ id: 'ServiceOrderRecord' }) satisfies z.ZodType<unknown>;

export type RecordOut = Omit<OrderRecord, 'body'> & { body: Record<string, unknown> };
