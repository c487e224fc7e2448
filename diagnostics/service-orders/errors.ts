/** The error codes of service orders' steps and records (see core/errors.ts; web/errors.ts maps them). */
declare module '../../core/errors.ts' {
  interface ErrorCodes {
    /** A record or application of another kind of order (a visit on a training order, topics on a patrol). */
    ORDER_KIND_MISMATCH: true;
    /** The order's status does not take that record or sign-off now (a visit before it starts, a sign-off before it is done). */
    ORDER_STATUS_INVALID: true;
    /** The customer side has signed the order off already. */
    ORDER_ALREADY_SIGNED: true;
    /** No such record (or finding) on that order. */
    ORDER_RECORD_NOT_FOUND: true;
  }
}

export {};
