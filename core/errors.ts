/** Stable string codes for every error the platform raises on purpose. Never branch on message text. */
export const ERROR_CODES = [
  'CONFIG_INVALID',
  'VEHICLE_NOT_FOUND',
  'VEHICLE_EXISTS',
  'VEHICLE_ID_INVALID',
  'ACCOUNT_NOT_FOUND',
  'ACCOUNT_EXISTS',
  'INVALID_ARGUMENT',
  'STORAGE_FAILED',
  'SHUTTING_DOWN',
  'TICKET_NOT_FOUND',
  'ALARM_NOT_FOUND',
  'INVALID_TRANSITION',
  'PLAN_NOT_FOUND',
  'CUSTOMER_NOT_FOUND',
  'CUSTOMER_EXISTS',
  'INVALID_CURSOR',
  // the web console's API
  'VALIDATION_FAILED',
  'INVALID_JSON',
  'UNSUPPORTED_MEDIA_TYPE',
  'PAYLOAD_TOO_LARGE',
  'NOT_FOUND',
  'UNAUTHENTICATED',
  'LOGIN_FAILED',
  'FORBIDDEN',
  'CSRF_INVALID',
  'PASSWORD_CHANGE_REQUIRED',
  'RATE_LIMITED',
  'LAST_ADMIN',
  'INTERNAL',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export class PlatformError extends Error {
  readonly code: ErrorCode;
  readonly details?: unknown;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; details?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PlatformError';
    this.code = code;
    this.details = options?.details;
  }
}

export function isPlatformError(err: unknown, code?: ErrorCode): err is PlatformError {
  return err instanceof PlatformError && (code === undefined || err.code === code);
}
