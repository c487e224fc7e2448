import { z } from 'zod';
import { MOVEMENT_KINDS } from '../../resources/stock/ledger.ts';
import { STORE_KINDS } from '../../resources/stock/catalogue.ts';
import { TRANSPORTS } from '../../resources/stock/geo.ts';
import { ORDER_STATUSES, SHORTAGE_KINDS } from '../../resources/stock/replenishment.ts';
import { TRANSFER_STATUSES } from '../../resources/stock/transfers.ts';
import { numericIdSchema, text } from '../schemas.ts';

/** Schemas of the spare-parts stock routes (web/routes/stock.ts): validation, types and OpenAPI from one place. */
export const partNoSchema = z
  .string()
  .regex(/^[A-Z0-9][A-Z0-9._-]{1,63}$/, { error: 'must be a part number: 2–64 characters of A-Z 0-9 . _ -' });
export const storeIdSchema = z
  .string()
  .regex(/^[A-Z0-9][A-Z0-9_-]{1,31}$/, { error: 'must be a store id: 2–32 characters of A-Z 0-9 _ -' });
const qty = z.number().int({ error: 'must be a whole number' }).min(1, { error: 'must be at least 1' }).max(100_000);
const names = z.strictObject({ en: text('name.en', 200), zh: text('name.zh', 200) });
const lat = z.number().min(-90).max(90);
const lon = z.number().min(-180).max(180);

export const partParams = z.object({ partNo: partNoSchema });
export const ticketParams = z.object({ id: numericIdSchema });

export const partIn = z.strictObject({
  partNo: partNoSchema,
  name: names,
  unit: text('unit', 16),
  wearing: z.boolean().default(false),
  machinable: z.boolean().default(false),
  fitsModels: z.array(text('model', 100)).max(50).default([]),
  fitsModules: z.array(text('module', 50)).max(20).default([]),
  leadTimeDays: z.number().int().min(0).max(365),
  suppliers: z
    .array(z.strictObject({ id: text('supplier id', 64), name: text('supplier name', 200) }))
    .max(20)
    .default([])
    .meta({ description: 'the suppliers register’s ids (no foreign key) with their names' }),
});
/** A part's entry changed: everything but its number (the path names it). */
export const partEditIn = partIn.omit({ partNo: true });
export const partOut = partIn.extend({
  levels: z.array(z.object({ storeId: z.string(), min: z.number(), max: z.number() })),
});

export const storeIn = z.strictObject({
  id: storeIdSchema,
  kind: z.enum(STORE_KINDS, { error: `must be one of ${STORE_KINDS.join(', ')}` }),
  name: names,
  lat,
  lon,
  address: text('address', 300),
});
export const storeOut = storeIn;
/** A store changed: everything but its id (the path names it; the ledger refers to it). */
export const storeEditIn = storeIn.omit({ id: true });
export const storeParams = z.object({ id: storeIdSchema });

export const levelIn = z
  .strictObject({
    partNo: partNoSchema,
    storeId: storeIdSchema,
    min: z.number().int().min(0).max(100_000),
    max: z.number().int().min(0).max(100_000),
  })
  .refine((l) => l.max >= l.min, { error: 'max must be at least min', path: ['max'] });

export const balanceOut = z.object({
  partNo: z.string(),
  storeId: z.string(),
  onHand: z.number(),
  reserved: z.number(),
  available: z.number(),
});

export const movementOut = z.object({
  id: z.number(),
  kind: z.enum(MOVEMENT_KINDS),
  partNo: z.string(),
  storeId: z.string(),
  qty: z.number(),
  onHandDelta: z.number(),
  reservedDelta: z.number(),
  ticketId: z.number().nullable(),
  reservationId: z.number().nullable(),
  shipmentId: z.number().nullable(),
  orderId: z.number().nullable(),
  countId: z.number().nullable(),
  transferStoreId: z.string().nullable(),
  transferId: z.number().nullable(),
  reason: z.string().nullable(),
  actor: z.string(),
  at: z.number(),
});

export const receiptIn = z.strictObject({
  partNo: partNoSchema,
  storeId: storeIdSchema,
  qty,
  reason: text('reason', 500),
});
export const balanceInTransitOut = balanceOut.extend({
  inTransit: z.number().meta({ description: 'shipped to this store by a transfer, on hand nowhere until received' }),
});

const transferLinesIn = z
  .array(z.strictObject({ partNo: partNoSchema, qty }))
  .min(1)
  .max(50);
