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
    /** A service-mode step recorded before an earlier step of its mode, or timed before the previous one (tickets/mode-steps.ts). */
    STEP_OUT_OF_ORDER: true;
    /** A service-mode step already recorded on the ticket in that mode. */
    STEP_ALREADY_RECORDED: true;
    /** A step name that is not one of the mode's steps. */
    STEP_NOT_IN_MODE: true;
    /** A step of a mode the ticket is not in now (set the service mode first). */
    MODE_NOT_CURRENT: true;
    /** A step without the details it needs (the transport, the carrier's method, the count, the loaner's serial…). */
    STEP_DETAILS_REQUIRED: true;
    /** No such service-mode step on the ticket. */
    MODE_STEP_NOT_FOUND: true;
    /** Confirming a step the customer side does not confirm. */
    STEP_NOT_CONFIRMABLE: true;
    /** Confirming a step twice. */
    STEP_ALREADY_CONFIRMED: true;
  }
}

export {};
