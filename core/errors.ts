/**
 * Every error the platform raises on purpose is a PlatformError with a stable string code: branch
 * on `code`, never on the message text.
 *
 * Codes belong to the part that raises them. Each part declares its own in its `errors.ts` by adding
 * them to `ErrorCodes` (TypeScript declaration merging), e.g. registry/errors.ts:
 *
 *   declare module '../core/errors.ts' {
 *     interface ErrorCodes { VEHICLE_NOT_FOUND: true }
 *   }
 *
 * so that `ErrorCode` is the union of every part's codes and a misspelt code does not compile. The
 * few codes any part may raise are declared here. The web API answers each code with the HTTP status
 * of one typed table (web/errors.ts `HTTP_STATUS`, which must name them all); docs/api.md lists them.
 */
export interface ErrorCodes {
  /** Well-formed but not acceptable input: a bad rule or plan file, power profile, password, … */
  INVALID_ARGUMENT: true;
  /** A store could not read or write. */
  STORAGE_FAILED: true;
  /** The part is stopping and takes no more work. */
  SHUTTING_DOWN: true;
  /** A bad configuration value (start-up only: the platform's settings, the CLIs' flags). */
  CONFIG_INVALID: true;
  /** A list cursor that this process did not issue for this list and these filters (core/cursor.ts). */
  INVALID_CURSOR: true;
}
export type ErrorCode = keyof ErrorCodes;

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
