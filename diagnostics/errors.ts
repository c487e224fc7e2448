/** The error codes of diagnostics' records: alarms, tickets, service orders, emergency plans (see core/errors.ts). */
declare module '../core/errors.ts' {
  interface ErrorCodes {
    ALARM_NOT_FOUND: true;
    TICKET_NOT_FOUND: true;
    PLAN_NOT_FOUND: true;
    SERVICE_ORDER_NOT_FOUND: true;
    /** The ticket's status does not allow that action now, or the alarm is already acknowledged. */
    INVALID_TRANSITION: true;
  }
}

export {};
