import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { isPlatformError, type ErrorCode } from '../core/errors.ts';
// The parts whose codes the API answers declare them in these files (declaration merging into
// ErrorCodes): named here so that every program that compiles this table sees them, the console's too.
import type {} from '../registry/errors.ts';
import type {} from '../diagnostics/errors.ts';
import type {} from '../diagnostics/service-orders/errors.ts';
import type {} from '../commands/errors.ts';
import type {} from '../remote/errors.ts';
import type {} from '../notifications/errors.ts';
import type {} from '../service/errors.ts';
import type {} from './auth/errors.ts';
import type {} from '../reports/errors.ts';
import type {} from '../resources/stock/errors.ts';
import type {} from '../resources/errors.ts';
import type {} from '../diagnostics/support-plans/errors.ts';
import type {} from '../cluster/errors.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A route's own codes for Fastify's body errors (a photo upload: PHOTO_TOO_LARGE, PHOTO_TYPE_UNSUPPORTED). */
    bodyErrors?: { tooLarge?: { code: ErrorCode; message: string }; mediaType?: { code: ErrorCode; message: string } };
  }
}

/** The error codes only the web API raises (see core/errors.ts). */
declare module '../core/errors.ts' {
  interface ErrorCodes {
    /** The path, query or body does not match the route's schema. */
    VALIDATION_FAILED: true;
    INVALID_JSON: true;
    UNSUPPORTED_MEDIA_TYPE: true;
    PAYLOAD_TOO_LARGE: true;
    /** No such route. */
    NOT_FOUND: true;
    UNAUTHENTICATED: true;
    LOGIN_FAILED: true;
    FORBIDDEN: true;
    CSRF_INVALID: true;
    PASSWORD_CHANGE_REQUIRED: true;
    RATE_LIMITED: true;
    /** The last enabled admin cannot be removed, disabled or demoted. */
    LAST_ADMIN: true;
    /** A bug: the details go to the log, not to the client. */
    INTERNAL: true;
  }
}

/**
 * HTTP status for every error code of every part: one typed table (a code without a status does
 * not compile); docs/api.md lists the same codes.
 */
