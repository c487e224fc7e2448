/** The error codes of notifications: contacts, pages (see core/errors.ts). */
declare module '../core/errors.ts' {
  interface ErrorCodes {
    CONTACT_NOT_FOUND: true;
    PAGE_NOT_FOUND: true;
    /** A page acknowledgement link that this server did not sign. */
    PAGE_TOKEN_INVALID: true;
  }
}

export {};
