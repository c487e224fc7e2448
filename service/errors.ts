/** The error codes of the service records: surveys and their follow-ups (see core/errors.ts). */
declare module '../core/errors.ts' {
  interface ErrorCodes {
    SURVEY_NOT_FOUND: true;
    /** The survey was answered already: one answer per ticket. */
    SURVEY_ANSWERED: true;
    FOLLOW_UP_NOT_FOUND: true;
    /** The follow-up's outcome is recorded already. */
    FOLLOW_UP_DONE: true;
  }
}

export {};
