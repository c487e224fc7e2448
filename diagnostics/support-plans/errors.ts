/** The error codes of the support plan document (see core/errors.ts; HTTP statuses in web/errors.ts). */
declare module '../../core/errors.ts' {
  interface ErrorCodes {
    /** No issued version (forms), no such version, or no draft to issue. */
    SUPPORT_PLAN_NOT_FOUND: true;
    /** The note-only `issue_plan` step: the plan is issued as a document (POST /api/tickets/:id/support-plan/issue). */
    PLAN_DOCUMENT_REQUIRED: true;
  }
}

export {};
