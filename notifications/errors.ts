/** Error codes of the notifications part (see core/errors.ts). */
declare module '../core/errors.ts' {
  interface ErrorCodes {
    /** No such delivery (or, in an inbox, not one of the caller's). */
    NOTIFICATION_NOT_FOUND: true;
    /** Only a failed delivery can be sent again. */
    NOTIFICATION_NOT_FAILED: true;
    /** No disabled webhook endpoint or robot of that id. */
    NOTIFY_TARGET_NOT_FOUND: true;
    /** No such contact (or not one of the caller's unit). */
    CONTACT_NOT_FOUND: true;
    PAGE_NOT_FOUND: true;
    /** A page acknowledgement link that this server did not sign. */
    PAGE_TOKEN_INVALID: true;
  }
}
export {};
