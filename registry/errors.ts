/** The error codes the registry raises (see core/errors.ts); web/auth raises the ACCOUNT_ ones for console accounts too. */
declare module '../core/errors.ts' {
  interface ErrorCodes {
    VEHICLE_NOT_FOUND: true;
    VEHICLE_EXISTS: true;
    /** A vehicle id outside the id alphabet (protocol/topics.ts). */
    VEHICLE_ID_INVALID: true;
    /** A new vehicle id with the service accounts' `svc-` prefix. */
    VEHICLE_ID_RESERVED: true;
    CUSTOMER_NOT_FOUND: true;
    CUSTOMER_EXISTS: true;
    ACCOUNT_NOT_FOUND: true;
    ACCOUNT_EXISTS: true;
  }
}

export {};