export const HTTP_STATUS: Record<ErrorCode, number> = {
  CONFIG_INVALID: 500,
  VEHICLE_NOT_FOUND: 404,
  VEHICLE_EXISTS: 409,
  VEHICLE_ID_INVALID: 400,
  VEHICLE_ID_RESERVED: 400,
  ACCOUNT_NOT_FOUND: 404,
  ACCOUNT_EXISTS: 409,
  ADMIN_LOCKOUT: 409,
  INVALID_ARGUMENT: 400,
  STORAGE_FAILED: 503,
  SHUTTING_DOWN: 503,
  OWNER_LOST: 409,
  REDIS_UNAVAILABLE: 503,
  TICKET_NOT_FOUND: 404,
  SERVICE_ORDER_NOT_FOUND: 404,
  ORDER_KIND_MISMATCH: 409,
  ORDER_STATUS_INVALID: 409,
  ORDER_ALREADY_SIGNED: 409,
  ORDER_RECORD_NOT_FOUND: 404,
  ALARM_NOT_FOUND: 404,
  INVALID_TRANSITION: 409,
  ALARMS_ACTIVE: 409,
  RESOLUTION_REQUIRED: 400,
  SAME_PERSON_VERIFY: 403,
  TICKET_CLOSED: 409,
  MERGE_VEHICLE_MISMATCH: 409,
  STEP_OUT_OF_ORDER: 409,
  STEP_ALREADY_RECORDED: 409,
  STEP_NOT_IN_MODE: 400,
  MODE_NOT_CURRENT: 409,
  STEP_DETAILS_REQUIRED: 400,
  MODE_STEP_NOT_FOUND: 404,
  STEP_NOT_CONFIRMABLE: 409,
  STEP_ALREADY_CONFIRMED: 409,
  PLAN_NOT_FOUND: 404,
  SESSION_NOT_FOUND: 404,
  STEP_NOT_FOUND: 404,
  PHOTO_NOT_FOUND: 404,
  PHOTO_TOO_LARGE: 413,
  PHOTO_TYPE_UNSUPPORTED: 415,
  PHOTO_TYPE_MISMATCH: 415,
  INVITE_NOT_FOUND: 404,
  GUEST_LINK_INVALID: 401,
  SESSION_INVALID_STATE: 409,
  SESSION_ALREADY_OPEN: 409,
  SESSION_NOT_JOINED: 409,
  DUTY_SHIFT_NOT_FOUND: 404,
  CUSTOMER_NOT_FOUND: 404,
  CUSTOMER_EXISTS: 409,
  INVALID_CURSOR: 400,
  NOTIFICATION_NOT_FOUND: 404,
  NOTIFICATION_NOT_FAILED: 409,
  NOTIFY_TARGET_NOT_FOUND: 404,
  CONTACT_NOT_FOUND: 404,
  SURVEY_NOT_FOUND: 404,
  SURVEY_ANSWERED: 409,
  FOLLOW_UP_NOT_FOUND: 404,
  FOLLOW_UP_DONE: 409,
  PAGE_NOT_FOUND: 404,
  PAGE_TOKEN_INVALID: 404,
  VALIDATION_FAILED: 400,
  INVALID_JSON: 400,
  UNSUPPORTED_MEDIA_TYPE: 415,
  PAYLOAD_TOO_LARGE: 413,
  NOT_FOUND: 404,
  UNAUTHENTICATED: 401,
  LOGIN_FAILED: 401,
  FORBIDDEN: 403,
  CSRF_INVALID: 403,
  PASSWORD_CHANGE_REQUIRED: 403,
  RATE_LIMITED: 429,
  LAST_ADMIN: 409,
  COMMAND_UNKNOWN: 400,
  COMMAND_NOT_ALLOWED: 403,
  CONFIRMATION_REQUIRED: 428,
  VEHICLE_OFFLINE: 409,
  COMMAND_CONFLICT: 409,
  COMMAND_NOT_FOUND: 404,
  PASSWORD_TOO_SHORT: 400,
  PASSWORD_TOO_SIMPLE: 400,
  PASSWORD_COMMON: 400,
  PASSWORD_PERSONAL: 400,
  TWO_FACTOR_REQUIRED: 403,
  TWO_FACTOR_FAILED: 401,
  TWO_FACTOR_STATE: 409,
  REAUTH_REQUIRED: 403,
  RESET_LINK_INVALID: 404,
  LOGIN_SESSION_NOT_FOUND: 404,
  TOKEN_NOT_FOUND: 404,
  REPORT_FONT_MISSING: 503,
  PART_NOT_FOUND: 404,
  STORE_NOT_FOUND: 404,
  STOCK_EXISTS: 409,
  INSUFFICIENT_STOCK: 409,
  RESERVATION_NOT_FOUND: 404,
  SHIPMENT_NOT_FOUND: 404,
  ORDER_CONTRACT_NOT_FOUND: 404,
  PURCHASE_ORDER_NOT_FOUND: 404,
  STOCK_COUNT_NOT_FOUND: 404,
  SHORTAGE_NOT_FOUND: 404,
  TRANSFER_NOT_FOUND: 404,
  STOCK_INVALID_STATE: 409,
  TOOL_NOT_FOUND: 404,
  TOOL_EXISTS: 409,
  TOOL_NOT_AVAILABLE: 409,
  SUPPLIER_NOT_FOUND: 404,
  SUPPLIER_EXISTS: 409,
  QUALITY_RECORD_EXISTS: 409,
  FEEDBACK_NOT_FOUND: 404,
  FEEDBACK_ANSWERED: 409,
  PARTNER_NOT_FOUND: 404,
  PARTNER_DISPATCH_NOT_FOUND: 404,
  PARTNER_DISPATCH_INVALID: 409,
  PERSON_NOT_FOUND: 404,
  PERSON_EXISTS: 409,
  SUPPORT_PLAN_NOT_FOUND: 404,
  PLAN_DOCUMENT_REQUIRED: 409,
  LETTER_NOT_AVAILABLE: 409,
  INTERNAL: 500,
};

/** Every error code an answer of the API may carry (the OpenAPI document's enum). */
export const ERROR_CODES = Object.keys(HTTP_STATUS) as [ErrorCode, ...ErrorCode[]];

