/** The error codes of remote sessions' guided steps and live stream (see core/errors.ts). */
declare module '../core/errors.ts' {
  interface ErrorCodes {
    /** No such remote session, or not one the caller takes part in (the same answer, so ids cannot be probed). */
    SESSION_NOT_FOUND: true;
    /** No step with that index in the session. */
    STEP_NOT_FOUND: true;
  }
}

export {};
