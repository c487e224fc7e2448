/** The error codes of service reports (see core/errors.ts). */
declare module '../core/errors.ts' {
  interface ErrorCodes {
    /** The CJK font reports are printed with (REPORT_FONT_FILE) is missing or unreadable: no PDF can be made. */
    REPORT_FONT_MISSING: true;
    /** The ticket has no return-to-factory repair recorded (its repaired_at_factory step): no work-contact letter (《工作联系函》) yet. */
    LETTER_NOT_AVAILABLE: true;
  }
}

export {};