export const transferIn = z.strictObject({
  from: storeIdSchema,
  to: storeIdSchema,
  lines: transferLinesIn,
  reason: text('reason', 500).nullable().default(null),
});
export const transferShipIn = z.strictObject({
  carrier: text('carrier', 100),
  trackingNo: text('trackingNo', 64),
  etaAt: z
    .number()
    .int()
    .min(0)
    .nullable()
    .default(null)
    .meta({ description: 'epoch ms; null: the fastest delivery time between the two stores' }),
});
export const transferReceiptIn = z.strictObject({ lines: transferLinesIn });
export const transferCancelIn = z.strictObject({ reason: text('reason', 500) });
export const transferDiscrepancyIn = z.strictObject({
  lines: z
    .array(z.strictObject({ partNo: partNoSchema, qty, reason: text('reason', 500) }))
    .min(1)
    .max(50),
});
export const transferQuery = z.strictObject({
  status: z.enum(TRANSFER_STATUSES, { error: `must be one of ${TRANSFER_STATUSES.join(', ')}` }).optional(),
  storeId: storeIdSchema.optional().meta({ description: 'transfers from or to this store' }),
});
export const transferOut = z.object({
  id: z.number(),
  number: z.string().meta({ description: 'TR-<year>-<n>' }),
  from: z.string(),
  to: z.string(),
  status: z.enum(TRANSFER_STATUSES),
  reason: z.string().nullable(),
  carrier: z.string().nullable(),
  trackingNo: z.string().nullable(),
  etaAt: z.number().nullable(),
  createdBy: z.string(),
  createdAt: z.number(),
  shippedBy: z.string().nullable(),
  shippedAt: z.number().nullable(),
  lines: z.array(
    z.object({
      partNo: z.string(),
      name: z.object({ en: z.string(), zh: z.string() }),
      qty: z.number(),
      shipped: z.number(),
      received: z.number(),
      lost: z.number(),
      outstanding: z.number().meta({ description: 'shipped, neither received nor booked as lost: in transit' }),
    }),
  ),
  discrepancy: z.number().meta({ description: 'after a short receipt: what is still missing (0 otherwise)' }),
});

export const reservationOut = z.object({
  id: z.number(),
  ticketId: z.number(),
  partNo: z.string(),
  storeId: z.string(),
  qty: z.number(),
  transport: z.enum(TRANSPORTS).nullable(),
  etaAt: z.number().nullable(),
  createdBy: z.string(),
  createdAt: z.number(),
  reserved: z.number(),
  inField: z.number(),
  consumed: z.number(),
  returned: z.number(),
  released: z.number(),
});

const shipmentLine = z.object({
  partNo: z.string(),
  name: z.object({ en: z.string(), zh: z.string() }),
  qty: z.number(),
});
export const shipmentOut = z.object({
  id: z.number(),
  noticeNo: z.string().meta({ description: '售后服务发运通知 number' }),
  ticketId: z.number().nullable(),
  customerId: z.string().nullable(),
  storeId: z.string(),
  carrier: z.string(),
  trackingNo: z.string(),
  consignee: z.string(),
  address: z.string(),
  shippedAt: z.number(),
  lines: z.array(shipmentLine),
});
/** What a customer sees of a shipment to its unit: no store, no staff. */
export const customerShipmentOut = shipmentOut.omit({ storeId: true });

const eta = z.object({ transport: z.enum(TRANSPORTS), hours: z.number() });
export const proposalOut = z.object({
  ticketId: z.number(),
  planCode: z.string().nullable(),
  origin: z.object({ lat: z.number(), lon: z.number(), source: z.string() }).nullable(),
  lines: z.array(
    z.object({
      partNo: z.string(),
      name: z.object({ en: z.string(), zh: z.string() }),
      qty: z.number(),
      covered: z.number(),
      proposedStoreId: z.string().nullable(),
      options: z.array(
        z.object({
          storeId: z.string(),
          available: z.number(),
          onHand: z.number(),
          distanceKm: z.number().nullable(),
          etas: z.array(eta),
          inTransit: z
            .array(z.object({ transferNo: z.string(), qty: z.number(), etaAt: z.number().nullable() }))
            .meta({ description: 'shipped to this store by transfers, not yet received: per transfer with its ETA' }),
        }),
      ),
      shortage: z
        .object({
          missing: z.number(),
          elsewhere: z.array(z.object({ storeId: z.string(), available: z.number() })),
          onOrder: z.array(
            z.object({ orderNo: z.string(), storeId: z.string(), qty: z.number(), expectedAt: z.number() }),
          ),
          contract: z.boolean(),
          task: z
            .object({
              id: z.number(),
              kind: z.enum(SHORTAGE_KINDS),
              status: z.enum(['open', 'done']),
              automatic: z.boolean(),
            })
            .nullable()
            .meta({
              description:
                'the ticket’s shortage task (缺件) for the part: raised automatically, once, when no store has it and no order contract covers it',
            }),
        })
        .nullable(),
    }),
  ),
});

export const ticketStockOut = z.object({
  proposal: proposalOut,
  reservations: z.array(reservationOut),
  shipments: z.array(shipmentOut),
});

export const nearQuery = z
  .strictObject({
    lat: z.coerce.number().min(-90).max(90).optional(),
    lon: z.coerce.number().min(-180).max(180).optional(),
  })
  .refine((q) => (q.lat === undefined) === (q.lon === undefined), {
    error: 'give lat and lon together',
    path: ['lon'],
  });

