/** The error codes of the resource register (tools, suppliers and quality, partners, people; see core/errors.ts). */
declare module '../core/errors.ts' {
  interface ErrorCodes {
    TOOL_NOT_FOUND: true;
    TOOL_EXISTS: true;
    /** The tool is checked out, in maintenance or retired (check-out), or not checked out (return). */
    TOOL_NOT_AVAILABLE: true;
    SUPPLIER_NOT_FOUND: true;
    SUPPLIER_EXISTS: true;
    /** This ticket's cause is already attributed to this part. */
    QUALITY_RECORD_EXISTS: true;
    FEEDBACK_NOT_FOUND: true;
    /** The supplier's answer to this quality feedback is already recorded. */
    FEEDBACK_ANSWERED: true;
    PARTNER_NOT_FOUND: true;
    PARTNER_DISPATCH_NOT_FOUND: true;
    /** The partner is inactive, or the dispatch's outcome is already recorded. */
    PARTNER_DISPATCH_INVALID: true;
    PERSON_NOT_FOUND: true;
    PERSON_EXISTS: true;
  }
}

export {};
