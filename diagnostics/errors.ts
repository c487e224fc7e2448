/** The error codes of diagnostics' records: alarms, tickets, service orders, emergency plans (see core/errors.ts). */
declare module '../core/errors.ts' {
  interface ErrorCodes {
    ALARM_NOT_FOUND: true;
    TICKET_NOT_FOUND: true;
    PLAN_NOT_FOUND: true;
    SERVICE_ORDER_NOT_FOUND: true;
    /** The ticket's status does not allow that action now, or the alarm is already acknowledged. */
    INVALID_TRANSITION: true;
    /** Verifying or closing a ticket whose alarms are still active, without an override reason. */
    ALARMS_ACTIVE: true;
    /** Marking a ticket repaired without the root cause and the work done. */
    RESOLUTION_REQUIRED: true;
    /** The one who marked the ticket repaired cannot verify it too (four-eyes). */
    SAME_PERSON_VERIFY: true;
    /** A closed, cancelled, verified or merged ticket: assignment, service mode, ETA and merging are refused. */
    TICKET_CLOSED: true;
    /** Merging tickets of different vehicles (or without a vehicle). */
    MERGE_VEHICLE_MISMATCH: true;
  }
}

export {};