export const reserveIn = z.strictObject({
  lines: z
    .array(
      z.strictObject({
        partNo: partNoSchema,
        storeId: storeIdSchema,
        qty,
        transport: z.enum(TRANSPORTS).optional(),
        etaAt: z.number().int().min(0).optional(),
      }),
    )
    .min(1)
    .max(50),
});

export const releaseIn = z.strictObject({ qty: qty.optional(), reason: text('reason', 500).optional() });

export const dispatchIn = z.strictObject({
  mode: z.enum(['shipment', 'issue']).default('shipment'),
  reservationIds: z.array(numericIdSchema).min(1).max(50),
  carrier: text('carrier', 100).meta({ description: 'the carrier, or who the parts were handed to (issue)' }),
  trackingNo: text('trackingNo', 64),
  consignee: text('consignee', 200),
  address: text('address', 300),
});

export const consumeIn = z.strictObject({ reservationId: numericIdSchema, qty });
export const returnIn = z.strictObject({ reservationId: numericIdSchema, qty, storeId: storeIdSchema.optional() });

export const contractIn = z.strictObject({
  number: text('number', 64),
  supplierId: text('supplierId', 64).meta({ description: 'the suppliers register’s id (no foreign key)' }),
  supplierName: text('supplierName', 200),
  currency: z.string().regex(/^[A-Z]{3}$/, { error: 'must be a currency code like CNY' }),
  validFrom: z.number().int().min(0),
  validTo: z.number().int().min(0),
  items: z
    .array(
      z.strictObject({
        partNo: partNoSchema,
        unitPriceCents: z.number().int().min(0).max(1e12),
        leadTimeDays: z.number().int().min(0).max(365),
      }),
    )
    .min(1)
    .max(500),
});
export const contractOut = contractIn.extend({ id: z.number() });

export const orderIn = z.strictObject({
  contractId: numericIdSchema,
  storeId: storeIdSchema,
  lines: z
    .array(z.strictObject({ partNo: partNoSchema, qty }))
    .min(1)
    .max(200),
});
export const orderOut = z.object({
  id: z.number(),
  number: z.string(),
  contractId: z.number(),
  contractNumber: z.string(),
  supplierId: z.string(),
  supplierName: z.string(),
  storeId: z.string(),
  status: z.enum(ORDER_STATUSES),
  expectedAt: z.number(),
  createdBy: z.string(),
  createdAt: z.number(),
  lines: z.array(z.object({ partNo: z.string(), qty: z.number(), unitPriceCents: z.number(), received: z.number() })),
});
export const orderReceiptIn = z.strictObject({
  lines: z
    .array(z.strictObject({ partNo: partNoSchema, qty }))
    .min(1)
    .max(200),
});

export const proposalRowOut = z.object({
  partNo: z.string(),
  storeId: z.string(),
  min: z.number(),
  max: z.number(),
  onHand: z.number(),
  available: z.number(),
  onOrder: z.number(),
  inTransit: z.number().meta({ description: 'shipped to the store by a transfer and not yet received' }),
  proposedQty: z.number(),
  contract: z
    .object({
      id: z.number(),
      number: z.string(),
      supplierName: z.string(),
      unitPriceCents: z.number(),
      leadTimeDays: z.number(),
    })
    .nullable(),
  path: z.enum(['order', 'transfer', 'shortage']),
});

export const shortageIn = z.strictObject({
  partNo: partNoSchema,
  qty,
  ticketId: numericIdSchema.nullable().default(null),
  note: text('note', 1000).nullable().default(null),
});
export const shortageOut = z.object({
  id: z.number(),
  partNo: z.string(),
  qty: z.number(),
  ticketId: z.number().nullable(),
  kind: z.enum(SHORTAGE_KINDS).meta({ description: 'machining_documents 加工技术文件 / purchase_list 采购清单' }),
  status: z.enum(['open', 'done']),
  note: z.string().nullable(),
  createdBy: z.string(),
  createdAt: z.number(),
  doneBy: z.string().nullable(),
  doneAt: z.number().nullable(),
  outcome: z.string().nullable(),
  automatic: z
    .boolean()
    .meta({ description: 'raised by the ticket’s reservation proposal (no stock in any store, no order contract)' }),
});
export const shortageDoneIn = z.strictObject({ outcome: text('outcome', 2000) });

export const countIn = z.strictObject({ storeId: storeIdSchema });
export const countOut = z.object({
  id: z.number(),
  storeId: z.string(),
  status: z.enum(['open', 'booked']),
  createdBy: z.string(),
  createdAt: z.number(),
  bookedBy: z.string().nullable(),
  bookedAt: z.number().nullable(),
  lines: z.array(
    z.object({
      partNo: z.string(),
      expected: z.number(),
      counted: z.number().nullable(),
      difference: z.number().nullable(),
      reason: z.string().nullable(),
      countedBy: z.string().nullable(),
    }),
  ),
});
export const countLinesIn = z.strictObject({
  lines: z
    .array(
      z.strictObject({
        partNo: partNoSchema,
        counted: z.number().int().min(0).max(1_000_000),
        reason: text('reason', 500).nullable().default(null),
      }),
    )
    .min(1)
    .max(500),
});