/** One field a request got wrong: where (`body.contacts.0.phone`) and why. */
export interface FieldError {
  path: string;
  message: string;
}

export function sendError(reply: FastifyReply, code: ErrorCode, message: string, fields?: FieldError[]) {
  return reply.code(HTTP_STATUS[code]).send({ error: { code, message, ...(fields?.length ? { fields } : {}) } });
}

const PART: Record<string, string> = { body: 'body', querystring: 'query', params: 'path', headers: 'header' };

/** Each field a validation failed on, with its reason ("body.contacts.0.phone": "phone must be …"). */
function validationFields(err: FastifyError): FieldError[] {
  const where = PART[err.validationContext ?? ''] ?? err.validationContext ?? 'request';
  return (err.validation ?? []).slice(0, 20).map((v) => {
    const inner = v.instancePath.replace(/^\//, '').replace(/\//g, '.');
    const path = inner ? `${where}.${inner}` : where;
    const params = v.params as { keys?: string[] } | undefined;
    if (v.keyword === 'unrecognized_keys' && params?.keys)
      return { path, message: `unknown field${params.keys.length > 1 ? 's' : ''} ${params.keys.join(', ')}` };
    return { path, message: v.message ?? 'is invalid' };
  });
}

/** "query.maxPoints: must be at most 5000; body.contacts.0.phone: …" */
function validationMessage(err: FastifyError, fields: FieldError[]): string {
  const parts = fields.slice(0, 5).map((f) => `${f.path}: ${f.message}`);
  const more = (err.validation?.length ?? 0) > 5 ? ` (and ${err.validation!.length - 5} more)` : '';
  return parts.join('; ') + more;
}

/**
 * One error handler for the whole API: platform errors by their code, validation errors as 400
 * VALIDATION_FAILED naming the field, Fastify's own client errors by kind; anything else is a
 * 500 INTERNAL whose details go to the log, never to the client.
 */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
    if (hasZodFastifySchemaValidationErrors(err)) {
      const fields = validationFields(err);
      return sendError(reply, 'VALIDATION_FAILED', validationMessage(err, fields), fields);
    }
    if (isPlatformError(err)) {
      const status = HTTP_STATUS[err.code];
      if (status >= 500) req.log.error({ err }, 'request failed');
      if (
        err.code === 'RATE_LIMITED' &&
        typeof err.details === 'object' &&
        err.details &&
        'retryAfterS' in err.details
      ) {
        void reply.header('retry-after', String((err.details as { retryAfterS: number }).retryAfterS));
      }
      return sendError(reply, err.code, err.message);
    }
    const own = req.routeOptions.config.bodyErrors;
    if (own?.tooLarge && err.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
      return sendError(reply, own.tooLarge.code, own.tooLarge.message);
    if (own?.mediaType && err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE')
      return sendError(reply, own.mediaType.code, own.mediaType.message);
    switch (err.code) {
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        return sendError(
          reply,
          'UNSUPPORTED_MEDIA_TYPE',
          `send JSON (content-type: application/json), not ${req.headers['content-type'] ?? 'nothing'}`,
        );
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return sendError(reply, 'PAYLOAD_TOO_LARGE', 'the request body is too large');
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
        return sendError(reply, 'INVALID_JSON', 'the body is empty; send a JSON object');
      case 'FST_ERR_CTP_INVALID_JSON_BODY':
        return sendError(reply, 'INVALID_JSON', 'the body is not valid JSON');
    }
    if (err instanceof SyntaxError && err.statusCode === 400)
      return sendError(reply, 'INVALID_JSON', 'the body is not valid JSON');
    if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
      return sendError(
        reply,
        err.statusCode === 404
          ? 'NOT_FOUND'
          : err.statusCode === 413
            ? 'PAYLOAD_TOO_LARGE'
            : err.statusCode === 415
              ? 'UNSUPPORTED_MEDIA_TYPE'
              : 'VALIDATION_FAILED',
        err.message,
      );
    }
    req.log.error({ err }, 'request failed');
    return sendError(reply, 'INTERNAL', 'internal error; it has been logged');
  });
  app.setNotFoundHandler((req, reply) =>
    sendError(reply, 'NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`),
  );
}
